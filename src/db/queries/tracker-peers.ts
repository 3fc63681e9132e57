// The tracker's peers saved with the credit (sql/019_tracker_peers.sql): changed in the credit
// batch's own transaction, read back at start.
import {
  SWARM_FIELDS,
  SWARM_FLAG,
  SWARM_ROW,
  type SwarmChanges,
  type SwarmPeers,
  WAITING_FIELDS,
  WAITING_ROW,
  type WaitingChanges,
} from "../../shared/channel.ts";
import type { Sql, Tx } from "../client.ts";

/** One field of every packed row as a PostgreSQL array literal. */
function column(rows: Float64Array, fields: number, field: number): string {
  let out = "{";
  for (let o = field; o < rows.length; o += fields) {
    const v = rows[o]!;
    if (!Number.isFinite(v)) throw new RangeError(`not a finite number: ${v}`);
    out += (o === field ? "" : ",") + String(v);
  }
  return `${out}}`;
}

/**
 * Applies the peers' changes of one credit batch inside its transaction: the peers that went are
 * deleted, then the peers added or changed are written as they stood at the batch's cut.
 */
export async function writeSwarmChanges(tx: Tx, changes: SwarmChanges): Promise<void> {
  const { peers, removed, removedIds } = changes;
  if (changes.waiting) await writeWaiting(tx, changes.waiting);
  if (removed.length > 0)
    await tx`
      delete from tracker_peers p
      using (
        select r.torrent_id, r.user_id,
          substring(${Buffer.from(removedIds.buffer, removedIds.byteOffset, removedIds.byteLength)}::bytea
            from (r.n::int - 1) * 20 + 1 for 20) as peer_id
        from unnest(${column(removed, 2, 0)}::bigint[], ${column(removed, 2, 1)}::bigint[])
          with ordinality as r (torrent_id, user_id, n)
      ) g
      where p.torrent_id = g.torrent_id and p.user_id = g.user_id and p.peer_id = g.peer_id
    `;
  const rows = peers.rows;
  if (rows.length === 0) return;
  const ids = Buffer.from(peers.peerIds.buffer, peers.peerIds.byteOffset, peers.peerIds.byteLength);
  const addresses = Buffer.from(
    peers.addresses.buffer,
    peers.addresses.byteOffset,
    peers.addresses.byteLength,
  );
  const f = (field: number) => column(rows, SWARM_FIELDS, field);
  // Flags as SWARM_FLAG says: 1 seeder, 2 kept, 4 IPv6. One row per peer even if a batch named one twice (the last wins): a second update of the same
  // row in one statement would fail the whole batch.
  await tx`
    insert into tracker_peers (
      torrent_id, user_id, peer_id, kept, address, port, seeder, last_seen, uploaded, downloaded, left_bytes
    )
    select distinct on (torrent_id, user_id, peer_id)
      torrent_id, user_id, peer_id, kept, address, port, seeder, last_seen, up, down, left_bytes
    from (
      select r.torrent_id, r.user_id,
        substring(${ids}::bytea from (r.n::int - 1) * 20 + 1 for 20) as peer_id,
        (r.flags & 2) <> 0 as kept,
        substring(${addresses}::bytea from (r.n::int - 1) * 16 + 1
          for case when (r.flags & 4) <> 0 then 16 else 4 end) as address,
        r.port, (r.flags & 1) <> 0 as seeder, r.last_seen, r.up, r.down, r.left_bytes, r.n
      from unnest(
        ${f(SWARM_ROW.torrentId)}::bigint[], ${f(SWARM_ROW.userId)}::bigint[], ${f(SWARM_ROW.port)}::int[],
        ${f(SWARM_ROW.flags)}::int[], ${f(SWARM_ROW.lastSeen)}::bigint[], ${f(SWARM_ROW.uploaded)}::bigint[],
        ${f(SWARM_ROW.downloaded)}::bigint[], ${f(SWARM_ROW.left)}::float8[]
      ) with ordinality as r (torrent_id, user_id, port, flags, last_seen, up, down, left_bytes, n)
    ) d
    order by torrent_id, user_id, peer_id, n desc
    on conflict (torrent_id, user_id, peer_id) do update set
      kept = excluded.kept, address = excluded.address, port = excluded.port, seeder = excluded.seeder,
      last_seen = excluded.last_seen, uploaded = excluded.uploaded, downloaded = excluded.downloaded,
      left_bytes = excluded.left_bytes
  `;
}

/**
 * Replaces the waiting claims and downloads saved for the torrents in `waiting.torrents` with its
 * rows (one per torrent, member and kind; the last wins if a batch named one twice).
 */
async function writeWaiting(tx: Tx, waiting: WaitingChanges): Promise<void> {
  if (waiting.torrents.length === 0) return;
  await tx`
    delete from tracker_claims
    where torrent_id = any(${column(waiting.torrents, 1, 0)}::bigint[])
  `;
  const rows = waiting.rows;
  if (rows.length < WAITING_FIELDS) return;
  const f = (field: number) => column(rows, WAITING_FIELDS, field);
  await tx`
    insert into tracker_claims (torrent_id, user_id, kind, bytes, fed, at_seconds, start_seconds)
    select distinct on (torrent_id, user_id, kind)
      torrent_id, user_id, kind, bytes, fed, at_seconds, start_seconds
    from unnest(
      ${f(WAITING_ROW.torrentId)}::bigint[], ${f(WAITING_ROW.userId)}::bigint[], ${f(WAITING_ROW.kind)}::smallint[],
      ${f(WAITING_ROW.bytes)}::float8[], ${f(WAITING_ROW.fed)}::float8[], ${f(WAITING_ROW.at)}::float8[],
      ${f(WAITING_ROW.start)}::float8[]
    ) with ordinality as r (torrent_id, user_id, kind, bytes, fed, at_seconds, start_seconds, n)
    order by torrent_id, user_id, kind, n desc
  `;
}

