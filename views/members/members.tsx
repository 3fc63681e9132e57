/** @jsxImportSource @kitajs/html */
import { TransferFacts, type TransferTotals } from "../account/account.tsx";
import { DateTime } from "../layout/date-time.tsx";
import { formatSize } from "../layout/format.ts";
import { Csrf, Layout } from "../layout/layout.tsx";
import { profilePath } from "../layout/member-link.tsx";
import type { PageContext, RoleName } from "../layout/page.ts";

/** A member as the list shows them. */
export interface MemberListItem {
  id: number;
  name: string;
  disabled: boolean;
  /** Bytes; a BigInt above 2^53. */
  uploaded: number | bigint;
  downloaded: number | bigint;
  createdAt: Date;
  inviter: string | null;
  roles: readonly RoleName[];
}

/** One member as their staff page shows them. */
export interface MemberView extends TransferTotals {
  id: number;
  name: string;
  disabled: boolean;
  createdAt: Date;
  invitedBy: number | null;
  inviter: string | null;
  roles: readonly RoleName[];
}

/** A role and what it allows, in the order the page lists them. */
export interface RoleHelp {
  name: RoleName;
  help: string;
}

/** What the viewer may do to the member shown. */
export interface MemberActions {
  /** Grant and revoke roles (not their own admin role). */
  roles: boolean;
  /** Disable or enable: null when allowed, else why not. */
  access: string | null;
}

/** How the member list is ordered. */
export interface MemberOrder {
  sort: string;
  order: "asc" | "desc";
}

const SORT_LABELS: Record<string, string> = {
  name: "Name",
  joined: "Joined",
  uploaded: "Uploaded",
  downloaded: "Downloaded",
};

function usersUrl(base: string, q: string, pageNo: number, order: MemberOrder): string {
  const params = new URLSearchParams();
  if (q) params.set("q", q);
  if (order.sort !== "name") params.set("sort", order.sort);
  if (order.order !== "asc") params.set("order", order.order);
  if (pageNo > 1) params.set("page", String(pageNo));
  const text = params.toString();
  return `${base}/admin/users${text ? `?${text}` : ""}`;
}

