/** @jsxImportSource @kitajs/html */
import { FieldError, Layout } from "../layout/layout.tsx";
import type { PageContext } from "../layout/page.ts";

/** The log-in form, with the name kept and the problem shown when a try failed. */
export function LoginPage(props: {
  page: PageContext;
  name?: string;
  next?: string;
  errors?: Record<string, string>;
  notice?: string;
}) {
  const { base } = props.page;
  return (
    <Layout page={props.page} title="Log in">
      <h1>Log in</h1>
      {props.notice ? (
        <div class="notice good" safe>
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
      <form class="stack card" method="post" action={`${base}/login`}>
        <input type="hidden" name="next" value={props.next ?? ""} />
        <label>
          Name
          <input
            type="text"
            name="name"
            value={props.name ?? ""}
            required
            maxlength="32"
            autocomplete="username"
          />
          <FieldError errors={props.errors} name="name" />
        </label>
        <label>
          Password
          <input type="password" name="password" required maxlength="1024" autocomplete="current-password" />
          <FieldError errors={props.errors} name="password" />
        </label>
        <button type="submit">Log in</button>
      </form>
      <p>
        <a href={`${base}/forgot`}>Forgot your password?</a>
      </p>
      <p class="muted">Membership is by invitation: ask a member for an invite link.</p>
    </Layout>
  );
}
