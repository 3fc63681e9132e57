/** @jsxImportSource @kitajs/html */
import { DateTime } from "../layout/date-time.tsx";
import { formatSize } from "../layout/format.ts";
import { Layout } from "../layout/layout.tsx";
import { MemberLink } from "../layout/member-link.tsx";
import type { PageContext } from "../layout/page.ts";
import { DecisionForm } from "../torrents/torrent.tsx";

/** A torrent in the queue (or among the rejected), as the staff's page lists it. */
export interface HeldView {
  id: number;
  title: string;
  size: number;
  createdAt: Date;
  creator: string | null;
  moderation: "pending" | "approved" | "rejected";
  moderationNote: string;
  moderatedAt: Date | null;
  moderator: string | null;
}

const DONE: Record<string, string> = {
  approve: "Approved: the tracker serves it now.",
  reject: "Rejected: the uploader sees the reason.",
  postpone: "Postponed: it went to the back of the queue.",
};

/** The moderation queue: pending uploads, oldest first, each with its decision form; or the rejected ones. */
export function QueuePage(props: {
  page: PageContext;
  state: "pending" | "rejected";
  rows: readonly HeldView[];
  pending: number;
  pageNo: number;
  hasNext: boolean;
  done?: string;
  noteMax: number;
}) {
  const { base } = props.page;
  const url = (state: string, n: number) => `${base}/staff/queue?state=${state}${n > 1 ? `&page=${n}` : ""}`;
  return (
    <Layout page={props.page} title="Moderation queue">
      <h1>Moderation queue</h1>
      <nav class="tabs">
        <a href={url("pending", 1)} aria-current={props.state === "pending" ? "page" : undefined}>
          Waiting ({props.pending})
        </a>
        <a href={url("rejected", 1)} aria-current={props.state === "rejected" ? "page" : undefined}>
          Rejected
        </a>
      </nav>
      {props.done && DONE[props.done] ? (
        <div class="notice good" role="status" safe>
          {DONE[props.done]}
        </div>
      ) : (
        ""
      )}
      {props.rows.length === 0 ? (
        <p class="notice">
          {props.state === "pending" ? "Nothing waits for moderation." : "Nothing rejected."}
        </p>
      ) : (
        <ul class="queue" id="queue">
          {props.rows.map((row) => (
            <li class="card" id={`held-${row.id}`}>
              <h2>
                <a href={`${base}/torrents/${row.id}`} safe>
                  {row.title}
                </a>
              </h2>
              <p class="muted">
                <span safe>{formatSize(row.size)}</span> · uploaded by{" "}
                <MemberLink base={base} name={row.creator} /> <DateTime date={row.createdAt} />
              </p>
              {row.moderationNote ? (
                <p>
                  {row.moderation === "rejected" ? "Reason" : "Note"}
                  {row.moderator ? (
                    <>
                      {" "}
                      (<MemberLink base={base} name={row.moderator} />)
                    </>
                  ) : (
                    ""
                  )}
                  : <span safe>{row.moderationNote}</span>
                </p>
              ) : (
                ""
              )}
              <DecisionForm
                page={props.page}
                torrentId={row.id}
                state={row.moderation}
                noteMax={props.noteMax}
              />
            </li>
          ))}
        </ul>
      )}
      <nav class="pager">
        {props.pageNo > 1 ? <a href={url(props.state, props.pageNo - 1)}>Previous</a> : ""}
        {props.hasNext ? <a href={url(props.state, props.pageNo + 1)}>Next</a> : ""}
      </nav>
    </Layout>
  );
}
