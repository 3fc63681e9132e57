/** @jsxImportSource @kitajs/html */
import { DateTime } from "../layout/date-time.tsx";
import { Csrf, FieldError, Layout } from "../layout/layout.tsx";
import { MemberLink } from "../layout/member-link.tsx";
import type { PageContext } from "../layout/page.ts";

/** A report as the pages list it. */
export interface ReportView {
  id: number;
  reporter: string | null;
  targetType: "torrent" | "comment" | "member";
  targetId: number;
  targetLabel: string | null;
  targetTorrentId: number | null;
  reason: string;
  status: "open" | "claimed" | "resolved" | "dismissed";
  claimer: string | null;
  decider: string | null;
  note: string;
  createdAt: Date;
  decidedAt: Date | null;
}

function TargetLink(props: { base: string; r: ReportView }) {
  const { base, r } = props;
  const label = r.targetLabel ?? "(gone)";
  const href =
    r.targetType === "torrent"
      ? `${base}/torrents/${r.targetId}`
      : r.targetType === "comment" && r.targetTorrentId !== null
        ? `${base}/torrents/${r.targetTorrentId}#comment-${r.targetId}`
        : r.targetType === "member"
          ? `${base}/admin/users/${r.targetId}`
          : null;
  const text = `${r.targetType} ${r.targetId}: ${label}`;
  return href && r.targetLabel !== null ? (
    <a href={href} safe>
      {text}
    </a>
  ) : (
    <span safe>{text}</span>
  );
}

/** The form to report a torrent, a comment or a member. */
export function ReportFormPage(props: {
  page: PageContext;
  type: string;
  id: string;
  reason?: string;
  errors?: Record<string, string>;
  reasonMax: number;
}) {
  return (
    <Layout page={props.page} title="Report">
      <h1>Report to the staff</h1>
      <form class="stack card" method="post" action={`${props.page.base}/reports`}>
        <Csrf page={props.page} />
        <input type="hidden" name="type" value={props.type} />
        <input type="hidden" name="id" value={props.id} />
        <p safe>{`You are reporting ${props.type} ${props.id}.`}</p>
        <FieldError errors={props.errors} name="type" />
        <FieldError errors={props.errors} name="id" />
        <label>
          <span>What is wrong</span>
          <textarea name="reason" maxlength={String(props.reasonMax)} required rows="4" safe>
            {props.reason ?? ""}
          </textarea>
        </label>
        <FieldError errors={props.errors} name="reason" />
        <FieldError errors={props.errors} name="form" />
        <div class="row">
          <button type="submit">Send report</button>
        </div>
      </form>
    </Layout>
  );
}

/** The member's own reports with where each stands. */
export function MyReportsPage(props: {
  page: PageContext;
  reports: readonly (ReportView & { notice: string })[];
  done?: boolean;
}) {
  const { base } = props.page;
  return (
    <Layout page={props.page} title="My reports">
      <h1>My reports</h1>
      {props.done ? (
        <div class="notice good" role="status">
          Report sent: the staff will look at it.
        </div>
      ) : (
        ""
      )}
      {props.reports.length === 0 ? (
        <p class="muted">You have not reported anything.</p>
      ) : (
        <ul class="items" id="reports">
          {props.reports.map((r) => (
            <li class={`card report ${r.status}`}>
              <p>
                <TargetLink base={base} r={r} /> · <DateTime date={r.createdAt} day />
              </p>
              <p safe>{r.reason}</p>
              <p class="outcome" safe>
                {r.notice}
              </p>
            </li>
          ))}
        </ul>
      )}
    </Layout>
  );
}

/** The staff's report queue: waiting reports with claim, resolve and dismiss; or the decided ones. */
export function ReportQueuePage(props: {
  page: PageContext;
  decided: boolean;
  rows: readonly ReportView[];
  pageNo: number;
  hasNext: boolean;
  noteMax: number;
  done?: string;
}) {
  const { base } = props.page;
  const url = (decided: boolean, n: number) =>
    `${base}/staff/reports${decided ? "?decided=1" : ""}${n > 1 ? `${decided ? "&" : "?"}page=${n}` : ""}`;
  return (
    <Layout page={props.page} title="Reports">
      <h1>Reports</h1>
      <nav class="tabs">
        <a href={url(false, 1)} aria-current={props.decided ? undefined : "page"}>
          Waiting
        </a>
        <a href={url(true, 1)} aria-current={props.decided ? "page" : undefined}>
          Decided
        </a>
      </nav>
      {props.done ? (
        <div class="notice good" role="status" safe>
          {props.done}
        </div>
      ) : (
        ""
      )}
      {props.rows.length === 0 ? (
        <p class="notice">{props.decided ? "No report decided yet." : "No report waits."}</p>
      ) : (
        <ul class="items" id="report-queue">
          {props.rows.map((r) => (
            <li class={`card report ${r.status}`} id={`report-${String(r.id)}`}>
              <p>
                <TargetLink base={base} r={r} /> · by <MemberLink base={base} name={r.reporter} />{" "}
                <DateTime date={r.createdAt} />
              </p>
              <p safe>{r.reason}</p>
              <p class="muted">
                {r.status === "claimed" ? (
                  <>
                    Claimed by <MemberLink base={base} name={r.claimer} />
                  </>
                ) : r.status === "open" ? (
                  "Unclaimed"
                ) : (
                  <>
                    <span>{r.status}</span> by <MemberLink base={base} name={r.decider} />
                    {r.note ? (
                      <>
                        : <span safe>{r.note}</span>
                      </>
                    ) : (
                      ""
                    )}
                  </>
                )}
              </p>
              {r.status === "open" || r.status === "claimed" ? (
                <form class="decision" method="post" action={`${base}/staff/reports/${String(r.id)}/act`}>
                  <Csrf page={props.page} />
                  <label for={`note-${String(r.id)}`}>Note for the reporter</label>
                  <input id={`note-${String(r.id)}`} name="note" maxlength={String(props.noteMax)} />
                  <div class="actions">
                    {r.status === "open" ? (
                      <button type="submit" name="action" value="claim" class="secondary">
                        Claim
                      </button>
                    ) : (
                      ""
                    )}
                    <button type="submit" name="action" value="resolve">
                      Resolve
                    </button>
                    <button type="submit" name="action" value="dismiss" class="secondary">
                      Dismiss
                    </button>
                  </div>
                </form>
              ) : (
                ""
              )}
            </li>
          ))}
        </ul>
      )}
      <nav class="pager">
        {props.pageNo > 1 ? <a href={url(props.decided, props.pageNo - 1)}>Previous</a> : ""}
        {props.hasNext ? <a href={url(props.decided, props.pageNo + 1)}>Next</a> : ""}
      </nav>
    </Layout>
  );
}
