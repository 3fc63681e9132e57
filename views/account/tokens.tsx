/** @jsxImportSource @kitajs/html */
import { DateTime } from "../layout/date-time.tsx";
import { Csrf, FieldError } from "../layout/layout.tsx";
import type { PageContext } from "../layout/page.ts";

/** An API token as its owner's list shows it. */
export interface TokenView {
  id: number;
  name: string;
  createdAt: Date;
  lastUsedAt: Date | null;
}

/** How many tokens a member may hold, and the longest name. */
export interface TokenLimits {
  max: number;
  nameMax: number;
}

/** The account page's API tokens: make one (shown once), the list with last use, revoke. */
export function ApiTokensSection(props: {
  page: PageContext;
  tokens: TokenView[];
  limits: TokenLimits;
  created?: { token: string };
  name?: string;
  errors?: Record<string, string>;
}) {
  const { base } = props.page;
  const { tokens, created } = props;
  return (
    <>
      <h2 id="tokens">API tokens</h2>
      <section class="card stack">
        <p class="muted">
          A token lets a program use the <a href={`${base}/api/v1/docs`}>API</a> as you, with your roles: send
          it as <code>{"Authorization: Bearer &lt;token&gt;"}</code>. Revoke one you no longer use or that
          leaked.
        </p>
        <p class="muted" id="torznab-help">
          A token is also the API key of the site's Torznab indexer, for Prowlarr, Sonarr and Radarr (Generic
          Torznab): API path <code safe>{`${base}/torznab/api`}</code>, your token as the API key.
        </p>
        {created ? (
          <div class="notice good" role="status">
            <p>
              <strong>Token created.</strong> Copy it now: it is shown only this once.
            </p>
            <p class="mono" id="new-token" safe>
              {created.token}
            </p>
          </div>
        ) : (
          ""
        )}
        <form class="row" method="post" action={`${base}/account/tokens`}>
          <Csrf page={props.page} />
          <label>
            Name
            <input
              type="text"
              name="name"
              required
              maxlength={String(props.limits.nameMax)}
              value={props.name ?? ""}
              placeholder="e.g. seedbox script"
            />
            <FieldError errors={props.errors} name="token_name" />
          </label>
          <button type="submit">Create token</button>
        </form>
        <FieldError errors={props.errors} name="tokens" />
        {tokens.length === 0 ? (
          <p class="muted">You have no API tokens.</p>
        ) : (
          <table class="list" id="token-list">
            <thead>
              <tr>
                <th>Name</th>
                <th>Created</th>
                <th>Last used</th>
                <th></th>
              </tr>
            </thead>
            <tbody>
              {tokens.map((token) => (
                <tr>
                  <td class="title" safe>
                    {token.name}
                  </td>
                  <td data-label="Created">
                    <DateTime date={token.createdAt} />
                  </td>
                  <td data-label="Last used">
                    {token.lastUsedAt ? <DateTime date={token.lastUsedAt} /> : "never"}
                  </td>
                  <td>
                    <form method="post" action={`${base}/account/tokens/${token.id}/revoke`}>
                      <Csrf page={props.page} />
                      <button type="submit" class="danger">
                        Revoke
                      </button>
                    </form>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        <p class="muted">At most {props.limits.max} tokens. The last use is recorded to the minute.</p>
      </section>
    </>
  );
}

/** The account page's RSS feed: its address (with the RSS key) and a way to get a new key. */
export function RssSection(props: { page: PageContext; feedUrl: string }) {
  const { base } = props.page;
  return (
    <>
      <h2 id="rss">RSS feed</h2>
      <section class="card stack">
        <p class="mono" id="rss-url" safe>
          {props.feedUrl}
        </p>
        <p class="muted">
          New torrents for your feed reader or BitTorrent client; each item downloads the .torrent with your
          announce URL, without logging in. Add <code>?q=words</code> to follow a search. The address holds
          your RSS key, not your passkey: keep it private, and get a new one if it leaked (the old address
          then stops working).
        </p>
        <form method="post" action={`${base}/account/rss`}>
          <Csrf page={props.page} />
          <button type="submit" class="danger">
            Get a new feed address
          </button>
        </form>
      </section>
    </>
  );
}
