import type { SuspiciousTransfer } from "../../shared/channel.ts";
import type { Sql } from "../client.ts";

/** Suspicious transfers of one tracker run, with the highest sequence number they include. */
export interface SuspiciousWrite {
  readonly source: string;
  readonly seq: number;
  readonly records: readonly SuspiciousTransfer[];
}

/** Rows per insert statement: well below PostgreSQL's limit of 65535 parameters. */
const INSERT_CHUNK = 2000;
/** Most rows one member gets a day (UTC); further records are only counted in the tally. */
export const MAX_ROWS_PER_MEMBER_DAY = 50;
/** Repeats within one hour of one (member, torrent, reasons) are one row. */
const HOUR_SECONDS = 3600;
/** Summed claims and credit stop here (the API's numbers stay exact); seconds at an integer's top. */
const MAX_BYTES = Number.MAX_SAFE_INTEGER;
const MAX_SECONDS = 2 ** 31 - 1;

function saturated(n: number): number {
  return Math.min(Math.max(n, -MAX_BYTES), MAX_BYTES);
}

/** One row to insert or add to: the records of one (member, torrent, reasons, hour) in a batch. */
interface Repeat {
  userId: number;
  torrentId: number | null;
  peerId: Buffer;
  userAgent: string | null;
  claimedUp: number;
  claimedDown: number;
  creditedUp: number;
  creditedDown: number;
  seconds: number;
  reasons: string[];
  at: Date;
  firstAt: Date;
  hour: number;
  repeats: number;
}

function repeatKey(r: { userId: number; torrentId: number | null; reasons: string[]; hour: number }): string {
  return `${r.userId}:${r.torrentId}:${r.reasons.join(",")}:${r.hour}`;
}

/**
 * Stores one batch in one transaction: its records (those of members deleted meanwhile are dropped;
 * a deleted torrent leaves its record without one) and each member's tally. The records of one
 * (member, torrent, reasons) within one hour are one row, with a repeat count and summed figures; a
 * member gets at most MAX_ROWS_PER_MEMBER_DAY rows a day, the records beyond are counted in the
 * tally only (`unlisted`). A batch whose sequence number was already applied for its source changes
 * nothing (returns false).
 */
