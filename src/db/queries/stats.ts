import type postgres from "postgres";
import { log } from "../../log.ts";
import {
  DELTA_FIELDS,
  DELTA_ROW,
  type StatDeltas,
  SWARM_FIELDS,
  SWARM_ROW,
  type SwarmChanges,
} from "../../shared/channel.ts";
import { isDataError, type Sql, type Tx } from "../client.ts";
import { writeSwarmChanges } from "./tracker-peers.ts";

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

/**
 * Most bytes one credit row may carry in each direction: 2^50 (1 PiB). A row is one member's
 * credit on one torrent over one second of announces, so no real transfer comes near it, and it
 * is far below 2^53, where a JS number stops holding every byte.
 */
export const MAX_DELTA_BYTES = 2 ** 50;

/**
 * Ceiling of every stored total, a member's and a member's on one torrent, in each direction:
 * 2^60 bytes (1 EiB). Far below bigint's 2^63, so no sum of credit overflows on the way; the
 * check constraints of 006_credit_limits.sql hold the same figure.
 */
export const MAX_TOTAL_BYTES = 2n ** 60n;

/** Most seeding seconds one row may carry: a row covers announces of a few seconds, never a year. */
export const MAX_SEED_SECONDS = 366 * 86400;
/** Latest announce time a row may carry (year 9999), in Unix seconds. */
const MAX_UNIX_SECONDS = 253402300799;

/** A credit row that was not credited, as kept in `stat_dead_letters`. */
export interface DeadLetter {
  /** The member, or null when the row's member id was not an id at all. */
  readonly userId: number | null;
  readonly torrentId: number | null;
  /** The claimed bytes as decimal text, exactly as they came (also `NaN`, `Infinity`). */
  readonly uploaded: string;
  readonly downloaded: string;
  readonly completed: boolean;
  /** Why it was not credited. */
  readonly error: string;
}

/** Stat deltas to write, tagged with the tracker run and the highest sequence number they include. */
export interface StatBatch {
  readonly source: string;
  readonly seq: number;
  /** Rows that passed {@link checkDeltas}. */
  readonly deltas: StatDeltas;
  /** Rows refused by {@link checkDeltas}: recorded as dead letters in the batch's transaction. */
  readonly refused: readonly DeadLetter[];
  /** How the tracker's peers changed up to the batch's cut: saved in its transaction. */
  readonly swarm?: SwarmChanges | null;
}

/** What writing a batch did. */
export interface BatchOutcome {
  /** False when the batch's sequence number was already applied: nothing was written again. */
  readonly applied: boolean;
  /** Rows recorded in `stat_dead_letters` by this write, the batch's refused rows included. */
  readonly deadLetters: readonly DeadLetter[];
}

function idOrNull(v: number): number | null {
  return Number.isSafeInteger(v) && v > 0 ? v : null;
}

/** Why a byte count cannot be credited, or null when it can. */
function bytesProblem(name: string, v: number): string | null {
  if (!Number.isInteger(v) || v < 0) return `${name} is not a whole, non-negative number of bytes`;
  if (v > MAX_DELTA_BYTES) return `${name} is above ${MAX_DELTA_BYTES} bytes, the most one row may carry`;
  return null;
}

const isUnixTime = (v: number) => Number.isSafeInteger(v) && v >= 0 && v <= MAX_UNIX_SECONDS;

/** Why a packed row cannot be credited, or null when it can. */
function rowProblem(deltas: StatDeltas, o: number): string | null {
  const userId = deltas[o + DELTA_ROW.userId]!;
  const torrentId = deltas[o + DELTA_ROW.torrentId]!;
  const done = deltas[o + DELTA_ROW.completed]!;
  if (idOrNull(userId) === null) return `the member id ${userId} is not an id`;
  if (idOrNull(torrentId) === null) return `the torrent id ${torrentId} is not an id`;
  if (done !== 0 && done !== 1) return `completed is ${done}, not 0 or 1`;
  const state = deltas[o + DELTA_ROW.state]!;
  if (state !== 0 && state !== 1 && state !== 2 && state !== 3) return `state is ${state}, not 0 to 3`;
  const seed = deltas[o + DELTA_ROW.seedSeconds]!;
  if (!Number.isSafeInteger(seed) || seed < 0 || seed > MAX_SEED_SECONDS)
    return `seed seconds ${seed} are not a whole number of seconds in one batch`;
  const lastAt = deltas[o + DELTA_ROW.lastAt]!;
  const firstAt = deltas[o + DELTA_ROW.firstAt]!;
  if (!isUnixTime(lastAt)) return `announce time ${lastAt} is not a time`;
  if (!isUnixTime(firstAt)) return `announce time ${firstAt} is not a time`;
  return (
    bytesProblem("uploaded", deltas[o + DELTA_ROW.uploaded]!) ??
    bytesProblem("downloaded", deltas[o + DELTA_ROW.downloaded]!)
  );
}

