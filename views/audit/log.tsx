/** @jsxImportSource @kitajs/html */
import { DateTime } from "../layout/date-time.tsx";
import { FieldError, Layout } from "../layout/layout.tsx";
import { MemberLink } from "../layout/member-link.tsx";
import type { PageContext } from "../layout/page.ts";

/** One line of the staff log. */
export interface StaffActionView {
  id: number;
  at: Date;
  actor: string | null;
  action: string;
  targetType: string;
  targetId: number | null;
  before: unknown;
  after: unknown;
}

/** The filter as typed. */
export interface AuditFilterView {
  actor?: string;
  action?: string;
  target_type?: string;
  target_id?: string;
  since?: string;
  until?: string;
}

const TARGETS = ["member", "torrent", "comment", "report", "warning", "invite", "window"];

/** Where a target's page is, when it has one. */
function targetHref(base: string, type: string, id: number | null): string | null {
  if (id === null) return null;
  if (type === "torrent") return `${base}/torrents/${id}`;
  if (type === "member") return `${base}/admin/users/${id}`;
  return null;
}

/** The administrators' staff log: every staff action, newest first, filtered by actor, action, target and dates. */
export function AuditLogPage(props: {
  page: PageContext;
  rows: readonly StaffActionView[];
  actions: readonly string[];
  filter: AuditFilterView;
  pageNo: number;
  hasNext: boolean;
  errors?: Record<string, string>;
}) {
  const { base } = props.page;
  const f = props.filter;
  const query = (n: number) => {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(f)) if (value) params.set(key, value);
    if (n > 1) params.set("page", String(n));
    const text = params.toString();
    return `${base}/admin/log${text ? `?${text}` : ""}`;
  };
  return (
    <Layout page={props.page} title="Staff log">
      <h1>Staff log</h1>
      <p class="muted">
        Every action of moderators and administrators, with the state before and after. The log cannot be
        changed or deleted.
      </p>
      <form class="card filters" method="get" action={`${base}/admin/log`}>
        <label>
          <span>Staff member</span>
          <input name="actor" maxlength="64" value={f.actor ?? ""} />
        </label>
        <label>
          <span>Action</span>
          <select name="action">
            <option value="">Any</option>
            {props.actions.map((a) => (
              <option value={a} selected={a === f.action} safe>
                {a}
              </option>
            ))}
          </select>
        </label>
        <FieldError errors={props.errors} name="action" />
        <label>
          <span>Target</span>
          <select name="target_type">
            <option value="">Any</option>
            {TARGETS.map((type) => (
              <option value={type} selected={type === f.target_type} safe>
                {type}
              </option>
            ))}
          </select>
        </label>
        <label>
          <span>Number</span>
          <input name="target_id" maxlength="15" inputmode="numeric" value={f.target_id ?? ""} />
        </label>
        <FieldError errors={props.errors} name="target_id" />
        <label>
          <span>From</span>
          <input name="since" type="date" value={f.since ?? ""} />
        </label>
        <FieldError errors={props.errors} name="since" />
        <label>
          <span>To</span>
          <input name="until" type="date" value={f.until ?? ""} />
        </label>
        <FieldError errors={props.errors} name="until" />
        <button type="submit">Filter</button>
      </form>
      {props.rows.length === 0 ? (
        <p class="notice">No staff action matches.</p>
      ) : (
        <table class="list" id="staff-log">
          <thead>
            <tr>
              <th>When</th>
              <th>Who</th>
              <th>Action</th>
              <th>Target</th>
              <th>Before</th>
              <th>After</th>
            </tr>
          </thead>
          <tbody>
            {props.rows.map((row) => {
              const href = targetHref(base, row.targetType, row.targetId);
              const label = `${row.targetType} ${row.targetId ?? ""}`;
              return (
                <tr>
                  <td data-label="When">
                    <DateTime date={row.at} />
                  </td>
                  <td data-label="Who">
                    <MemberLink base={base} name={row.actor} />
                  </td>
                  <td data-label="Action" class="mono" safe>
                    {row.action}
                  </td>
                  <td data-label="Target">
                    {href ? (
                      <a href={href} safe>
                        {label}
                      </a>
                    ) : (
                      <span safe>{label}</span>
                    )}
                  </td>
                  <td data-label="Before" class="mono json" safe>
                    {row.before === null ? "—" : JSON.stringify(row.before)}
                  </td>
                  <td data-label="After" class="mono json" safe>
                    {row.after === null ? "—" : JSON.stringify(row.after)}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      <nav class="pager">
        {props.pageNo > 1 ? <a href={query(props.pageNo - 1)}>Newer</a> : ""}
        {props.hasNext ? <a href={query(props.pageNo + 1)}>Older</a> : ""}
      </nav>
    </Layout>
  );
}
