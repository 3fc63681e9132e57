// What the connectable prober found (sql/020_waiting_claims_and_probes.sql, peer_probes): whether a
// member's peer accepted a BitTorrent handshake for its torrent at its address and port. Written
// by the process that runs the tracker; read by the seeding bonus, the peer lists and the history.
import type { Sql } from "../client.ts";

/** A saved peer's address and port for one torrent, due for a probe. */
export interface DueProbe {
  /** 4 bytes (IPv4) or 16 (IPv6). */
  readonly address: Uint8Array;
  readonly port: number;
  readonly infoHash: Uint8Array;
  readonly seeder: boolean;
}

/** One probe's outcome. */
export interface ProbeOutcome {
  readonly address: Uint8Array;
  readonly port: number;
  readonly infoHash: Uint8Array;
  readonly connectable: boolean;
}

/**
 * Up to `limit` (address, port, info_hash) of the peers saved with the credit (members' peers now
 * in a swarm) never probed or last probed more than `recheckSeconds` ago: seeders first, then those
 * never probed, then the oldest probes.
 */
export async function dueProbes(sql: Sql, limit: number, recheckSeconds: number): Promise<DueProbe[]> {
  if (limit <= 0) return [];
  const rows = await sql<{ address: Buffer; port: number; infoHash: Buffer; seeder: boolean }[]>`
    select address, port, info_hash as "infoHash", seeder
    from (
      select distinct on (p.address, p.port, t.info_hash)
        p.address, p.port, t.info_hash, p.seeder, r.probed_at
      from tracker_peers p
      join torrents t on t.id = p.torrent_id
      left join peer_probes r on r.address = p.address and r.port = p.port and r.info_hash = t.info_hash
      where not p.kept
        and p.port between 1 and 65535
        and (r.probed_at is null or r.probed_at < now() - make_interval(secs => ${recheckSeconds}))
      order by p.address, p.port, t.info_hash, p.seeder desc
    ) d
    order by seeder desc, probed_at asc nulls first
    limit ${limit}
  `;
  return rows.map((r) => ({
    address: new Uint8Array(r.address),
    port: r.port,
    infoHash: new Uint8Array(r.infoHash),
    seeder: r.seeder,
  }));
}

/** Records probe outcomes (the latest per address, port and torrent wins). */
export async function recordProbes(sql: Sql, outcomes: readonly ProbeOutcome[]): Promise<void> {
  for (const o of outcomes)
    await sql`
      insert into peer_probes (address, port, info_hash, connectable, probed_at)
      values (${Buffer.from(o.address)}, ${o.port}, ${Buffer.from(o.infoHash)}, ${o.connectable}, now())
      on conflict (address, port, info_hash) do update set
        connectable = excluded.connectable, probed_at = excluded.probed_at
    `;
}

/** Forgets probes older than `seconds` (their peers are long gone or probed again since). */
export async function forgetOldProbes(sql: Sql, seconds: number): Promise<void> {
  await sql`delete from peer_probes where probed_at < now() - make_interval(secs => ${seconds})`;
}

/**
 * Whether each saved peer of a torrent is connectable, by member and peer id (`${userId}:${hex}`):
 * true or false as last probed; peers never probed are absent (unknown).
 */
export async function torrentConnectable(sql: Sql, torrentId: number): Promise<Map<string, boolean>> {
  const rows = await sql<{ userId: number; peerId: Buffer; connectable: boolean }[]>`
    select p.user_id as "userId", p.peer_id as "peerId", r.connectable
    from tracker_peers p
    join torrents t on t.id = p.torrent_id
    join peer_probes r on r.address = p.address and r.port = p.port and r.info_hash = t.info_hash
    where p.torrent_id = ${torrentId} and not p.kept
  `;
  return new Map(rows.map((r) => [peerKey(Number(r.userId), r.peerId), r.connectable]));
}

/** The key of a peer in {@link torrentConnectable}'s map. */
export function peerKey(userId: number, peerId: Uint8Array): string {
  return `${userId}:${Buffer.from(peerId).toString("hex")}`;
}