/** A reported byte count within [0, MAX_DELTA_BYTES], whole (0 for what is not a number). */
function reportedBytes(v: number): number {
  if (!(v > 0)) return 0;
  return v > MAX_DELTA_BYTES ? MAX_DELTA_BYTES : Math.floor(v);
}

/** A claimed byte count as decimal text, to the unit even above 2^53 (String() would round it). */
function decimal(v: number): string {
  return Number.isInteger(v) ? BigInt(v).toString() : String(v);
}

/** A packed row as a dead letter. */
function deadLetterOf(deltas: StatDeltas, o: number, error: string): DeadLetter {
  return {
    userId: idOrNull(deltas[o + DELTA_ROW.userId]!),
    torrentId: idOrNull(deltas[o + DELTA_ROW.torrentId]!),
    uploaded: decimal(deltas[o + DELTA_ROW.uploaded]!),
    downloaded: decimal(deltas[o + DELTA_ROW.downloaded]!),
    completed: deltas[o + DELTA_ROW.completed] === 1,
    error,
  };
}

/**
 * Checks every row before it is queued: ids are ids, byte counts whole, non-negative and at most
 * {@link MAX_DELTA_BYTES}, seed seconds and announce time plausible; reported byte counts are
 * clamped into that range in place. Returns the rows that pass (the same array when all do, the normal
 * case) and the others as dead letters.
 */
export function checkDeltas(deltas: StatDeltas): { deltas: StatDeltas; refused: DeadLetter[] } {
  const refused: DeadLetter[] = [];
  let kept: Float64Array | null = null;
  let keptLength = 0;
  for (let o = 0; o < deltas.length; o += DELTA_FIELDS) {
    // What the client reported is its word, not credit: a forged figure is brought within what a
    // row may carry instead of costing the row its credit.
    deltas[o + DELTA_ROW.reportedUp] = reportedBytes(deltas[o + DELTA_ROW.reportedUp]!);
    deltas[o + DELTA_ROW.reportedDown] = reportedBytes(deltas[o + DELTA_ROW.reportedDown]!);
    const problem = rowProblem(deltas, o);
    if (problem === null) {
      if (kept) {
        kept.set(deltas.subarray(o, o + DELTA_FIELDS), keptLength);
        keptLength += DELTA_FIELDS;
      }
      continue;
    }
    if (!kept) {
      kept = new Float64Array(deltas.length - DELTA_FIELDS);
      kept.set(deltas.subarray(0, o));
      keptLength = o;
    }
    refused.push(deadLetterOf(deltas, o, problem));
  }
  return { deltas: kept ? kept.slice(0, keptLength) : deltas, refused };
}

async function insertDeadLetters(tx: Tx, batch: StatBatch, letters: readonly DeadLetter[]): Promise<void> {
  if (letters.length === 0) return;
  // One JSON parameter: the error texts need no quoting, and the byte counts stay decimal text.
  await tx`
    insert into stat_dead_letters (source, seq, user_id, torrent_id, uploaded, downloaded, completed, error)
    select ${batch.source}, ${batch.seq}, d."userId", d."torrentId", d.uploaded, d.downloaded, d.completed, d.error
    from jsonb_to_recordset(${tx.json(letters as unknown as postgres.JSONValue)}) as d (
      "userId" bigint, "torrentId" bigint, uploaded numeric, downloaded numeric, completed boolean, error text
    )
  `;
}

