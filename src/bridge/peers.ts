import type { Sql } from "../db/client.ts";
import { type PeerRow, peerMembers, torrentPeers, unpackPeers } from "../db/queries/peers.ts";
import type { ToWeb, TrackerLink } from "./vocabulary.ts";

/**
 * A torrent's peers, asked of the tracker when someone looks: null when the tracker does not know
 * the torrent; throws {@link PeersUnavailableError} when it does not answer in time.
 */
export type PeerSource = (torrentId: number, limit: number) => Promise<PeerRow[] | null>;

/** The tracker did not answer a peer-list request in time. */
export class PeersUnavailableError extends Error {}

/** How long a page waits for the tracker's answer. */
const ANSWER_TIMEOUT_MS = 1500;
/**
 * An answer serves every request for the same list within this long: however many members look,
 * a swarm is listed at most once a second per web process.
 */
const FRESH_MS = 1000;

type Answer = Extract<ToWeb, { kind: "peers" } | { kind: "peers-ready" }>;

/**
 * Asks over `channel`. In one process the tracker Worker answers with the list itself; a web
 * process of a larger site hears (over PostgreSQL) only that the tracker process wrote the list
 * into `torrent_peers`, and reads it there. The swarms stay in the tracker's memory either way:
 * nothing is written for them on the announce path.
 */
export function peerSource(
  sql: Sql,
  channel: TrackerLink,
  options: { timeoutMs?: number; freshMs?: number; now?: () => number } = {},
): PeerSource {
  const timeoutMs = options.timeoutMs ?? ANSWER_TIMEOUT_MS;
  const freshMs = options.freshMs ?? FRESH_MS;
  const clock = options.now ?? Date.now;
  const waiting = new Map<number, (answer: Answer) => void>();
  const recent = new Map<string, { at: number; rows: Promise<PeerRow[] | null> }>();
  // Several web processes hear every answer over PostgreSQL: each counts from its own random start.
  let nonce = Math.floor(Math.random() * 2 ** 48);
  channel.onMessage((message) => {
    if (message.kind !== "peers" && message.kind !== "peers-ready") return;
    const settle = waiting.get(message.nonce);
    waiting.delete(message.nonce);
    settle?.(message);
  });

  const ask = (torrentId: number, limit: number) =>
    new Promise<Answer>((resolve, reject) => {
      const n = ++nonce;
      const timer = setTimeout(() => {
        waiting.delete(n);
        reject(new PeersUnavailableError("the tracker did not answer"));
      }, timeoutMs);
      waiting.set(n, (answer) => {
        clearTimeout(timer);
        resolve(answer);
      });
      channel.send({ kind: "peers-request", nonce: n, torrentId, limit });
    });

  async function fetchRows(torrentId: number, limit: number): Promise<PeerRow[] | null> {
    const answer = await ask(torrentId, limit);
    if (answer.kind === "peers-ready") return answer.known ? await torrentPeers(sql, torrentId) : null;
    if (!answer.list) return null;
    const peers = unpackPeers(answer.list);
    const members = await peerMembers(
      sql,
      peers.map((p) => p.userId),
    );
    const rows: PeerRow[] = [];
    for (const p of peers) {
      const member = members.get(p.userId);
      if (member) rows.push({ ...p, ...member });
    }
    return rows;
  }

  return (torrentId, limit) => {
    const key = `${torrentId}:${limit}`;
    const now = clock();
    const hit = recent.get(key);
    if (hit && now - hit.at < freshMs) return hit.rows;
    for (const [k, v] of recent) if (now - v.at >= freshMs) recent.delete(k);
    const rows = fetchRows(torrentId, limit);
    recent.set(key, { at: now, rows });
    // A failed answer is not kept for others.
    rows.catch(() => {
      if (recent.get(key)?.rows === rows) recent.delete(key);
    });
    return rows;
  };
}
