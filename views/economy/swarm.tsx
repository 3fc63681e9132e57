/** @jsxImportSource @kitajs/html */
import { formatSize } from "../layout/format.ts";
import { Csrf, FieldError, Layout } from "../layout/layout.tsx";
import type { PageContext } from "../layout/page.ts";
import { type BadgeView, FactorBadge } from "./badge.tsx";

/** A peer as the list shows it: never an address. */
export interface PeerView {
  member: { id: number; name: string } | null;
  anonymous: boolean;
  client: string;
  uploaded: number;
  downloaded: number;
  progress: number;
  idleSeconds: number;
  /** Whether it accepted a BitTorrent handshake at its last probe; unknown until probed. */
  connectable: "yes" | "no" | "unknown";
}

/** A connectable state as a cell: labelled on a phone, coloured by the theme's good and bad. */
export function ConnectableCell(props: { state: "yes" | "no" | "unknown" }) {
  return (
    <td class={`connectable ${props.state}`} data-label="Connectable">
      {props.state}
    </td>
  );
}

/** One snatch, for staff. */
export interface SnatchView {
  member: { id: number; name: string };
  completedAt: Date | null;
  uploaded: number | bigint;
  downloaded: number | bigint;
  seedSeconds: number;
  seeding: boolean;
}

/** A torrent's freeleech state for the swarm section. */
export interface FreeleechView extends BadgeView {
  own: { downloadFactor: number; uploadFactor: number };
  requested: boolean;
}

/** Seconds as "3 h 5 min", "40 s". */
export function duration(seconds: number): string {
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h ${minutes % 60} min`;
  return `${Math.floor(hours / 24)} d ${hours % 24} h`;
}

function PeerTable(props: { peers: readonly PeerView[]; empty: string }) {
  if (props.peers.length === 0)
    return (
      <p class="muted" safe>
        {props.empty}
      </p>
    );
  return (
    <table class="list peers">
      <thead>
        <tr>
          <th>Member</th>
          <th>Client</th>
          <th class="num">Uploaded</th>
          <th class="num">Downloaded</th>
          <th class="num">Progress</th>
          <th class="num">Last announce</th>
          <th>Connectable</th>
        </tr>
      </thead>
      <tbody>
        {props.peers.map((p) => (
          <tr>
            <td>
              {p.member ? <span safe>{p.member.name}</span> : <em>anonymous</em>}
              {p.member && p.anonymous ? <span class="muted"> (anonymous)</span> : ""}
            </td>
            <td safe>{p.client}</td>
            <td class="num" safe>
              {formatSize(p.uploaded)}
            </td>
            <td class="num" safe>
              {formatSize(p.downloaded)}
            </td>
            <td class="num" safe>
              {`${(Math.floor(p.progress * 1000) / 10).toFixed(1)}%`}
            </td>
            <td class="num" safe>
              {`${duration(p.idleSeconds)} ago`}
            </td>
            <ConnectableCell state={p.connectable} />
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** The swarm section of a torrent: freeleech state and controls, peers, and for staff the snatches. */
export function SwarmSection(props: {
  page: PageContext;
  torrentId: number;
  freeleech: FreeleechView;
  seeders: readonly PeerView[];
  leechers: readonly PeerView[];
  /** Why the peer list is not shown (the tracker did not answer), when it is not. */
  peersUnavailable?: string;
  canSetFactors: boolean;
  canRequest: boolean;
  snatches: readonly SnatchView[] | null;
  errors?: Record<string, string>;
}) {
  const { base } = props.page;
  const id = String(props.torrentId);
  const f = props.freeleech;
  return (
    <section id="swarm">
      <h2>Credit</h2>
      <p>
        {f.badge ? <FactorBadge state={f} /> : "Normal credit: download and upload count in full."}
        {f.requested ? <span class="muted"> Freeleech requested by the uploader.</span> : ""}
      </p>
      {props.canSetFactors ? (
        <form class="inline" method="post" action={`${base}/torrents/${id}/freeleech`}>
          <Csrf page={props.page} />
          <label>
            Download factor{" "}
            <input name="download_factor" inputmode="decimal" size="4" value={String(f.own.downloadFactor)} />
          </label>{" "}
          <label>
            Upload factor{" "}
            <input name="upload_factor" inputmode="decimal" size="4" value={String(f.own.uploadFactor)} />
          </label>{" "}
          <button type="submit">Set</button>
          <FieldError errors={props.errors} name="download_factor" />
          <FieldError errors={props.errors} name="upload_factor" />
          <p class="muted">Freeleech: 0 and 1. Neutral: 0 and 0. Double upload: 1 and 2.</p>
        </form>
      ) : (
        ""
      )}
      {props.canRequest ? (
        <form class="inline" method="post" action={`${base}/torrents/${id}/freeleech-request`}>
          <Csrf page={props.page} />
          <input type="hidden" name="requested" value={f.requested ? "0" : "1"} />
          <button type="submit">{f.requested ? "Withdraw freeleech request" : "Request freeleech"}</button>
        </form>
      ) : (
        ""
      )}
      {props.peersUnavailable ? (
        <>
          <h2>Peers</h2>
          <p class="notice bad" role="status" safe>
            {props.peersUnavailable}
          </p>
        </>
      ) : (
        <>
          <h2>Seeders ({props.seeders.length})</h2>
          <PeerTable peers={props.seeders} empty="Nobody is seeding." />
          <h2>Leechers ({props.leechers.length})</h2>
          <PeerTable peers={props.leechers} empty="Nobody is leeching." />
        </>
      )}
      {props.snatches ? (
        <>
          <h2>Snatches</h2>
          {props.snatches.length === 0 ? (
            <p class="muted">Nobody has completed it yet.</p>
          ) : (
            <table class="list">
              <thead>
                <tr>
                  <th>Member</th>
                  <th>Completed</th>
                  <th class="num">Uploaded</th>
                  <th class="num">Downloaded</th>
                  <th class="num">Seeded</th>
                  <th>Now</th>
                </tr>
              </thead>
              <tbody>
                {props.snatches.map((s) => (
                  <tr>
                    <td>
                      <a href={`${base}/admin/users/${s.member.id}`} safe>
                        {s.member.name}
                      </a>
                    </td>
                    <td>
                      {s.completedAt ? s.completedAt.toISOString().slice(0, 16).replace("T", " ") : "—"}
                    </td>
                    <td class="num" safe>
                      {formatSize(s.uploaded)}
                    </td>
                    <td class="num" safe>
                      {formatSize(s.downloaded)}
                    </td>
                    <td class="num" safe>
                      {duration(s.seedSeconds)}
                    </td>
                    <td>{s.seeding ? "seeding" : ""}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </>
      ) : (
        ""
      )}
    </section>
  );
}

/** The swarm section as a page of its own (without htmx, or linked directly). */
export function SwarmPage(props: Parameters<typeof SwarmSection>[0] & { title: string }) {
  return (
    <Layout page={props.page} title={`Swarm: ${props.title}`}>
      <h1 safe>{props.title}</h1>
      <p>
        <a href={`${props.page.base}/torrents/${props.torrentId}`}>Back to the torrent</a>
      </p>
      {SwarmSection(props)}
    </Layout>
  );
}
