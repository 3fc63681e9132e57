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

/**
 * Stores one batch in one transaction: its records (those of members deleted meanwhile are dropped;
 * a deleted torrent leaves its record without one) and each member's tally. A batch whose sequence
 * number was already applied for its source changes nothing (returns false).
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
    const rows = batch.records
      .filter((r) => users.has(r.userId))
      .map((r) => ({
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
        at: new Date(r.at * 1000),
      }));
    for (let i = 0; i < rows.length; i += INSERT_CHUNK)
      await tx`insert into suspicious_transfers ${tx(rows.slice(i, i + INSERT_CHUNK))}`;
    const tally = new Map<number, { records: number; up: bigint; down: bigint; last: number }>();
    for (const r of rows) {
      const t = tally.get(r.userId) ?? { records: 0, up: 0n, down: 0n, last: 0 };
      t.records++;
      if (r.claimedUp > r.creditedUp) t.up += BigInt(r.claimedUp - r.creditedUp);
      if (r.claimedDown > r.creditedDown) t.down += BigInt(r.claimedDown - r.creditedDown);
      t.last = Math.max(t.last, r.at.getTime());
      tally.set(r.userId, t);
    }
    if (tally.size === 0) return true;
    const totals = [...tally].map(([id, t]) => ({
      userId: id,
      records: t.records,
      uncreditedUp: t.up.toString(),
      uncreditedDown: t.down.toString(),
      lastAt: new Date(t.last),
    }));
    await tx`
      insert into suspicious_tally ${tx(totals)}
      on conflict (user_id) do update set
        records = suspicious_tally.records + excluded.records,
        uncredited_up = suspicious_tally.uncredited_up + excluded.uncredited_up,
        uncredited_down = suspicious_tally.uncredited_down + excluded.uncredited_down,
        last_at = greatest(suspicious_tally.last_at, excluded.last_at)
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
}

/** Suspicious transfers newest first, one more than `limit` so the caller knows of a next page. */
export async function recentSuspicious(
  sql: Sql,
  options: { limit: number; offset: number },
): Promise<SuspiciousRow[]> {
  return sql<SuspiciousRow[]>`
    select s.id, s.user_id, u.name as member, s.torrent_id, t.title as torrent, s.peer_id, s.user_agent,
      s.claimed_up, s.claimed_down, s.credited_up, s.credited_down, s.seconds, s.reasons, s.at
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
