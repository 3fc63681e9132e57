/** @jsxImportSource @kitajs/html */
import { FieldError, Layout } from "../layout/layout.tsx";
import type { PageContext } from "../layout/page.ts";

/** "Forgot password": a name or address to mail a reset link to, or, without mail, whom to ask. */
export function ForgotPage(props: {
  page: PageContext;
  mail: boolean;
  who?: string;
  sent?: string;
  errors?: Record<string, string>;
}) {
  const { base } = props.page;
  return (
    <Layout page={props.page} title="Forgot password">
      <h1>Forgot your password?</h1>
      {props.sent ? (
        <div class="notice good" role="status" safe>
          {props.sent}
        </div>
      ) : (
        ""
      )}
      {props.errors?.form ? (
        <div class="notice bad" role="alert" safe>
          {props.errors.form}
        </div>
      ) : (
        ""
      )}
      {props.mail ? (
        <form class="stack card" method="post" action={`${base}/forgot`}>
          <p>
            Enter your name or the e-mail address on your account. If the account has an address, a link to
            choose a new password is sent there.
          </p>
          <label>
            Name or e-mail address
            <input
              type="text"
              name="who"
              value={props.who ?? ""}
              required
              maxlength="254"
              autocomplete="username"
            />
            <FieldError errors={props.errors} name="who" />
          </label>
          <button type="submit">Send a reset link</button>
        </form>
      ) : (
        <p class="card" id="ask-staff">
          This site sends no mail. Ask a moderator or an administrator for a password reset link: they can
          issue one from your member page.
        </p>
      )}
      <p class="muted">
        No address on your account, or lost your phone too? Staff can issue a reset link; one from staff also
        removes your second factors so you can set them up again.
      </p>
      <p>
        <a href={`${base}/login`}>Back to log in</a>
      </p>
    </Layout>
  );
}

/** The page a reset link opens: a new password, twice. */
export function ResetPage(props: {
  page: PageContext;
  name: string;
  action: string;
  passwordLimits: { min: number; max: number };
  errors?: Record<string, string>;
}) {
  return (
    <Layout page={props.page} title="Choose a new password">
      <h1>Choose a new password</h1>
      <p>
        For <strong safe>{props.name}</strong>. The link works once; your other log-ins end.
      </p>
      {props.errors?.form ? (
        <div class="notice bad" role="alert" safe>
          {props.errors.form}
        </div>
      ) : (
        ""
      )}
      <form class="stack card" method="post" action={props.action}>
        <input type="text" name="username" value={props.name} autocomplete="username" hidden />
        <label>
          New password
          <input
            type="password"
            name="password"
            required
            minlength={String(props.passwordLimits.min)}
            maxlength={String(props.passwordLimits.max)}
            autocomplete="new-password"
          />
          <FieldError errors={props.errors} name="password" />
        </label>
        <label>
          The same again
          <input
            type="password"
            name="confirm"
            required
            maxlength={String(props.passwordLimits.max)}
            autocomplete="new-password"
          />
          <FieldError errors={props.errors} name="confirm" />
        </label>
        <button type="submit">Set the password</button>
      </form>
    </Layout>
  );
}
