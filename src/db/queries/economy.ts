import { hashSecret, newSecret } from "../../shared/secrets.ts";
import type { Int8, Sql } from "../client.ts";
import { MAX_TOTAL_BYTES } from "./stats.ts";

/** The hit-and-run rule's numbers, in seconds and percent. */
export interface HitAndRunRule {
  readonly seedSeconds: number;
  readonly windowSeconds: number;
  readonly ratioPercent: number;
  readonly minDownloadPercent: number;
  /** A row marked seeding counts as seeding now only if it announced within this many seconds. */
  readonly activeSeconds: number;
}

/** What a snatch stands at: owed nothing more, being seeded, owed with time left, or past its window. */
export type SnatchStatus = "satisfied" | "seeding" | "at_risk" | "hit_and_run";
/** Why a satisfied snatch is: enough seed time, enough upload, or the files were not downloaded here. */
export type SettledBy = "seed_time" | "ratio" | "not_downloaded" | null;

/** One completed torrent of a member, with its status under the rule. */
export interface SnatchRow {
  torrentId: number;
  title: string;
  size: Int8;
  uploaded: Int8;
  downloaded: Int8;
  seedSeconds: Int8;
  completedAt: Date;
  lastAnnounceAt: Date | null;
  status: SnatchStatus;
  settledBy: SettledBy;
  deadline: Date;
}

// The rule, written once: every query below classifies snatches through this select.
function snatches(sql: Sql, rule: HitAndRunRule, now: Date) {
  return sql`
    select s.user_id, s.torrent_id, t.title, t.size, s.uploaded, s.downloaded, s.seed_seconds,
      s.completed_at, s.last_announce_at,
      s.completed_at + make_interval(secs => ${rule.windowSeconds}) as deadline,
      case
        -- Reported (or implied by left) download, not the credited one: freeleech or a site-wide
        -- window makes that 0, and would exempt every snatch.
        when greatest(s.downloaded, s.reported_downloaded)::numeric * 100
          < ${rule.minDownloadPercent}::numeric * t.size then 'not_downloaded'
        when s.seed_seconds >= ${rule.seedSeconds} then 'seed_time'
        when ${rule.ratioPercent}::int > 0
          and s.uploaded::numeric * 100 >= ${rule.ratioPercent}::numeric * t.size then 'ratio'
      end as settled_by,
      (s.seeding and s.last_announce_at >= ${now}::timestamptz - make_interval(secs => ${rule.activeSeconds}))
        as active
    from user_torrent_stats s
    join torrents t on t.id = s.torrent_id
    where s.completed_at is not null
  `;
}

function classified(sql: Sql, rule: HitAndRunRule, now: Date) {
  return sql`
    select c.*,
      case
        when c.settled_by is not null then 'satisfied'
        when ${now}::timestamptz >= c.deadline then 'hit_and_run'
        when c.active then 'seeding'
        else 'at_risk'
      end as status
    from (${snatches(sql, rule, now)}) c
  `;
}

/** A member's completed torrents, most recently completed first, with their status at `now`. */
export async function memberSnatches(
  sql: Sql,
  rule: HitAndRunRule,
  userId: number,
  now: Date,
  options: { limit: number; offset: number },
): Promise<SnatchRow[]> {
  return sql<SnatchRow[]>`
    select torrent_id, title, size, uploaded, downloaded, seed_seconds, completed_at, last_announce_at,
      status, settled_by, deadline
    from (${classified(sql, rule, now)}) x
    where user_id = ${userId}
    order by completed_at desc, torrent_id desc
    limit ${options.limit + 1}
    offset ${options.offset}
  `;
}

/** How many of a member's snatches stand at each status. */
export async function memberSnatchCounts(
  sql: Sql,
  rule: HitAndRunRule,
  userId: number,
  now: Date,
): Promise<Record<SnatchStatus, number>> {
  const rows = await sql<{ status: SnatchStatus; n: number }[]>`
    select status, count(*)::int as n
    from (${classified(sql, rule, now)}) x
    where user_id = ${userId}
    group by status
  `;
  const counts: Record<SnatchStatus, number> = { satisfied: 0, seeding: 0, at_risk: 0, hit_and_run: 0 };
  for (const row of rows) counts[row.status] = row.n;
  return counts;
}

/** A member with hit-and-runs, for staff. */
export interface OffenderRow {
  userId: number;
  name: string;
  hitAndRuns: number;
  latestDeadline: Date;
}

/** Members with at least one hit-and-run at `now`, most first; one more than `limit`. */
export async function hitAndRunMembers(
  sql: Sql,
  rule: HitAndRunRule,
  now: Date,
  options: { limit: number; offset: number },
): Promise<OffenderRow[]> {
  return sql<OffenderRow[]>`
    select x.user_id, u.name, count(*)::int as hit_and_runs, max(x.deadline) as latest_deadline
    from (${classified(sql, rule, now)}) x
    join users u on u.id = x.user_id
    where x.status = 'hit_and_run'
    group by x.user_id, u.name
    order by hit_and_runs desc, x.user_id
    limit ${options.limit + 1}
    offset ${options.offset}
  `;
}