export async function applySuspiciousBatch(sql: Sql, batch: SuspiciousWrite): Promise<boolean> {
  if (batch.records.length === 0) return true;
  return (await sql.begin(async (tx) => {
    const [seen] = await tx<{ lastSeq: number }[]>`
      select last_seq from suspicious_batches
      where source = ${batch.source}
      for update
    `;
    if (seen && Number(seen.lastSeq) >= batch.seq) return false;
    await tx`
      insert into suspicious_batches (source, last_seq)
      values (${batch.source}, ${batch.seq})
      on conflict (source) do update set last_seq = excluded.last_seq, applied_at = now()
    `;
    const userIds = [...new Set(batch.records.map((r) => r.userId))];
    const torrentIds = [...new Set(batch.records.map((r) => r.torrentId))];
    const users = new Set(
      (await tx<{ id: number }[]>`select id from users where id in ${tx(userIds)}`).map((r) => r.id),
    );
    const torrents = new Set(
      (await tx<{ id: number }[]>`select id from torrents where id in ${tx(torrentIds)}`).map((r) => r.id),
    );
    const records = batch.records.filter((r) => users.has(r.userId));
    if (records.length === 0) return true;
    const repeats = new Map<string, Repeat>();
    for (const r of records) {
      const at = new Date(r.at * 1000);
      const next: Repeat = {
        userId: r.userId,
        torrentId: torrents.has(r.torrentId) ? r.torrentId : null,
        peerId: Buffer.from(r.peerId),
        userAgent: r.userAgent,
        claimedUp: r.claimedUp,
        claimedDown: r.claimedDown,
        creditedUp: r.creditedUp,
        creditedDown: r.creditedDown,
        seconds: r.seconds,
        reasons: [...r.reasons],
        at,
        firstAt: at,
        hour: Math.floor(r.at / HOUR_SECONDS),
        repeats: 1,
      };
      // Keyed by the tracker's torrent id: records of two torrents deleted meanwhile stay apart.
      const key = `${repeatKey(next)}:${r.torrentId}`;
      const same = repeats.get(key);
      if (!same) {
        repeats.set(key, next);
        continue;
      }
      same.repeats++;
      same.claimedUp = saturated(same.claimedUp + next.claimedUp);
      same.claimedDown = saturated(same.claimedDown + next.claimedDown);
      same.creditedUp = saturated(same.creditedUp + next.creditedUp);
      same.creditedDown = saturated(same.creditedDown + next.creditedDown);
      same.seconds = Math.min(same.seconds + next.seconds, MAX_SECONDS);
      if (at < same.firstAt) same.firstAt = at;
      if (at >= same.at) {
        same.at = at;
        same.peerId = next.peerId;
        same.userAgent = next.userAgent;
      }
    }
    // Rows already there take more repeats freely; a new row counts against its member's day.
    const hours = [...new Set([...repeats.values()].map((r) => r.hour))];
    const days = [...new Set(hours.map((h) => Math.floor(h / 24)))];
    const present = new Set<string>();
    const perDay = new Map<string, number>();
    const kept = await tx<{ userId: number; torrentId: number | null; reasons: string[]; hour: number }[]>`
      select user_id, torrent_id, reasons, hour::float8 as hour from suspicious_transfers
      where user_id in ${tx(userIds)} and hour / 24 in ${tx(days)}
    `;
    for (const row of kept) {
      present.add(repeatKey(row));
      const day = `${row.userId}:${Math.floor(row.hour / 24)}`;
      perDay.set(day, (perDay.get(day) ?? 0) + 1);
    }
    const rows: Repeat[] = [];
    const unlisted = new Map<number, number>();
    for (const r of repeats.values()) {
      if (r.torrentId === null || !present.has(repeatKey(r))) {
        const day = `${r.userId}:${Math.floor(r.hour / 24)}`;
        const n = perDay.get(day) ?? 0;
        if (n >= MAX_ROWS_PER_MEMBER_DAY) {
          unlisted.set(r.userId, (unlisted.get(r.userId) ?? 0) + r.repeats);
          continue;
        }
        perDay.set(day, n + 1);
        if (r.torrentId !== null) present.add(repeatKey(r));
      }
      rows.push(r);
    }
    for (let i = 0; i < rows.length; i += INSERT_CHUNK)
      await tx`
        insert into suspicious_transfers ${tx(rows.slice(i, i + INSERT_CHUNK))}
        on conflict (user_id, torrent_id, reasons, hour) do update set
          repeats = suspicious_transfers.repeats + excluded.repeats,
          claimed_up = greatest(least(suspicious_transfers.claimed_up::numeric + excluded.claimed_up,
            ${MAX_BYTES}), ${-MAX_BYTES})::bigint,
          claimed_down = greatest(least(suspicious_transfers.claimed_down::numeric + excluded.claimed_down,
            ${MAX_BYTES}), ${-MAX_BYTES})::bigint,
          credited_up = least(suspicious_transfers.credited_up::numeric + excluded.credited_up, ${MAX_BYTES})::bigint,
          credited_down = least(suspicious_transfers.credited_down::numeric + excluded.credited_down,
            ${MAX_BYTES})::bigint,
          seconds = least(suspicious_transfers.seconds::bigint + excluded.seconds, ${MAX_SECONDS})::integer,
          first_at = least(suspicious_transfers.first_at, excluded.first_at),
          peer_id = case when excluded.at >= suspicious_transfers.at then excluded.peer_id
            else suspicious_transfers.peer_id end,
          user_agent = case when excluded.at >= suspicious_transfers.at then excluded.user_agent
            else suspicious_transfers.user_agent end,
          at = greatest(suspicious_transfers.at, excluded.at)
      `;
    // The tally counts every record, listed or not.
    const tally = new Map<number, { records: number; up: bigint; down: bigint; last: number }>();
    for (const r of records) {
      const t = tally.get(r.userId) ?? { records: 0, up: 0n, down: 0n, last: 0 };
      t.records++;
      if (r.claimedUp > r.creditedUp) t.up += BigInt(r.claimedUp - r.creditedUp);
      if (r.claimedDown > r.creditedDown) t.down += BigInt(r.claimedDown - r.creditedDown);
      t.last = Math.max(t.last, r.at * 1000);
      tally.set(r.userId, t);
    }
    const totals = [...tally].map(([id, t]) => ({
      userId: id,
      records: t.records,
      uncreditedUp: t.up.toString(),
      uncreditedDown: t.down.toString(),
      lastAt: new Date(t.last),
      unlisted: unlisted.get(id) ?? 0,
    }));
    await tx`
      insert into suspicious_tally ${tx(totals)}
      on conflict (user_id) do update set
        records = suspicious_tally.records + excluded.records,
        uncredited_up = suspicious_tally.uncredited_up + excluded.uncredited_up,
        uncredited_down = suspicious_tally.uncredited_down + excluded.uncredited_down,
        last_at = greatest(suspicious_tally.last_at, excluded.last_at),
        unlisted = suspicious_tally.unlisted + excluded.unlisted
    `;
    return true;
  })) as boolean;
}

/** A suspicious transfer as moderators see it. */
export interface SuspiciousRow {
  id: number;
  userId: number;
  member: string;
  torrentId: number | null;
  torrent: string | null;
  peerId: Buffer;
  userAgent: string | null;
  claimedUp: number;
  claimedDown: number;
  creditedUp: number;
  creditedDown: number;
  seconds: number;
  reasons: string[];
  at: Date;
  /** Announces this row stands for (its figures are their sums), and the first one's time. */
  repeats: number;
  firstAt: Date;
}

/** Suspicious transfers newest first, one more than `limit` so the caller knows of a next page. */
export async function recentSuspicious(
  sql: Sql,
  options: { limit: number; offset: number },
): Promise<SuspiciousRow[]> {
  return sql<SuspiciousRow[]>`
    select s.id, s.user_id, u.name as member, s.torrent_id, t.title as torrent, s.peer_id, s.user_agent,
      s.claimed_up, s.claimed_down, s.credited_up, s.credited_down, s.seconds, s.reasons, s.at,
      s.repeats::float8 as repeats, coalesce(s.first_at, s.at) as first_at
    from suspicious_transfers s
    join users u on u.id = s.user_id
    left join torrents t on t.id = s.torrent_id
    order by s.at desc, s.id desc
    limit ${options.limit + 1}
    offset ${options.offset}
  `;
}

/** One member's tally of suspicious transfers; uncredited bytes as decimal text (they may pass 2^53). */
export interface TallyRow {
  userId: number;
  member: string;
  records: number;
  uncreditedUp: string;
  uncreditedDown: string;
  lastAt: Date;
}

/** The members with the most suspicious transfers, most first. */
export async function suspiciousTally(sql: Sql, limit: number): Promise<TallyRow[]> {
  return sql<TallyRow[]>`
    select s.user_id, u.name as member, s.records, s.uncredited_up::text, s.uncredited_down::text, s.last_at
    from suspicious_tally s
    join users u on u.id = s.user_id
    order by s.records desc, s.user_id
    limit ${limit}
  `;
}
