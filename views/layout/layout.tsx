/** @jsxImportSource @kitajs/html */
import type { PropsWithChildren } from "@kitajs/html";
import { profilePath } from "./member-link.tsx";
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
  // The name read aloud is the visible text and then "unread": "Messages 2 unread".
  return (
    <a href={`${props.base}/messages`} id="nav-messages">
      Messages
      {unread > 0 ? (
        <>
          {" "}
          <span class="badge unread" id="unread-count" safe>
            {String(unread)}
          </span>
          <span class="visually-hidden"> unread</span>
        </>
      ) : (
        ""
      )}
    </a>
  );
}

/** The frame of every full page: header with navigation, main content, scripts. */
export function Layout(
  props: PropsWithChildren<{
    page: PageContext;
    title: string;
    live?: boolean;
    passkeys?: boolean;
    /** False on a page with a search box of its own (torrents, requests, members). */
    search?: boolean;
  }>,
) {
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
          {props.passkeys ? (
            <>
              <script src={`${base}/static/simplewebauthn-browser.js`} defer></script>
              <script src={`${base}/static/passkeys.js`} defer></script>
            </>
          ) : (
            ""
          )}
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
              <nav aria-label="Site">
                <a href={`${base}/torrents`}>Torrents</a>
                <a href={`${base}/requests`}>Requests</a>
                <a href={`${base}/bookmarks`}>Bookmarks</a>
                <a href={`${base}/news`}>News</a>
                {viewer.can("upload") ? <a href={`${base}/upload`}>Upload</a> : ""}
                {viewer.can("invite") ? <a href={`${base}/invites`}>Invites</a> : ""}
                {props.search === false ? (
                  ""
                ) : (
                  <form class="header-search" method="get" action={`${base}/torrents`}>
                    <input
                      type="search"
                      name="q"
                      maxlength="200"
                      placeholder="Search torrents"
                      aria-label="Search torrents"
                    />
                  </form>
                )}
                <MessagesLink base={base} viewer={viewer} />
                <StaffMenu base={base} viewer={viewer} />
                <details class="menu account-menu">
                  <summary safe>{viewer.name}</summary>
                  <div class="menu-items">
                    <a href={`${base}/account`}>Account</a>
                    <a href={profilePath(base, viewer.name)}>Profile</a>
                    <a href={`${base}/account/bonus`}>Bonus points</a>
                    <a href={`${base}/account/history`}>History</a>
                    <a href={`${base}/account/hit-and-runs`}>Hit-and-runs</a>
                    <form method="post" action={`${base}/logout`}>
                      <input type="hidden" name="_csrf" value={viewer.csrf} />
                      <button type="submit">Log out</button>
                    </form>
                  </div>
                </details>
              </nav>
            ) : (
              <nav aria-label="Site">
                <a href={`${base}/login`}>Log in</a>
              </nav>
            )}
          </header>
          {viewer?.warnings ? (
            <div class="notice bad warning-banner" role="alert">
              You have {viewer.warnings} active warning{viewer.warnings === 1 ? "" : "s"} from the staff:{" "}
              <a href={`${base}/account/warnings`}>read them</a>.
            </div>
          ) : (
            ""
          )}
          <main>{props.children}</main>
        </body>
      </html>
    </>
  );
}

/** The staff's pages, under one menu in the header; nothing for a member who is not staff. */
function StaffMenu(props: { base: string; viewer: NonNullable<PageContext["viewer"]> }) {
  const { base, viewer } = props;
  const moderator = viewer.can("moderate");
  const admin = viewer.can("admin");
  if (!moderator && !admin) return "";
  return (
    <details class="menu staff-menu">
      <summary>Staff</summary>
      <div class="menu-items">
        <a href={`${base}/staff/queue`}>Queue</a>
        <a href={`${base}/staff/reports`}>Reports</a>
        <a href={`${base}/messages/staff`}>Staff inbox</a>
        <a href={`${base}/staff/invites`}>Invite tree</a>
        <a href={`${base}/admin/users`}>Members</a>
        {moderator ? <a href={`${base}/admin/suspicious`}>Suspicious transfers</a> : ""}
        <a href={`${base}/admin/hit-and-runs`}>Hit-and-runs</a>
        {admin ? <a href={`${base}/admin/categories`}>Categories</a> : ""}
        {admin ? <a href={`${base}/admin/freeleech`}>Freeleech windows</a> : ""}
        {admin ? <a href={`${base}/admin/log`}>Staff log</a> : ""}
      </div>
    </details>
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
