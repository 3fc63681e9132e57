/** @jsxImportSource @kitajs/html */
import { FieldError, Layout } from "../layout/layout.tsx";
import type { PageContext } from "../layout/page.ts";

/** The second step of a log-in: a code from the authenticator app or a recovery code, or a passkey. */
export function SecondFactorPage(props: {
  page: PageContext;
  name: string;
  next?: string;
  /** Whether the member has a code to type (an authenticator app; recovery codes go with it). */
  codes: boolean;
  passkeys: boolean;
  errors?: Record<string, string>;
}) {
  const { base } = props.page;
  const query = props.next ? `?next=${encodeURIComponent(props.next)}` : "";
  return (
    <Layout page={props.page} title="Second factor" passkeys={props.passkeys}>
      <h1>Second factor</h1>
      <p>
        The password of <strong safe>{props.name}</strong> was right. Prove it is you with your second factor.
      </p>
      {props.errors?.form ? (
        <div class="notice bad" role="alert" safe>
          {props.errors.form}
        </div>
      ) : (
        ""
      )}
      {props.passkeys ? (
        <section class="card stack">
          <button
            type="button"
            id="passkey-login"
            data-options-url={`${base}/login/second/passkey/options`}
            data-verify-url={`${base}/login/second/passkey${query}`}
          >
            Use a passkey
          </button>
          <div class="notice bad" role="alert" id="passkey-problem" hidden></div>
        </section>
      ) : (
        ""
      )}
      <form class="stack card" method="post" action={`${base}/login/second${query}`}>
        <label>
          {props.codes ? "Code from your authenticator app, or a recovery code" : "A recovery code"}
          <input
            type="text"
            name="code"
            required
            maxlength="64"
            autocomplete="one-time-code"
            inputmode={props.codes ? "numeric" : undefined}
            autofocus
          />
          <FieldError errors={props.errors} name="code" />
        </label>
        <button type="submit">Log in</button>
      </form>
      <p class="muted">
        Lost your phone or passkey? Use one of the recovery codes you kept. Without them, ask staff for a
        password reset link: a link from staff also removes your second factors, so you can add new ones.
      </p>
    </Layout>
  );
}
