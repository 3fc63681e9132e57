/** @jsxImportSource @kitajs/html */
import { DateTime } from "../layout/date-time.tsx";
import { formatSize } from "../layout/format.ts";
import { Layout } from "../layout/layout.tsx";
import type { PageContext } from "../layout/page.ts";

/** One capped or refused announce, as the page lists it. */
export interface SuspiciousView {
  member: { id: number; name: string };
  torrent: { id: number; title: string } | null;
  clientPrefix: string;
  userAgent: string | null;
  peerId: string;
  claimedUp: number;
  claimedDown: number;
  creditedUp: number;
  creditedDown: number;
  seconds: number;
  reasons: readonly string[];
  at: Date;
  /** Announces this record stands for (the figures are their sums). */
  repeats: number;
}

/** One member's tally (uncredited bytes as decimal text). */
export interface TallyView {
  member: { id: number; name: string };
  records: number;
  uncreditedUp: string;
  uncreditedDown: string;
  lastAt: Date;
}

/** What each reason code means, in words. */
const REASON_TEXT: Record<string, string> = {
  rate: "faster than the rate cap",
  no_leecher: "upload with nobody to upload to",
  backwards: "a counter went backwards",
  unbacked: "upload no other member downloaded",
  over_size: "download beyond twice the size",
  left_implied: "left fell more than the download reported",
};

/** A claimed difference: a size, or how far a counter went back. */
function claimed(bytes: number): string {
  return bytes < 0 ? `back ${formatSize(-bytes)}` : formatSize(bytes);
}

/** Decimal text of bytes (which may pass 2^53) in binary units. */
function bigSize(text: string): string {
  const n = Number(text);
  return Number.isFinite(n) ? formatSize(n) : `${text} B`;
}

/** The moderators' page: recent suspicious transfers, newest first, paged, and the tally. */
export function SuspiciousPage(props: {
  page: PageContext;
  pageNo: number;
  items: readonly SuspiciousView[];
  tally: readonly TallyView[];
  hasNext: boolean;
}) {
  const { base } = props.page;
  const url = (n: number) => `${base}/admin/suspicious${n > 1 ? `?page=${n}` : ""}`;
  return (
    <Layout page={props.page} title="Suspicious transfers">
      <h1>Suspicious transfers</h1>
      <p class="muted">
        Announces whose credit the tracker capped or refused: reported faster than the rate cap, upload while
        the swarm had nobody to upload to, or a counter going backwards. Claimed is what the client reported
        since its previous announce; credited is what the member got. The announces of one member, torrent and
        reasons within an hour are one record, their figures summed (Repeats).
      </p>
      {props.items.length === 0 ? (
        <p class="notice">{props.pageNo > 1 ? "No more records." : "Nothing suspicious recorded."}</p>
      ) : (
        <table class="list" id="suspicious">
          <thead>
            <tr>
              <th>When</th>
              <th>Member</th>
              <th>Torrent</th>
              <th>Client</th>
              <th class="num">Claimed up</th>
              <th class="num">Credited up</th>
              <th class="num">Claimed down</th>
              <th class="num">Credited down</th>
              <th class="num">Seconds</th>
              <th>Why</th>
              <th class="num">Repeats</th>
            </tr>
          </thead>
          <tbody>
            {props.items.map((r) => (
              <tr>
                <td data-label="When">
                  <DateTime date={r.at} />
                </td>
                <td class="title" data-label="Member">
                  <a href={`${base}/admin/users/${r.member.id}`} safe>
                    {r.member.name}
                  </a>
                </td>
                <td data-label="Torrent">
                  {r.torrent ? (
                    <a href={`${base}/torrents/${r.torrent.id}`} safe>
                      {r.torrent.title}
                    </a>
                  ) : (
                    <span class="muted">deleted</span>
                  )}
                </td>
                <td data-label="Client" title={r.peerId}>
                  <code safe>{r.clientPrefix || "?"}</code> <span safe>{r.userAgent ?? ""}</span>
                </td>
                <td class="num" data-label="Claimed up" safe>
                  {claimed(r.claimedUp)}
                </td>
                <td class="num" data-label="Credited up" safe>
                  {formatSize(r.creditedUp)}
                </td>
                <td class="num" data-label="Claimed down" safe>
                  {claimed(r.claimedDown)}
                </td>
                <td class="num" data-label="Credited down" safe>
                  {formatSize(r.creditedDown)}
                </td>
                <td class="num" data-label="Seconds">
                  {r.seconds}
                </td>
                <td data-label="Why" safe>
                  {r.reasons.map((reason) => REASON_TEXT[reason] ?? reason).join("; ")}
                </td>
                <td class="num repeats" data-label="Repeats">
                  {r.repeats > 1 ? `×${r.repeats}` : "1"}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <nav class="pager">
        {props.pageNo > 1 ? <a href={url(props.pageNo - 1)}>← Newer</a> : <span />}
        <span class="muted">Page {props.pageNo}</span>
        {props.hasNext ? <a href={url(props.pageNo + 1)}>Older →</a> : <span />}
      </nav>

      <h2>By member</h2>
      {props.tally.length === 0 ? (
        <p class="muted">No member has a record.</p>
      ) : (
        <table class="list" id="tally">
          <thead>
            <tr>
              <th>Member</th>
              <th class="num">Records</th>
              <th class="num">Upload not credited</th>
              <th class="num">Download not credited</th>
              <th>Last</th>
            </tr>
          </thead>
          <tbody>
            {props.tally.map((t) => (
              <tr>
                <td class="title" data-label="Member">
                  <a href={`${base}/admin/users/${t.member.id}`} safe>
                    {t.member.name}
                  </a>
                </td>
                <td class="num" data-label="Records">
                  {t.records}
                </td>
                <td class="num" data-label="Upload not credited" safe>
                  {bigSize(t.uncreditedUp)}
                </td>
                <td class="num" data-label="Download not credited" safe>
                  {bigSize(t.uncreditedDown)}
                </td>
                <td data-label="Last">
                  <DateTime date={t.lastAt} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Layout>
  );
}