/** Every waiting claim and download saved (see writeWaiting), packed for the tracker. */
export async function trackerClaims(sql: Sql): Promise<Float64Array> {
  const rows = await sql<
    {
      torrentId: number;
      userId: number;
      kind: number;
      bytes: number;
      fed: number;
      atSeconds: number;
      startSeconds: number;
    }[]
  >`
    select torrent_id as "torrentId", user_id as "userId", kind, bytes, fed, at_seconds as "atSeconds",
      start_seconds as "startSeconds"
    from tracker_claims
    order by torrent_id, user_id, kind
  `;
  const out = new Float64Array(rows.length * WAITING_FIELDS);
  rows.forEach((row, i) => {
    const o = i * WAITING_FIELDS;
    out[o + WAITING_ROW.torrentId] = Number(row.torrentId);
    out[o + WAITING_ROW.userId] = Number(row.userId);
    out[o + WAITING_ROW.kind] = row.kind;
    out[o + WAITING_ROW.bytes] = row.bytes;
    out[o + WAITING_ROW.fed] = row.fed;
    out[o + WAITING_ROW.at] = row.atSeconds;
    out[o + WAITING_ROW.start] = row.startSeconds;
  });
  return out;
}

/**
 * Before the saved peers are read at start: drops those of members and torrents that are gone and
 * those last seen before `forgetBefore` (Unix seconds: the peer timeout and the grace period ago,
 * so the tracker would drop them at once anyway), and makes every history row whose member has no
 * saved peer in the swarm stop saying seeding or leeching (a row older than the saved peers).
 */
export async function settleTrackerPeers(sql: Sql, forgetBefore: number): Promise<void> {
  await sql`
    delete from tracker_peers p
    where p.last_seen < ${forgetBefore}
      or not exists (select 1 from torrents t where t.id = p.torrent_id)
      or not exists (select 1 from users u where u.id = p.user_id)
  `;
  await sql`
    delete from tracker_claims c
    where not exists (select 1 from torrents t where t.id = c.torrent_id)
      or not exists (select 1 from users u where u.id = c.user_id)
  `;
  await sql`
    update user_torrent_stats s
    set seeding = false, leeching = false
    where (s.seeding or s.leeching)
      and not exists (
        select 1 from tracker_peers p
        where p.torrent_id = s.torrent_id and p.user_id = s.user_id and not p.kept
      )
  `;
}

const PAGE = 50_000;

/** Every saved peer, packed for the tracker (read page by page, in key order). */
export async function trackerPeers(sql: Sql, pageSize = PAGE): Promise<SwarmPeers> {
  let rows = new Float64Array(SWARM_FIELDS * 1024);
  let peerIds = new Uint8Array(20 * 1024);
  let addresses = new Uint8Array(16 * 1024);
  let n = 0;
  let after: [number, number, Buffer] = [0, 0, Buffer.alloc(0)];
  for (;;) {
    const page = await sql<
      {
        torrentId: number;
        userId: number;
        peerId: Buffer;
        kept: boolean;
        address: Buffer;
        port: number;
        seeder: boolean;
        lastSeen: number;
        uploaded: number;
        downloaded: number;
        leftBytes: number;
      }[]
    >`
      select torrent_id as "torrentId", user_id as "userId", peer_id as "peerId", kept, address, port,
        seeder, last_seen as "lastSeen", uploaded, downloaded, left_bytes as "leftBytes"
      from tracker_peers
      where (torrent_id, user_id, peer_id) > (${after[0]}::bigint, ${after[1]}::bigint, ${after[2]}::bytea)
      order by torrent_id, user_id, peer_id
      limit ${pageSize}
    `;
    if ((n + page.length) * SWARM_FIELDS > rows.length) {
      const want = Math.max(rows.length / SWARM_FIELDS, 1) * 2 + page.length;
      const r = new Float64Array(want * SWARM_FIELDS);
      r.set(rows);
      rows = r;
      const p = new Uint8Array(want * 20);
      p.set(peerIds);
      peerIds = p;
      const a = new Uint8Array(want * 16);
      a.set(addresses);
      addresses = a;
    }
    for (const row of page) {
      if (row.peerId.length !== 20 || (row.address.length !== 4 && row.address.length !== 16)) continue;
      const o = n * SWARM_FIELDS;
      rows[o + SWARM_ROW.torrentId] = Number(row.torrentId);
      rows[o + SWARM_ROW.userId] = Number(row.userId);
      rows[o + SWARM_ROW.port] = row.port;
      rows[o + SWARM_ROW.flags] =
        (row.seeder ? SWARM_FLAG.seeder : 0) |
        (row.kept ? SWARM_FLAG.kept : 0) |
        (row.address.length === 16 ? SWARM_FLAG.ipv6 : 0);
      rows[o + SWARM_ROW.lastSeen] = Number(row.lastSeen);
      rows[o + SWARM_ROW.uploaded] = Number(row.uploaded);
      rows[o + SWARM_ROW.downloaded] = Number(row.downloaded);
      rows[o + SWARM_ROW.left] = row.leftBytes;
      peerIds.set(row.peerId, n * 20);
      addresses.set(row.address, n * 16);
      n++;
    }
    if (page.length < pageSize) break;
    const last = page.at(-1)!;
    after = [Number(last.torrentId), Number(last.userId), last.peerId];
  }
  return {
    rows: rows.slice(0, n * SWARM_FIELDS),
    peerIds: peerIds.slice(0, n * 20),
    addresses: addresses.slice(0, n * 16),
  };
}
