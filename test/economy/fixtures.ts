// Members' torrent histories written straight into the database, as the tracker's accounting will
// write them, for the hit-and-run and bonus rules to read.
import type { Sql } from "../../src/db/client.ts";

let next = 1;

/** A torrent of `size` bytes, created at `createdAt`, with `seeders` in its swarm counts. */
export async function torrent(
  sql: Sql,
  input: { title?: string; size: number; createdAt?: Date; seeders?: number },
): Promise<number> {
  const n = next++;
  const hash = Buffer.alloc(20);
  hash.writeUInt32BE(n, 0);
  hash.writeUInt32BE(process.pid, 4);
  hash.writeUInt32BE(Math.floor(Math.random() * 2 ** 32), 8);
  const [row] = await sql<{ id: number }[]>`
    insert into torrents (info_hash, title, size, files, metainfo, created_at)
    values (${hash}, ${input.title ?? `Torrent ${n}`}, ${input.size}, ${sql.json([])}, ${Buffer.from("d4:infod4:name1:xee")},
      ${input.createdAt ?? new Date()})
    returning id
  `;
  await sql`update torrent_counts set seeders = ${input.seeders ?? 1} where torrent_id = ${row!.id}`;
  return row!.id;
}

/**
 * One member's history on one torrent: any of its columns, the rest left at their defaults. With
 * `seeding: true`, the member also gets a seeder saved in the swarm (tracker_peers) whose last
 * probe found it connectable, as the tracker and its prober would write them; `connectable` false
 * says its probe failed, null that it was never probed.
 */
export async function history(
  sql: Sql,
  userId: number,
  torrentId: number,
  values: {
    uploaded?: number;
    downloaded?: number;
    completed_at?: Date | null;
    seed_seconds?: number;
    seeding?: boolean;
    last_announce_at?: Date | null;
    connectable?: boolean | null;
  },
): Promise<void> {
  const { connectable = true, ...columns } = values;
  values = columns;
  if (values.seeding === true) await seeder(sql, userId, torrentId, connectable);
  await sql`
    insert into user_torrent_stats (user_id, torrent_id) values (${userId}, ${torrentId})
    on conflict do nothing
  `;
  const set = Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined));
  if (Object.keys(set).length === 0) return;
  await sql`
    update user_torrent_stats set ${sql(set)}
    where user_id = ${userId} and torrent_id = ${torrentId}
  `;
}

/** A seeder of the member saved in the torrent's swarm, probed `connectable` (null: never probed). */
async function seeder(
  sql: Sql,
  userId: number,
  torrentId: number,
  connectable: boolean | null,
): Promise<void> {
  const address = Buffer.from([127, 0, (userId >> 8) & 255, userId & 255]);
  const port = 10_000 + (torrentId % 20_000);
  const peerId = Buffer.from(crypto.getRandomValues(new Uint8Array(20)));
  await sql`
    insert into tracker_peers (torrent_id, user_id, peer_id, kept, address, port, seeder, last_seen, uploaded,
      downloaded, left_bytes)
    values (${torrentId}, ${userId}, ${peerId}, false, ${address}, ${port}, true, ${Math.floor(Date.now() / 1000)},
      0, 0, 0)
  `;
  if (connectable === null) return;
  await sql`
    insert into peer_probes (address, port, info_hash, connectable, probed_at)
    select ${address}, ${port}, info_hash, ${connectable}, now() from torrents where id = ${torrentId}
    on conflict (address, port, info_hash) do update set connectable = excluded.connectable
  `;
}
