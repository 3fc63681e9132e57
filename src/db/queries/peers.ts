import { PEER_FIELDS, PEER_ROW, type PeerList } from "../../shared/channel.ts";
import type { Sql } from "../client.ts";
import { pgArray } from "./stats.ts";

/** 20-byte peer ids, one after another, as a PostgreSQL text array literal of hex strings. */
function hexArray(ids: Uint8Array): string {
  const out: string[] = [];
  for (let o = 0; o + 20 <= ids.length; o += 20)
    out.push(Buffer.from(ids.subarray(o, o + 20)).toString("hex"));
  return `{${out.join(",")}}`;
}

/** A peer of a swarm as the tracker reports it: a member id, not yet a name. */
export interface SwarmPeer {
  userId: number;
  peerId: Uint8Array;
  uploaded: number;
  downloaded: number;
  left: number;
  seeder: boolean;
  announcedAt: Date;
}

/**
 * The rows of a packed peer list, in order. A row the tracker could not have made (a number that
 * is not a whole, non-negative one) is left out rather than refusing the list.
 */
export function unpackPeers(list: PeerList): SwarmPeer[] {
  const { rows, peerIds } = list;
  const out: SwarmPeer[] = [];
  const valid = (n: number) => Number.isSafeInteger(n) && n >= 0;
  for (
    let i = 0, o = 0;
    o + PEER_FIELDS <= rows.length && (i + 1) * 20 <= peerIds.length;
    i++, o += PEER_FIELDS
  ) {
    let ok = true;
    for (let f = 0; f < PEER_FIELDS; f++) if (!valid(rows[o + f]!)) ok = false;
    if (!ok || rows[o + PEER_ROW.userId] === 0) continue;
    out.push({
      userId: rows[o + PEER_ROW.userId]!,
      peerId: peerIds.slice(i * 20, i * 20 + 20),
      uploaded: rows[o + PEER_ROW.uploaded]!,
      downloaded: rows[o + PEER_ROW.downloaded]!,
      left: rows[o + PEER_ROW.left]!,
      seeder: rows[o + PEER_ROW.seeder] === 1,
      announcedAt: new Date(rows[o + PEER_ROW.lastSeen]! * 1000),
    });
  }
  return out;
}

/**
 * Replaces the peer list kept for one torrent with `list`, in one transaction (rows of members
 * deleted meanwhile are skipped). Lists of other torrents older than `staleSeconds` go too, so
 * the table holds only lists recently asked for. Written by a tracker process for a web process
 * that asked (see `PeerSource`).
 */
export async function writePeerList(
  sql: Sql,
  torrentId: number,
  list: PeerList,
  staleSeconds: number,
): Promise<void> {
  const peers = unpackPeers(list);
  const ids = new Uint8Array(peers.length * 20);
  for (let i = 0; i < peers.length; i++) ids.set(peers[i]!.peerId, i * 20);
  await sql.begin(async (tx) => {
    await tx`delete from torrent_peers where torrent_id = ${torrentId}`;
    if (peers.length > 0)
      await tx`
        insert into torrent_peers (torrent_id, peer_id, user_id, uploaded, downloaded, "left", seeder, announced_at)
        select ${torrentId}, decode(r.peer_id, 'hex'), r.user_id, r.up, r.down, r.left_bytes, r.seeder,
          to_timestamp(r.at)
        from unnest(
          ${hexArray(ids)}::text[], ${pgArray(peers.map((p) => p.userId))}::bigint[],
          ${pgArray(peers.map((p) => p.uploaded))}::bigint[], ${pgArray(peers.map((p) => p.downloaded))}::bigint[],
          ${pgArray(peers.map((p) => p.left))}::bigint[], ${pgArray(peers.map((p) => p.seeder))}::boolean[],
          ${pgArray(peers.map((p) => p.announcedAt.getTime() / 1000))}::float8[]
        ) as r (peer_id, user_id, up, down, left_bytes, seeder, at)
        where exists (select from torrents t where t.id = ${torrentId})
          and exists (select from users u where u.id = r.user_id)
        on conflict (torrent_id, peer_id) do nothing
      `;
    await tx`
      delete from torrent_peers
      where announced_at < now() - make_interval(secs => ${staleSeconds}) and torrent_id <> ${torrentId}
    `;
  });
}

/** A peer of a swarm as the peer list shows it. */
export interface PeerRow extends SwarmPeer {
  name: string;
  anonymous: boolean;
}

/** The peer list last written for a torrent (see writePeerList), seeders first, most recent first. */
export async function torrentPeers(sql: Sql, torrentId: number): Promise<PeerRow[]> {
  return await sql<PeerRow[]>`
    select p.user_id as "userId", u.name, u.anonymous, p.peer_id as "peerId", p.uploaded, p.downloaded,
      p."left", p.seeder, p.announced_at as "announcedAt"
    from torrent_peers p
    join users u on u.id = p.user_id
    where p.torrent_id = ${torrentId}
    order by p.seeder desc, p.announced_at desc, p.peer_id
  `;
}

/** Names and anonymity of the members behind peers; members deleted meanwhile are absent. */
export async function peerMembers(
  sql: Sql,
  ids: readonly number[],
): Promise<Map<number, { name: string; anonymous: boolean }>> {
  const unique = [...new Set(ids)];
  if (unique.length === 0) return new Map();
  const rows = await sql<{ id: number; name: string; anonymous: boolean }[]>`
    select id, name, anonymous from users where id = any(${pgArray(unique)}::bigint[])
  `;
  return new Map(rows.map((r) => [Number(r.id), { name: r.name, anonymous: r.anonymous }]));
}