/**
 * Sets every member's `downloads_paused`: true with `limit` hit-and-runs or more at `now`, false
 * otherwise (for everyone when `limit` is 0). Returns the members whose flag changed, for the
 * tracker to hear of.
 */
export async function updateDownloadPauses(
  sql: Sql,
  rule: HitAndRunRule,
  limit: number,
  now: Date,
): Promise<number[]> {
  const rows = await sql<{ id: number }[]>`
    with offenders as (
      select x.user_id, count(*) as n
      from (${classified(sql, rule, now)}) x
      where x.status = 'hit_and_run'
      group by x.user_id
    )
    update users u
    set downloads_paused = p.paused
    from (
      select m.id, ${limit}::int > 0 and coalesce(o.n, 0) >= ${limit}::int as paused
      from users m
      left join offenders o on o.user_id = m.id
    ) p
    where u.id = p.id and u.downloads_paused <> p.paused
    returning u.id
  `;
  return rows.map((r) => Number(r.id));
}

/** The seeding bonus formula's inputs. */
export interface EarningRule {
  /** Base points an hour for one seeding torrent. */
  readonly pointsPerHour: number;
  readonly activeSeconds: number;
}

/** What one run of the hourly job did. */
export type EarnOutcome = { done: "earned"; members: number; millipoints: number } | { done: "already" };

/**
 * Credits every member's seeding bonus for the hour starting at `hour` (a whole hour), in one
 * transaction: each member who seeded a torrent at the hour's end (marked seeding, announced
 * within `activeSeconds`) with evidence of having its files (completed it here, or uploaded it and
 * another member completed it) from a connectable seeder (a saved peer of theirs, seeding, whose
 * last probe completed a handshake: see src/bridge/prober.ts) gets one ledger row for it, and the hour is marked done. A second run
 * for the same hour, even concurrent, changes nothing. `interrupt`, for tests, runs inside the
 * transaction after the earnings are written and before the hour is marked done.
 */
export async function earnHour(
  sql: Sql,
  rule: EarningRule,
  hour: Date,
  interrupt?: () => Promise<void>,
): Promise<EarnOutcome> {
  const end = new Date(hour.getTime() + 3_600_000);
  return (await sql.begin(async (tx) => {
    // Taking the hour's row first makes a concurrent run wait here, then find it taken.
    const [claimed] = await tx<{ hour: Date }[]>`
      insert into bonus_hours (hour, members, millipoints) values (${hour}, 0, 0)
      on conflict (hour) do nothing
      returning hour
    `;
    if (!claimed) return { done: "already" };
    const rows = await tx<{ members: number; millipoints: Int8 | null }[]>`
      with earned as (
        insert into bonus_ledger (user_id, hour, millipoints, reason, seeding_torrents, created_at)
        select s.user_id, ${hour}::timestamptz, sum(p.milli)::bigint, 'seeding', count(*)::int, ${end}::timestamptz
        from user_torrent_stats s
        join torrents t on t.id = s.torrent_id
        left join torrent_counts c on c.torrent_id = s.torrent_id
        join users u on u.id = s.user_id and not u.disabled
        cross join lateral (
          select round(
            1000 * ${rule.pointsPerHour}::float8
            * (1 + log(2, (t.size::float8 / 1073741824 + 1)::numeric)::float8)
            * (1 + least(greatest(extract(epoch from (${end}::timestamptz - t.created_at)) / 86400, 0), 365) / 365)
            / sqrt(greatest(coalesce(c.seeders, 0), 1))
          ) as milli
        ) p
        where s.seeding
          and s.last_announce_at >= ${end}::timestamptz - make_interval(secs => ${rule.activeSeconds})
          and s.last_announce_at <= ${end}::timestamptz + interval '1 hour'
          -- Evidence that the member has the files: they completed the torrent here, or uploaded it
          -- and another member has completed it since. A declared size alone earns nothing.
          and (
            s.completed_at is not null
            or (t.creator_id = s.user_id and exists (
              select 1 from user_torrent_stats o
              where o.torrent_id = s.torrent_id and o.user_id <> s.user_id and o.completed_at is not null))
          )
          -- Evidence that the member seeds to others: one of their seeders in the swarm (as saved
          -- with the credit) completed a BitTorrent handshake for this torrent at its last probe.
          and exists (
            select 1
            from tracker_peers tp
            join peer_probes r on r.address = tp.address and r.port = tp.port and r.info_hash = t.info_hash
            where tp.torrent_id = s.torrent_id and tp.user_id = s.user_id and not tp.kept and tp.seeder
              and r.connectable
          )
        group by s.user_id
        having sum(p.milli) > 0
        on conflict (user_id, hour) where hour is not null do nothing
        returning millipoints
      )
      select count(*)::int as members, sum(millipoints)::bigint as millipoints from earned
    `;
    const members = rows[0]?.members ?? 0;
    const millipoints = Number(rows[0]?.millipoints ?? 0);
    if (interrupt) await interrupt();
    await tx`update bonus_hours set members = ${members}, millipoints = ${millipoints} where hour = ${hour}`;
    return { done: "earned", members, millipoints };
  })) as EarnOutcome;
}