/** The member list with its search box, its order (a select, which works on a phone too) and pager. */
export function AdminUsersPage(props: {
  page: PageContext;
  q: string;
  sort: string;
  order: "asc" | "desc";
  sorts: readonly string[];
  pageNo: number;
  rows: MemberListItem[];
  hasNext: boolean;
}) {
  const { base } = props.page;
  const { q, pageNo, rows } = props;
  const current: MemberOrder = { sort: props.sort, order: props.order };
  return (
    <Layout page={props.page} title={q ? `Members: ${q}` : "Members"} search={false}>
      <h1>Members</h1>
      <form class="searchbar" method="get" action={`${base}/admin/users`}>
        <input
          type="search"
          name="q"
          value={q}
          maxlength="64"
          placeholder="Search names"
          aria-label="Search names"
        />
        <select name="sort" aria-label="Sort by">
          {props.sorts.map((sort) => (
            <option value={sort} selected={sort === props.sort} safe>
              {SORT_LABELS[sort] ?? sort}
            </option>
          ))}
        </select>
        <select name="order" aria-label="Order">
          <option value="asc" selected={props.order === "asc"}>
            Ascending
          </option>
          <option value="desc" selected={props.order === "desc"}>
            Descending
          </option>
        </select>
        <button type="submit">Show</button>
      </form>
      {rows.length === 0 ? (
        <p class="notice">{q ? "No member's name contains this." : "No members."}</p>
      ) : (
        <table class="list">
          <thead>
            <tr>
              <th>Name</th>
              <th>Roles</th>
              <th>Joined</th>
              <th>Invited by</th>
              <th class="num">Uploaded</th>
              <th class="num">Downloaded</th>
              <th>State</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((row) => (
              <tr>
                <td class="title">
                  <a href={`${base}/admin/users/${row.id}`} safe>
                    {row.name}
                  </a>{" "}
                  <a class="muted" href={profilePath(base, row.name)}>
                    profile
                  </a>
                </td>
                <td data-label="Roles">{row.roles.length ? row.roles.join(", ") : "—"}</td>
                <td data-label="Joined">
                  <DateTime date={row.createdAt} day />
                </td>
                <td data-label="Invited by" safe>
                  {row.inviter ?? "—"}
                </td>
                <td class="num" data-label="Uploaded" safe>
                  {formatSize(row.uploaded)}
                </td>
                <td class="num" data-label="Downloaded" safe>
                  {formatSize(row.downloaded)}
                </td>
                <td data-label="State">
                  {row.disabled ? <strong class="error">disabled</strong> : "active"}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <nav class="pager">
        {pageNo > 1 ? <a href={usersUrl(base, q, pageNo - 1, current)}>← Previous</a> : <span />}
        <span class="muted">Page {pageNo}</span>
        {props.hasNext ? <a href={usersUrl(base, q, pageNo + 1, current)}>Next →</a> : <span />}
      </nav>
    </Layout>
  );
}

/** One member, with role and disable/enable forms for those allowed to use them. */
export function AdminUserPage(props: {
  page: PageContext;
  member: MemberView;
  roles: readonly RoleHelp[];
  /** What the viewer may do here; null when they may only look. */
  actions: MemberActions | null;
  notice?: string;
  error?: string;
  /** A password reset link just issued, shown this once. */
  resetLink?: { url: string; expiresAt: Date };
}) {
  const { base, viewer } = props.page;
  const { member, actions } = props;
  const isSelf = viewer?.id === member.id;
  const canRoles = actions?.roles ?? false;
  const action = `${base}/admin/users/${member.id}`;
  return (
    <Layout page={props.page} title={member.name}>
      <p class="row">
        <a href={`${base}/admin/users`}>← Members</a>
        <a href={profilePath(base, member.name)}>Public profile</a>
        <a href={`${base}/admin/users/${String(member.id)}/warnings`}>Warnings</a>
        <a href={`${base}/reports/new?type=member&id=${String(member.id)}`}>Report</a>
      </p>
      <h1 safe>{member.name}</h1>
      {props.notice ? (
        <div class="notice good" role="status" safe>
          {props.notice}
        </div>
      ) : (
        ""
      )}
      {props.error ? (
        <div class="notice bad" role="alert" safe>
          {props.error}
        </div>
      ) : (
        ""
      )}
      <section class="card">
        <dl class="facts">
          <dt>State</dt>
          <dd>{member.disabled ? <strong class="error">disabled</strong> : "active"}</dd>
          <dt>Joined</dt>
          <dd>
            <DateTime date={member.createdAt} />
          </dd>
          <dt>Invited by</dt>
          <dd>
            {member.invitedBy !== null && member.inviter !== null ? (
              <a href={`${base}/admin/users/${member.invitedBy}`} safe>
                {member.inviter}
              </a>
            ) : (
              "—"
            )}
          </dd>
          <TransferFacts member={member} />
        </dl>
      </section>

      <h2>Roles</h2>
      <table class="list">
        <thead>
          <tr>
            <th>Role</th>
            <th>Allows</th>
            <th>Held</th>
            {canRoles ? (
              <th>
                <span class="muted">Action</span>
              </th>
            ) : (
              ""
            )}
          </tr>
        </thead>
        <tbody>
          {props.roles.map(({ name: role, help }) => {
            const held = member.roles.includes(role);
            const locked = isSelf && role === "admin" && held;
            return (
              <tr>
                <td class="title">{role}</td>
                <td data-label="Allows" safe>
                  {help}
                </td>
                <td data-label="Held">{held ? "yes" : "no"}</td>
                {canRoles ? (
                  <td>
                    {locked ? (
                      <span class="muted">You cannot remove your own admin role.</span>
                    ) : (
                      <form class="inline" method="post" action={`${action}/roles`}>
                        <Csrf page={props.page} />
                        <input type="hidden" name="role" value={role} />
                        <input type="hidden" name="action" value={held ? "revoke" : "grant"} />
                        <button type="submit" class={held ? "secondary" : undefined} safe>
                          {held ? `Revoke ${role}` : `Grant ${role}`}
                        </button>
                      </form>
                    )}
                  </td>
                ) : (
                  ""
                )}
              </tr>
            );
          })}
        </tbody>
      </table>

      {actions ? (
        <>
          <h2>Access</h2>
          <section class="card stack">
            {actions.access !== null ? (
              <p class="muted" safe>
                {actions.access}
              </p>
            ) : member.disabled ? (
              <form method="post" action={`${action}/enable`}>
                <Csrf page={props.page} />
                <button type="submit">Enable this member</button>
              </form>
            ) : (
              <form method="post" action={`${action}/disable`}>
                <Csrf page={props.page} />
                <button type="submit" class="danger">
                  Disable this member
                </button>
                <p class="muted">
                  A disabled member is logged out everywhere, cannot log in, and the tracker refuses their
                  passkey.
                </p>
              </form>
            )}
          </section>

          <h2>Password reset</h2>
          <section class="card stack" id="reset">
            {props.resetLink ? (
              <div class="notice good" role="status">
                <p>
                  Give this link to the member by a way you trust that it is them. It works once, until{" "}
                  <DateTime date={props.resetLink.expiresAt} />.
                </p>
                <p class="mono" id="reset-link" safe>
                  {props.resetLink.url}
                </p>
              </div>
            ) : (
              ""
            )}
            <form method="post" action={`${action}/reset-link`}>
              <Csrf page={props.page} />
              <button type="submit" class="secondary">
                Issue a reset link
              </button>
              <p class="muted">
                For a member who forgot their password or lost their second factor: the link lets them choose
                a new password, ends their sessions and removes their second factors (authenticator app,
                passkeys, recovery codes).
              </p>
            </form>
          </section>
        </>
      ) : (
        ""
      )}
    </Layout>
  );
}