const CEILING_ERROR = `the member's total would pass ${MAX_TOTAL_BYTES} bytes, the ceiling`;

/**
 * Credits packed rows inside the caller's transaction: per-(member, torrent) totals and snatches,
 * member totals and torrent snatch counts. A member whose total would pass the ceiling with this
 * batch gets none of it: those rows become dead letters here (returned). `dropAfter` removes the
 * work table, for callers that credit several parts in one transaction.
 */
async function creditRows(tx: Tx, batch: StatBatch, deltas: StatDeltas, dropAfter: boolean) {
  const users = pgColumn(deltas, DELTA_ROW.userId);
  const torrents = pgColumn(deltas, DELTA_ROW.torrentId);
  const ups = pgColumn(deltas, DELTA_ROW.uploaded);
  const downs = pgColumn(deltas, DELTA_ROW.downloaded);
  const done = pgColumn(deltas, DELTA_ROW.completed, true);
  const reportedUps = pgColumn(deltas, DELTA_ROW.reportedUp);
  const reportedDowns = pgColumn(deltas, DELTA_ROW.reportedDown);
  const seeded = pgColumn(deltas, DELTA_ROW.seedSeconds);
  const states = pgColumn(deltas, DELTA_ROW.state);
  const lastAts = pgColumn(deltas, DELTA_ROW.lastAt);
  const firstAts = pgColumn(deltas, DELTA_ROW.firstAt);
  await tx`
    create temporary table delta (
      user_id bigint, torrent_id bigint, uploaded bigint, downloaded bigint, completed boolean,
      reported_up bigint, reported_down bigint, seed_seconds bigint, state smallint, last_at timestamptz,
      first_at timestamptz
    ) on commit drop
  `;
  // The ceiling is checked in numeric, which cannot overflow, on the member's row that the join
  // reads anyway; the rows refused go to the dead letters in the same statement.
  const refused = await tx<{ userId: number; torrentId: number; up: string; down: string; done: boolean }[]>`
    with rows as (
      select d.*, row_number() over () as n
      from unnest(
        ${users}::bigint[], ${torrents}::bigint[], ${ups}::bigint[], ${downs}::bigint[], ${done}::boolean[],
        ${reportedUps}::bigint[], ${reportedDowns}::bigint[], ${seeded}::bigint[], ${states}::smallint[],
        ${lastAts}::float8[], ${firstAts}::float8[]
      ) as d (user_id, torrent_id, up, down, done, rup, rdown, seed, state, at, first_at)
    ), claimed as (
      -- Rows of one pair (batches merged while the database was away) add up; the state is the
      -- latest one that says anything.
      select r.user_id, r.torrent_id, sum(r.up) as up, sum(r.down) as down, bool_or(r.done) as done,
        least(sum(r.rup), ${String(MAX_TOTAL_BYTES)}::numeric) as rup,
        least(sum(r.rdown), ${String(MAX_TOTAL_BYTES)}::numeric) as rdown,
        sum(r.seed) as seed,
        (array_agg(r.state order by r.n desc) filter (where r.state <> 0))[1] as state,
        max(nullif(r.at, 0)) as at, min(nullif(r.first_at, 0)) as first_at
      from rows r
      group by r.user_id, r.torrent_id
    ), checked as (
      select c.*,
        u.uploaded + sum(c.up) over member > ${String(MAX_TOTAL_BYTES)}::numeric
          or u.downloaded + sum(c.down) over member > ${String(MAX_TOTAL_BYTES)}::numeric as over_ceiling
      from claimed c
      join users u on u.id = c.user_id
      join torrents t on t.id = c.torrent_id
      window member as (partition by c.user_id)
    ), kept as (
      insert into delta
      select user_id, torrent_id, up, down, done, rup, rdown, seed, coalesce(state, 0), to_timestamp(at),
        to_timestamp(first_at)
      from checked
      where not over_ceiling
    )
    insert into stat_dead_letters (source, seq, user_id, torrent_id, uploaded, downloaded, completed, error)
    select ${batch.source}, ${batch.seq}, user_id, torrent_id, up, down, done, ${CEILING_ERROR}
    from checked
    where over_ceiling
    returning user_id, torrent_id, uploaded::text as up, downloaded::text as down, completed as done
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
  // Reported totals and seeding time stop at the ceiling rather than refuse the credit: they are
  // the client's word, not the member's balance. A row whose state says nothing (0) leaves the
  // pair's seeding and leeching as they were: those rows (rare: a dropped peer of a member with
  // another in the swarm) go in a statement of their own, so no row is read twice. Nothing set
  // here is indexed, so each update stays a HOT one (sql/015).
  for (const withState of [true, false])
    await tx`
      insert into user_torrent_stats (
        user_id, torrent_id, uploaded, downloaded, completed_at, reported_uploaded, reported_downloaded,
        seed_seconds, first_announce_at, last_announce_at, seeding, leeching
      )
      select user_id, torrent_id, uploaded, downloaded, case when completed then now() end, reported_up,
        reported_down, seed_seconds, coalesce(first_at, last_at), last_at, state = 3, state = 2
      from delta
      where ${withState ? tx`state <> 0` : tx`state = 0`}
      on conflict (user_id, torrent_id) do update set
        uploaded = user_torrent_stats.uploaded + excluded.uploaded,
        downloaded = user_torrent_stats.downloaded + excluded.downloaded,
        completed_at = coalesce(user_torrent_stats.completed_at, excluded.completed_at),
        reported_uploaded = least(
          user_torrent_stats.reported_uploaded + excluded.reported_uploaded, ${String(MAX_TOTAL_BYTES)}::bigint
        ),
        reported_downloaded = least(
          user_torrent_stats.reported_downloaded + excluded.reported_downloaded, ${String(MAX_TOTAL_BYTES)}::bigint
        ),
        seed_seconds = user_torrent_stats.seed_seconds + excluded.seed_seconds,
        first_announce_at = coalesce(user_torrent_stats.first_announce_at, excluded.first_announce_at),
        last_announce_at = greatest(user_torrent_stats.last_announce_at, excluded.last_announce_at)
        ${withState ? tx`, seeding = excluded.seeding, leeching = excluded.leeching` : tx``}
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
  if (dropAfter) await tx`drop table delta`;
  return refused.map(
    (r): DeadLetter => ({
      userId: r.userId,
      torrentId: r.torrentId,
      uploaded: r.up,
      downloaded: r.down,
      completed: r.done,
      error: CEILING_ERROR,
    }),
  );
}