/** Why points moved: earned seeding, spent in the shop, or put on, refunded from or won with a request's bounty. */
export const LEDGER_REASONS = [
  "seeding",
  "upload_credit",
  "invite",
  "request_bounty",
  "request_refund",
  "request_award",
] as const;
export type LedgerReason = (typeof LEDGER_REASONS)[number];

/** One row of a member's ledger. */
export interface LedgerRow {
  id: number;
  hour: Date | null;
  millipoints: Int8;
  reason: LedgerReason;
  /** The request whose bounty it belongs to. */
  requestId: number | null;
  bytes: Int8 | null;
  inviteId: number | null;
  seedingTorrents: number | null;
  createdAt: Date;
}

/** A member's balance in thousandths of a point (the ledger's sum), and their latest rows. */
export async function memberLedger(
  sql: Sql,
  userId: number,
  limit: number,
): Promise<{ millipoints: number; rows: LedgerRow[] }> {
  const [sum] = await sql<{ total: Int8 }[]>`
    select coalesce(sum(millipoints), 0)::bigint as total from bonus_ledger where user_id = ${userId}
  `;
  const rows = await sql<LedgerRow[]>`
    select id, hour, millipoints, reason, request_id, bytes, invite_id, seeding_torrents, created_at
    from bonus_ledger
    where user_id = ${userId}
    order by created_at desc, id desc
    limit ${limit}
  `;
  return { millipoints: Number(sum!.total), rows };
}

/** What a spending buys. */
export type Purchase = { kind: "upload_credit"; bytes: bigint } | { kind: "invite"; days: number };

/** A spending made, or why not. */
export type SpendOutcome =
  | {
      ok: true;
      ledgerId: number;
      millipoints: number;
      invite?: { id: number; secret: string; expiresAt: Date };
    }
  | { ok: false; reason: "balance" | "ceiling" | "member"; millipoints: number };

/**
 * Spends `millipoints` of a member's balance on `purchase`, in one transaction: the member's row
 * is locked first, so concurrent spendings are taken one after another and the balance never goes
 * below zero; upload credit is added to the member's total unless it would pass the ceiling of
 * totals (sql/006_credit_limits.sql); an invite is created for the member.
 */
export async function spendPoints(
  sql: Sql,
  userId: number,
  millipoints: number,
  purchase: Purchase,
  now: Date,
): Promise<SpendOutcome> {
  return (await sql.begin(async (tx) => {
    const [member] = await tx<{ uploaded: Int8 }[]>`
      select uploaded from users where id = ${userId} and not disabled for update
    `;
    const [sum] = await tx<{ total: Int8 }[]>`
      select coalesce(sum(millipoints), 0)::bigint as total from bonus_ledger where user_id = ${userId}
    `;
    const balance = Number(sum!.total);
    if (!member) return { ok: false, reason: "member", millipoints: balance };
    if (balance < millipoints) return { ok: false, reason: "balance", millipoints: balance };
    let inviteId: number | null = null;
    let invite: { id: number; secret: string; expiresAt: Date } | undefined;
    if (purchase.kind === "upload_credit") {
      if (BigInt(member.uploaded) + purchase.bytes > MAX_TOTAL_BYTES)
        return { ok: false, reason: "ceiling", millipoints: balance };
      await tx`update users set uploaded = uploaded + ${purchase.bytes.toString()}::bigint where id = ${userId}`;
    } else {
      const secret = newSecret();
      const [row] = await tx<{ id: number; expiresAt: Date }[]>`
        insert into invites (secret_hash, inviter_id, created_at, expires_at)
        values (${hashSecret(secret)}, ${userId}, ${now}, ${now}::timestamptz + make_interval(days => ${purchase.days}))
        returning id, expires_at
      `;
      inviteId = row!.id;
      invite = { id: row!.id, secret, expiresAt: row!.expiresAt };
    }
    const [spent] = await tx<{ id: number }[]>`
      insert into bonus_ledger (user_id, millipoints, reason, bytes, invite_id, created_at)
      values (${userId}, ${-millipoints}, ${purchase.kind},
        ${purchase.kind === "upload_credit" ? purchase.bytes.toString() : null}, ${inviteId}, ${now})
      returning id
    `;
    return { ok: true, ledgerId: spent!.id, millipoints: balance - millipoints, invite };
  })) as SpendOutcome;
}
