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

/** One member's history on one torrent: any of its columns, the rest left at their defaults. */
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
  },
): Promise<void> {
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