/**
 * Takes the batch's sequence number for its source inside the transaction; false when it was
 * already applied (the batch must then change nothing).
 */
async function claimSequence(tx: Tx, batch: StatBatch): Promise<boolean> {
  const [seen] = await tx<{ lastSeq: number }[]>`
    select last_seq from stat_batches
    where source = ${batch.source}
    for update
  `;
  if (seen && seen.lastSeq >= batch.seq) return false;
  await tx`
    insert into stat_batches (source, last_seq)
    values (${batch.source}, ${batch.seq})
    on conflict (source) do update set last_seq = excluded.last_seq, applied_at = now()
  `;
  return true;
}

/**
 * Credits rows part by part, each part in a savepoint: a part the database refuses for its values
 * is halved until the refused rows stand alone; those become dead letters and the rest is
 * credited. Any other error (the database gone, say) aborts the whole transaction.
 */
async function isolate(tx: Tx, batch: StatBatch, deltas: StatDeltas, out: DeadLetter[]): Promise<void> {
  if (deltas.length === 0) return;
  try {
    out.push(...(await tx.savepoint((sp) => creditRows(sp, batch, deltas, true))));
  } catch (error) {
    if (!isDataError(error)) throw error;
    const rows = deltas.length / DELTA_FIELDS;
    if (rows === 1) {
      const letter = deadLetterOf(deltas, 0, `refused by the database: ${errorText(error)}`);
      await insertDeadLetters(tx, batch, [letter]);
      out.push(letter);
      return;
    }
    const half = Math.floor(rows / 2) * DELTA_FIELDS;
    await isolate(tx, batch, deltas.subarray(0, half), out);
    await isolate(tx, batch, deltas.subarray(half), out);
  }
}

