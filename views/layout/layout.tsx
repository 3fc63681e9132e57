/** @jsxImportSource @kitajs/html */
import type { PropsWithChildren } from "@kitajs/html";
import type { PageContext, PageViewer } from "./page.ts";

// The site's Content-Security-Policy allows no inline script or style and no eval: htmx must not
// add its indicator <style> (style.css has those rules) nor evaluate attributes (hx-on, js: values).
const HTMX_CONFIG = JSON.stringify({
  includeIndicatorStyles: false,
  allowEval: false,
  allowScriptTags: false,
});

/** The header's link to private messages, with the count of unread ones (and of the staff inbox's). */
function MessagesLink(props: { base: string; viewer: PageViewer }) {
  const unread = (props.viewer.unreadMessages ?? 0) + (props.viewer.staffUnread ?? 0);
  const label = unread > 0 ? `Messages, ${String(unread)} unread` : "Messages";
  return (
    <a href={`${props.base}/messages`} id="nav-messages" aria-label={label}>
      Messages
      {unread > 0 ? (
        <span class="badge unread" id="unread-count" safe>
          {String(unread)}
        </span>
      ) : (
        ""
      )}
    </a>
  );
}

/** The frame of every full page: header with navigation, main content, scripts. */
export function Layout(props: PropsWithChildren<{ page: PageContext; title: string; live?: boolean }>) {
  const { base, viewer, siteName } = props.page;
  return (
    <>
      {"<!doctype html>"}
      <html lang="en">
        <head>
          <meta charset="utf-8" />
          <meta name="viewport" content="width=device-width, initial-scale=1" />
          <meta name="color-scheme" content="light dark" />
          <title safe>
            {props.title} · {siteName}
          </title>
          <link rel="icon" href={`${base}/static/icon.svg`} type="image/svg+xml" />
          <link rel="stylesheet" href={`${base}/static/style.css`} />
          <meta name="htmx-config" content={HTMX_CONFIG} />
          <script src={`${base}/static/htmx.min.js`} defer></script>
          <script src={`${base}/static/site.js`} defer></script>
          {props.live ? <script src={`${base}/static/live.js`} defer></script> : ""}
        </head>
        <body
          hx-headers={viewer ? JSON.stringify({ "X-CSRF-Token": viewer.csrf }) : undefined}
          data-live-url={props.live ? `${base}/events/counts` : undefined}
        >
          <header class="site">
            <a class="brand" href={`${base}/`}>
              <img src={`${base}/static/icon.svg`} alt="" width="28" height="28" />
              <span safe>{siteName}</span>
            </a>
            {viewer ? (
              <nav>
                <a href={`${base}/torrents`}>Torrents</a>
                <a href={`${base}/requests`}>Requests</a>
                <a href={`${base}/bookmarks`}>Bookmarks</a>
                <a href={`${base}/news`}>News</a>
                {viewer.can("upload") ? <a href={`${base}/upload`}>Upload</a> : ""}
                {viewer.can("invite") ? <a href={`${base}/invites`}>Invites</a> : ""}
                {viewer.can("moderate") || viewer.can("admin") ? (
                  <a href={`${base}/admin/users`}>Members</a>
                ) : (
                  ""
                )}
                {viewer.can("moderate") ? <a href={`${base}/admin/suspicious`}>Suspicious</a> : ""}
                {viewer.can("admin") ? <a href={`${base}/admin/categories`}>Categories</a> : ""}
                <MessagesLink base={base} viewer={viewer} />
                <a href={`${base}/account`} safe>
                  {viewer.name}
                </a>
                <form method="post" action={`${base}/logout`}>
                  <input type="hidden" name="_csrf" value={viewer.csrf} />
                  <button type="submit">Log out</button>
                </form>
              </nav>
            ) : (
              <nav>
                <a href={`${base}/login`}>Log in</a>
              </nav>
            )}
          </header>
          <main>{props.children}</main>
        </body>
      </html>
    </>
  );
}

/** A hidden CSRF field for a form posted by a logged-in member. */
export function Csrf(props: { page: PageContext }) {
  return props.page.viewer ? <input type="hidden" name="_csrf" value={props.page.viewer.csrf} /> : "";
}

/** A field's error message, shown under it. */
export function FieldError(props: { errors?: Record<string, string>; name: string }) {
  const message = props.errors?.[props.name];
  return message ? (
    <span class="error" id={`${props.name}-error`} safe>
      {message}
    </span>
  ) : (
    ""
  );
}

/** A full page saying what went wrong (403, 404, 409, 503...). */
export function ErrorPage(props: { page: PageContext; status: number; title: string; message: string }) {
  return (
    <Layout page={props.page} title={props.title}>
      <h1 safe>{props.title}</h1>
      <div class="notice bad" safe>
        {props.message}
      </div>
      <p>
        <a href={`${props.page.base}/`}>Back to the start page</a>
      </p>
    </Layout>
  );
}
