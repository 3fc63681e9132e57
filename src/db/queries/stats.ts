import { DELTA_FIELDS, type StatDeltas, type TorrentCounts } from "../../shared/channel.ts";
import type { Sql } from "../client.ts";

/**
 * A PostgreSQL array literal of numbers or booleans, passed as one text parameter and cast in SQL:
 * cheaper than one parameter per value, and postgres.js does not infer array types for our custom
 * bigint type. Only finite numbers and booleans get here, so the literal needs no quoting.
 */
export function pgArray(values: readonly (number | boolean)[]): string {
  let out = "{";
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (typeof v === "number" && !Number.isFinite(v)) throw new RangeError(`not a finite number: ${v}`);
    out += (i ? "," : "") + (typeof v === "boolean" ? (v ? "t" : "f") : String(v));
  }
  return `${out}}`;
}

/**
 * One field of every packed credit row as a PostgreSQL array literal (see pgArray); `asBoolean`
 * writes 1 as true and anything else as false.
 */
function pgColumn(deltas: StatDeltas, field: number, asBoolean = false): string {
  let out = "{";
  for (let o = field; o < deltas.length; o += DELTA_FIELDS) {
    const v = deltas[o]!;
    if (!Number.isFinite(v)) throw new RangeError(`not a finite number: ${v}`);
    out += (o === field ? "" : ",") + (asBoolean ? (v === 1 ? "t" : "f") : String(v));
  }
  return `${out}}`;
}

/** Stat deltas to write, tagged with the tracker run and the highest sequence number they include. */
export interface StatBatch {
  readonly source: string;
  readonly seq: number;
  readonly deltas: StatDeltas;
}

/**
 * Writes one batch in one transaction: per-(member, torrent) totals and snatches, member totals and
 * torrent snatch counts. A batch whose sequence number was already applied for its source changes
 * nothing (returns false). Deltas for members or torrents deleted meanwhile are dropped.
 */
export async function applyStatBatch(sql: Sql, batch: StatBatch): Promise<boolean> {
  if (batch.deltas.length === 0) return true;
  const users = pgColumn(batch.deltas, 0);
  const torrents = pgColumn(batch.deltas, 1);
  const ups = pgColumn(batch.deltas, 2);
  const downs = pgColumn(batch.deltas, 3);
  const done = pgColumn(batch.deltas, 4, true);
  return (await sql.begin(async (tx) => {
    const [seen] = await tx`
      select last_seq from stat_batches
      where source = ${batch.source}
      for update
    `;
    if (seen && Number(seen.last_seq) >= batch.seq) return false;
    await tx`
      insert into stat_batches (source, last_seq)
      values (${batch.source}, ${batch.seq})
      on conflict (source) do update set last_seq = excluded.last_seq, applied_at = now()
    `;
    await tx`
      create temporary table delta (
        user_id bigint, torrent_id bigint, uploaded bigint, downloaded bigint, completed boolean
      ) on commit drop
    `;
    await tx`
      insert into delta
      select d.user_id, d.torrent_id, sum(d.up), sum(d.down), bool_or(d.done)
      from unnest(
        ${users}::bigint[], ${torrents}::bigint[], ${ups}::bigint[], ${downs}::bigint[], ${done}::boolean[]
      ) as d (user_id, torrent_id, up, down, done)
      join users u on u.id = d.user_id
      join torrents t on t.id = d.torrent_id
      group by d.user_id, d.torrent_id
    `;
    // A snatch counts once per member and torrent: only where no completion was recorded before.
    await tx`
      update torrents t
      set snatches = t.snatches + n.count
      from (
        select d.torrent_id, count(*)::int as count
        from delta d
        left join user_torrent_stats s on s.user_id = d.user_id and s.torrent_id = d.torrent_id
        where d.completed and s.completed_at is null
        group by d.torrent_id
      ) n
      where t.id = n.torrent_id
    `;
    await tx`
      insert into user_torrent_stats (user_id, torrent_id, uploaded, downloaded, completed_at)
      select user_id, torrent_id, uploaded, downloaded, case when completed then now() end
      from delta
      on conflict (user_id, torrent_id) do update set
        uploaded = user_torrent_stats.uploaded + excluded.uploaded,
        downloaded = user_torrent_stats.downloaded + excluded.downloaded,
        completed_at = coalesce(user_torrent_stats.completed_at, excluded.completed_at)
    `;
    await tx`
      update users u
      set uploaded = u.uploaded + s.uploaded, downloaded = u.downloaded + s.downloaded
      from (
        select user_id, sum(uploaded) as uploaded, sum(downloaded) as downloaded
        from delta
        group by user_id
      ) s
      where u.id = s.user_id
    `;
    return true;
  })) as boolean;
}

/** Stores the latest seeder and leecher counts so lists can sort by them. */
export async function writeSwarmCounts(sql: Sql, counts: readonly TorrentCounts[]): Promise<void> {
  if (counts.length === 0) return;
  await sql`
    update torrent_counts t
    set seeders = c.seeders, leechers = c.leechers
    from unnest(
      ${pgArray(counts.map((c) => c[0]))}::bigint[],
      ${pgArray(counts.map((c) => c[1]))}::int[],
      ${pgArray(counts.map((c) => c[2]))}::int[]
    ) as c (id, seeders, leechers)
    where t.torrent_id = c.id
      and (t.seeders, t.leechers) is distinct from (c.seeders, c.leechers)
  `;
}
