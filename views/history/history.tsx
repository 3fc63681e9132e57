/** @jsxImportSource @kitajs/html */
import { ConnectableCell, duration } from "../economy/swarm.tsx";
import { formatSize } from "../layout/format.ts";
import { Csrf, Layout } from "../layout/layout.tsx";
import type { PageContext } from "../layout/page.ts";

/** One torrent in a member's history. */
export interface HistoryView {
  torrentId: number;
  title: string;
  uploaded: number | bigint;
  downloaded: number | bigint;
  reportedUploaded: number | bigint;
  reportedDownloaded: number | bigint;
  seedSeconds: number;
  firstAnnounceAt: Date | null;
  lastAnnounceAt: Date | null;
  completedAt: Date | null;
  seeding: boolean;
  leeching: boolean;
  /** Whether a peer of the member in the swarm now accepted a handshake at its last probe; null: unknown. */
  connectable: boolean | null;
}

/** The columns one may sort by, with their headings. */
const COLUMNS: readonly [sort: string, heading: string, numeric: boolean][] = [
  ["title", "Torrent", false],
  ["uploaded", "Uploaded", true],
  ["downloaded", "Downloaded", true],
  ["ratio", "Ratio", true],
  ["seeded", "Seeded", true],
  ["completed", "Completed", false],
  ["last", "Last announce", false],
];

function when(d: Date | null): string {
  return d ? d.toISOString().slice(0, 16).replace("T", " ") : "—";
}

function ratio(up: number | bigint, down: number | bigint): string {
  const d = Number(down);
  if (d === 0) return Number(up) > 0 ? "∞" : "—";
  return (Number(up) / d).toFixed(2);
}

/** A member's torrents: credited and reported figures, seed time, state; sortable and paged. */
export function HistoryPage(props: {
  page: PageContext;
  member: { id: number; name: string };
  self: boolean;
  rows: readonly HistoryView[];
  sort: string;
  desc: boolean;
  pageNo: number;
  hasNext: boolean;
  anonymous: boolean;
}) {
  const { base } = props.page;
  const path = props.self ? `${base}/account/history` : `${base}/admin/users/${props.member.id}/history`;
  const url = (sort: string, desc: boolean, page: number) =>
    `${path}?sort=${sort}&order=${desc ? "desc" : "asc"}${page > 1 ? `&page=${page}` : ""}`;
  return (
    <Layout page={props.page} title={props.self ? "My torrents" : `Torrents of ${props.member.name}`}>
      <h1 safe>{props.self ? "My torrents" : `Torrents of ${props.member.name}`}</h1>
      {props.self ? (
        <form class="inline card" method="post" action={`${base}/account/anonymous`}>
          <Csrf page={props.page} />
          <input type="hidden" name="anonymous" value={props.anonymous ? "0" : "1"} />
          <span>
            {props.anonymous
              ? "Your name is hidden in peer lists (staff still see it). "
              : "Your name shows in peer lists. "}
          </span>
          <button type="submit">{props.anonymous ? "Show my name" : "Be anonymous"}</button>
        </form>
      ) : (
        ""
      )}
      {props.rows.length === 0 && props.pageNo === 1 ? (
        <p class="muted">No torrents yet: they appear here after the first announce.</p>
      ) : (
        <div class="scroll">
          <table class="list history">
            <thead>
              <tr>
                {COLUMNS.map(([sort, heading, numeric]) => (
                  <th class={numeric ? "num" : undefined}>
                    <a href={url(sort, props.sort === sort ? !props.desc : true, 1)} safe>
                      {heading + (props.sort === sort ? (props.desc ? " ↓" : " ↑") : "")}
                    </a>
                  </th>
                ))}
                <th>Now</th>
                <th>Connectable</th>
              </tr>
            </thead>
            <tbody>
              {props.rows.map((r) => (
                <tr>
                  <td>
                    <a href={`${base}/torrents/${r.torrentId}`} safe>
                      {r.title}
                    </a>
                  </td>
                  <td class="num" title={`reported ${formatSize(r.reportedUploaded)}`} safe>
                    {formatSize(r.uploaded)}
                  </td>
                  <td class="num" title={`reported ${formatSize(r.reportedDownloaded)}`} safe>
                    {formatSize(r.downloaded)}
                  </td>
                  <td class="num" safe>
                    {ratio(r.uploaded, r.downloaded)}
                  </td>
                  <td class="num" safe>
                    {duration(r.seedSeconds)}
                  </td>
                  <td safe>{when(r.completedAt)}</td>
                  <td safe>{when(r.lastAnnounceAt)}</td>
                  <td>{r.seeding ? "seeding" : r.leeching ? "leeching" : ""}</td>
                  <ConnectableCell
                    state={r.connectable === true ? "yes" : r.connectable === false ? "no" : "unknown"}
                  />
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <nav class="pager">
        {props.pageNo > 1 ? <a href={url(props.sort, props.desc, props.pageNo - 1)}>Previous</a> : ""}
        {props.hasNext ? <a href={url(props.sort, props.desc, props.pageNo + 1)}>Next</a> : ""}
      </nav>
    </Layout>
  );
}
