/** @jsxImportSource @kitajs/html */
import type { PasswordLimits } from "../account/account.tsx";
import { Csrf, FieldError, Layout } from "../layout/layout.tsx";
import type { PageContext } from "../layout/page.ts";

/** Why an invite link cannot be used. */
export type ClosedInvite = "used" | "revoked" | "expired" | "withdrawn" | "first_done" | "unknown";

/** The sign-up form behind a valid invite link. */
export function RegisterPage(props: {
  page: PageContext;
  secret: string;
  inviter: string | null;
  passwordLimits: PasswordLimits;
  name?: string;
  errors?: Record<string, string>;
}) {
  const { base } = props.page;
  return (
    <Layout page={props.page} title="Join">
      <h1 safe>Join {props.page.siteName}</h1>
      {props.inviter ? (
        <p>
          You were invited by <strong safe>{props.inviter}</strong>.
        </p>
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
      <form class="stack card" method="post" action={`${base}/register/${encodeURIComponent(props.secret)}`}>
        <Csrf page={props.page} />
        <label>
          Name
          <input
            type="text"
            name="name"
            value={props.name ?? ""}
            required
            minlength="3"
            maxlength="32"
            pattern="[A-Za-z0-9][A-Za-z0-9_.\-]{2,31}"
            autocomplete="username"
            aria-describedby={props.errors?.name ? "name-error" : "name-help"}
          />
          {props.errors?.name ? (
            <FieldError errors={props.errors} name="name" />
          ) : (
            <span class="help" id="name-help">
              3 to 32 letters, digits, '_', '-' or '.', starting with a letter or digit.
            </span>
          )}
        </label>
        <label>
          Password
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
          Confirm the password
          <input
            type="password"
            name="confirm"
            required
            minlength={String(props.passwordLimits.min)}
            maxlength={String(props.passwordLimits.max)}
            autocomplete="new-password"
          />
          <FieldError errors={props.errors} name="confirm" />
        </label>
        <button type="submit">Create my account</button>
      </form>
    </Layout>
  );
}

const CLOSED: Record<ClosedInvite, { title: string; message: string }> = {
  used: {
    title: "Invite already used",
    message: "This invite link has already been used to create an account. Ask for a new invite.",
  },
  revoked: {
    title: "Invite revoked",
    message: "The member who made this invite link revoked it. Ask for a new invite.",
  },
  expired: {
    title: "Invite expired",
    message: "This invite link has expired. Ask the member who sent it for a new one.",
  },
  withdrawn: {
    title: "Invite withdrawn",
    message:
      "The member who made this invite may no longer invite (their account was disabled or their invite role revoked), so it cannot be used. Ask another member for an invite.",
  },
  first_done: {
    title: "First account made",
    message:
      "This link was for the site's first account, which exists now: it cannot make another. Ask a member for an invite.",
  },
  unknown: {
    title: "Unknown invite",
    message: "There is no invite with this link. Check that you copied the whole link.",
  },
};

/** Why an invite link cannot be used, in plain words. */
export function InviteClosedPage(props: { page: PageContext; state: ClosedInvite }) {
  const { title, message } = CLOSED[props.state];
  return (
    <Layout page={props.page} title={title}>
      <h1 safe>{title}</h1>
      <div class="notice bad" safe>
        {message}
      </div>
      <p>
        <a href={`${props.page.base}/login`}>Log in</a> if you already have an account.
      </p>
    </Layout>
  );
}
