import { PEER_FIELDS, type PeerBatch } from "../../shared/channel.ts";
import type { Sql } from "../client.ts";
import { pgArray } from "./stats.ts";

/** 20-byte peer ids, one after another, as a PostgreSQL text array literal of hex strings. */
function hexArray(ids: Uint8Array): string {
  const out: string[] = [];
  for (let o = 0; o + 20 <= ids.length; o += 20)
    out.push(Buffer.from(ids.subarray(o, o + 20)).toString("hex"));
  return `{${out.join(",")}}`;
}

/** One field of every packed peer row. */
function column(rows: Float64Array, field: number): number[] {
  const out: number[] = [];
  for (let o = field; o < rows.length; o += PEER_FIELDS) out.push(rows[o]!);
  return out;
}

/**
 * Writes a batch of the tracker's peers into `torrent_peers` in one transaction: peers that left
 * are removed, peers that announced are upserted (rows of members or torrents deleted meanwhile
 * are skipped), and rows not announced for `staleSeconds` (peers of a tracker run that ended) go.
 */
export async function applyPeerBatch(sql: Sql, batch: PeerBatch, staleSeconds: number): Promise<void> {
  const rows = batch.rows;
  const valid = (n: number, max = Number.MAX_SAFE_INTEGER) => Number.isSafeInteger(n) && n >= 0 && n <= max;
  // A row the tracker could not have made is left out rather than refusing the batch.
  const keep: number[] = [];
  for (let i = 0, o = 0; o + PEER_FIELDS <= rows.length; i++, o += PEER_FIELDS) {
    let ok = true;
    for (let f = 0; f < PEER_FIELDS; f++) if (!valid(rows[o + f]!, 2 ** 62)) ok = false;
    if (ok) keep.push(i);
  }
  const kept = new Float64Array(keep.length * PEER_FIELDS);
  const keptIds = new Uint8Array(keep.length * 20);
  keep.forEach((i, k) => {
    kept.set(rows.subarray(i * PEER_FIELDS, (i + 1) * PEER_FIELDS), k * PEER_FIELDS);
    keptIds.set(batch.peerIds.subarray(i * 20, i * 20 + 20), k * 20);
  });
  const gone = Array.from(batch.gone).filter((n) => valid(n));
  await sql.begin(async (tx) => {
    if (gone.length === batch.gone.length && gone.length > 0)
      await tx`
        delete from torrent_peers p
        using unnest(${pgArray(gone)}::bigint[], ${hexArray(batch.goneIds)}::text[]) as g (torrent_id, peer_id)
        where p.torrent_id = g.torrent_id and p.peer_id = decode(g.peer_id, 'hex')
      `;
    if (keep.length > 0)
      await tx`
        insert into torrent_peers (torrent_id, peer_id, user_id, uploaded, downloaded, "left", seeder, started_at, announced_at)
        select r.torrent_id, decode(r.peer_id, 'hex'), r.user_id, r.up, r.down, r.left_bytes, r.seeder = 1,
          to_timestamp(r.at), to_timestamp(r.at)
        from unnest(
          ${pgArray(column(kept, 0))}::bigint[], ${hexArray(keptIds)}::text[], ${pgArray(column(kept, 1))}::bigint[],
          ${pgArray(column(kept, 2))}::bigint[], ${pgArray(column(kept, 3))}::bigint[],
          ${pgArray(column(kept, 4))}::bigint[], ${pgArray(column(kept, 5))}::int[], ${pgArray(column(kept, 6))}::float8[]
        ) as r (torrent_id, peer_id, user_id, up, down, left_bytes, seeder, at)
        where exists (select from torrents t where t.id = r.torrent_id)
          and exists (select from users u where u.id = r.user_id)
        on conflict (torrent_id, peer_id) do update set
          user_id = excluded.user_id, uploaded = excluded.uploaded, downloaded = excluded.downloaded,
          "left" = excluded."left", seeder = excluded.seeder, announced_at = excluded.announced_at,
          -- A new session (its counters went back) starts anew.
          started_at = case when excluded.uploaded < torrent_peers.uploaded
            or excluded.downloaded < torrent_peers.downloaded then excluded.started_at
            else torrent_peers.started_at end
      `;
    await tx`delete from torrent_peers where announced_at < now() - make_interval(secs => ${staleSeconds})`;
  });
}

/** A peer of a swarm as the peer list shows it. */
export interface PeerRow {
  userId: number;
  name: string;
  anonymous: boolean;
  peerId: Uint8Array;
  uploaded: number;
  downloaded: number;
  left: number;
  seeder: boolean;
  startedAt: Date;
  announcedAt: Date;
}

/** The peers of a torrent, seeders first, most recent announce first; at most `limit`. */
export async function torrentPeers(sql: Sql, torrentId: number, limit = 200): Promise<PeerRow[]> {
  return await sql<PeerRow[]>`
    select p.user_id as "userId", u.name, u.anonymous, p.peer_id as "peerId", p.uploaded, p.downloaded,
      p."left", p.seeder, p.started_at as "startedAt", p.announced_at as "announcedAt"
    from torrent_peers p
    join users u on u.id = p.user_id
    where p.torrent_id = ${torrentId}
    order by p.seeder desc, p.announced_at desc, p.peer_id
    limit ${limit}
  `;
}
