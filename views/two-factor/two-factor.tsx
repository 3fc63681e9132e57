/** @jsxImportSource @kitajs/html */
import { DateTime } from "../layout/date-time.tsx";
import { Csrf, FieldError, Layout } from "../layout/layout.tsx";
import type { PageContext } from "../layout/page.ts";

/** A registered passkey as the page lists it. */
export interface PasskeyItem {
  id: number;
  name: string;
  createdAt: Date;
  lastUsedAt: Date | null;
}

/** The password (or recovery code) fields that removing a factor asks for. */
function Consent(props: { errors?: Record<string, string>; id: string }) {
  return (
    <>
      <label>
        Your password
        <input type="password" name="password" maxlength="1024" autocomplete="current-password" />
        <FieldError errors={props.errors} name="password" />
      </label>
      <label>
        or a recovery code
        <input type="text" name="recovery_code" maxlength="64" autocomplete="off" id={`${props.id}-code`} />
        <FieldError errors={props.errors} name="recovery_code" />
      </label>
    </>
  );
}

/** The member's second factors: authenticator app, passkeys, recovery codes. */
export function TwoFactorPage(props: {
  page: PageContext;
  totp: boolean;
  recoveryCodesLeft: number;
  passkeys: PasskeyItem[];
  /** A secret waiting for its first code, shown with its otpauth:// URI. */
  pendingTotp?: { secret: string; uri: string } | null;
  /** New recovery codes, shown this once. */
  recoveryCodes?: string[] | null;
  /** The member was sent here because staff must have a second factor. */
  required?: boolean;
  notice?: string;
  errors?: Record<string, string>;
  passkeyNameMax: number;
}) {
  const { base } = props.page;
  const any = props.totp || props.passkeys.length > 0;
  return (
    <Layout page={props.page} title="Two factors" passkeys>
      <h1>Two factors</h1>
      <p>
        <a href={`${base}/account`}>Back to your account</a>
      </p>
      {props.required ? (
        <div class="notice bad" role="alert">
          Staff must have a second factor on this site: add an authenticator app or a passkey to go on.
        </div>
      ) : (
        ""
      )}
      {props.notice ? (
        <div class="notice good" role="status" safe>
          {props.notice}
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
      <p class="muted">
        With a second factor, logging in takes your password and then a code from your phone or a passkey, so
        a stolen password alone does not open your account.{" "}
        {any ? "You have a second factor." : "You have none yet."}
      </p>

      {props.recoveryCodes ? (
        <section class="card stack" id="recovery-codes">
          <h2>Your recovery codes</h2>
          <p>
            Keep these somewhere safe, away from your phone: each one logs you in once instead of a code, if
            you lose your phone or passkey. They are shown only now.
          </p>
          <ul class="mono">
            {props.recoveryCodes.map((code) => (
              <li safe>{code}</li>
            ))}
          </ul>
        </section>
      ) : (
        ""
      )}

      <h2>Authenticator app</h2>
      <section class="card stack" id="totp">
        {props.totp ? (
          <>
            <p>An authenticator app is set up: log-ins ask for its six-digit code.</p>
            <form class="stack" method="post" action={`${base}/account/two-factor/totp/remove`}>
              <Csrf page={props.page} />
              <Consent errors={props.errors} id="totp-remove" />
              <button type="submit" class="danger">
                Remove the authenticator app
              </button>
            </form>
          </>
        ) : props.pendingTotp ? (
          <>
            <p>
              Add this key to your authenticator app (type it in, or open the link on your phone), then enter
              the code it shows.
            </p>
            <p class="mono" id="totp-secret" safe>
              {props.pendingTotp.secret}
            </p>
            <p class="mono">
              <a href={props.pendingTotp.uri} id="totp-uri" safe>
                {props.pendingTotp.uri}
              </a>
            </p>
            <form class="stack" method="post" action={`${base}/account/two-factor/totp/confirm`}>
              <Csrf page={props.page} />
              <label>
                Code from the app
                <input
                  type="text"
                  name="code"
                  required
                  maxlength="10"
                  inputmode="numeric"
                  autocomplete="one-time-code"
                />
                <FieldError errors={props.errors} name="code" />
              </label>
              <button type="submit">Turn on</button>
            </form>
          </>
        ) : (
          <form method="post" action={`${base}/account/two-factor/totp`}>
            <Csrf page={props.page} />
            <button type="submit">Add an authenticator app</button>
          </form>
        )}
      </section>

      <h2>Passkeys</h2>
      <section class="card stack" id="passkeys">
        {props.passkeys.length ? (
          <ul class="stack">
            {props.passkeys.map((key) => (
              <li>
                <strong safe>{key.name}</strong>, added <DateTime date={key.createdAt} day />
                {key.lastUsedAt ? (
                  <>
                    , last used <DateTime date={key.lastUsedAt} />
                  </>
                ) : (
                  ""
                )}
                <form
                  class="stack"
                  method="post"
                  action={`${base}/account/two-factor/passkeys/${key.id}/remove`}
                >
                  <Csrf page={props.page} />
                  <Consent errors={props.errors} id={`passkey-${key.id}`} />
                  <button type="submit" class="danger">
                    Remove this passkey
                  </button>
                </form>
              </li>
            ))}
          </ul>
        ) : (
          <p>No passkeys yet.</p>
        )}
        <div class="stack">
          <label>
            Name of the new passkey
            <input type="text" id="passkey-name" maxlength={String(props.passkeyNameMax)} value="Passkey" />
          </label>
          <button
            type="button"
            id="passkey-add"
            data-options-url={`${base}/account/two-factor/passkeys/options`}
            data-verify-url={`${base}/account/two-factor/passkeys`}
          >
            Add a passkey
          </button>
          <div class="notice bad" role="alert" id="passkey-problem" hidden></div>
        </div>
      </section>

      <h2>Recovery codes</h2>
      <section class="card stack" id="recovery">
        <p>
          {any
            ? `You have ${props.recoveryCodesLeft} unused recovery code${props.recoveryCodesLeft === 1 ? "" : "s"}.`
            : "You get ten recovery codes with your first second factor."}
        </p>
        {any ? (
          <form class="stack" method="post" action={`${base}/account/two-factor/recovery-codes`}>
            <Csrf page={props.page} />
            <label>
              Your password
              <input type="password" name="password" maxlength="1024" autocomplete="current-password" />
              <FieldError errors={props.errors} name="password" />
            </label>
            <button type="submit">Get new recovery codes</button>
          </form>
        ) : (
          ""
        )}
      </section>
    </Layout>
  );
}