/**
 * Saves the peers' changes of a batch whose credit had to be split: in a savepoint, so that peers
 * the database refuses (never expected: the tracker wrote them) cost the batch only its peers.
 * Their baselines are then older than the credit written, so a restart would credit the bytes in
 * between again: the peers in question are deleted instead (they are then new at their next
 * announce after a restart, which credits nothing).
 */
async function saveSwarm(tx: Tx, batch: StatBatch): Promise<void> {
  const swarm = batch.swarm;
  if (!swarm) return;
  try {
    await tx.savepoint((sp) => writeSwarmChanges(sp, swarm));
  } catch (error) {
    if (!isDataError(error)) throw error;
    log.error("the peers of a credit batch were refused; they are not restored after a restart", {
      source: batch.source,
      seq: batch.seq,
      error: error as Error,
    });
    await writeSwarmChanges(tx, {
      peers: { rows: new Float64Array(0), peerIds: new Uint8Array(0), addresses: new Uint8Array(0) },
      removed: concat(swarm.removed, keysOf(swarm.peers.rows)),
      removedIds: concat(swarm.removedIds, swarm.peers.peerIds),
      // Their waiting claims go too: the credit written may already have paid part of them.
      ...(swarm.waiting ? { waiting: { torrents: swarm.waiting.torrents, rows: new Float64Array(0) } } : {}),
    });
  }
}

function concat<T extends Float64Array | Uint8Array>(a: T, b: T): T {
  const out = new (a.constructor as new (n: number) => T)(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** [torrent id, member id] of every packed swarm row. */
function keysOf(rows: Float64Array): Float64Array {
  const out = new Float64Array((rows.length / SWARM_FIELDS) * 2);
  for (let i = 0, o = 0; o < rows.length; i++, o += SWARM_FIELDS) {
    out[i * 2] = rows[o + SWARM_ROW.torrentId]!;
    out[i * 2 + 1] = rows[o + SWARM_ROW.userId]!;
  }
  return out;
}

function errorText(error: unknown): string {
  const e = error as { code?: unknown; message?: unknown };
  const message = typeof e.message === "string" ? e.message : String(error);
  return typeof e.code === "string" ? `${message} (${e.code})` : message;
}

/**
 * Writes one batch in one transaction: its credit (see creditRows) and its dead letters. A batch
 * whose sequence number was already applied for its source changes nothing. Deltas for members
 * or torrents deleted meanwhile are dropped. When the database refuses the batch for its values,
 * the write is redone in a new transaction that splits the rows until the refused ones are found
 * (see isolate): they become dead letters and every other row is credited. Any other failure is
 * thrown, for the caller to retry the batch as it is.
 */
export async function applyStatBatch(sql: Sql, batch: StatBatch): Promise<BatchOutcome> {
  // A torn row would shift every row after it (and the halving below would never isolate it).
  if (batch.deltas.length % DELTA_FIELDS !== 0)
    throw new RangeError(
      `a credit batch holds whole rows of ${DELTA_FIELDS} numbers, not ${batch.deltas.length}`,
    );
  if (batch.deltas.length === 0 && batch.refused.length === 0 && !batch.swarm)
    return { applied: true, deadLetters: [] };
  try {
    return (await sql.begin(async (tx) => {
      if (!(await claimSequence(tx, batch))) return { applied: false, deadLetters: [] };
      await insertDeadLetters(tx, batch, batch.refused);
      const refused = batch.deltas.length ? await creditRows(tx, batch, batch.deltas, false) : [];
      if (batch.swarm) await writeSwarmChanges(tx, batch.swarm);
      return { applied: true, deadLetters: [...batch.refused, ...refused] };
    })) as BatchOutcome;
  } catch (error) {
    if (!isDataError(error)) throw error;
  }
  return (await sql.begin(async (tx) => {
    if (!(await claimSequence(tx, batch))) return { applied: false, deadLetters: [] };
    await insertDeadLetters(tx, batch, batch.refused);
    const out: DeadLetter[] = [...batch.refused];
    await isolate(tx, batch, batch.deltas, out);
    await saveSwarm(tx, batch);
    return { applied: true, deadLetters: out };
  })) as BatchOutcome;
}
