import { isDatabaseUnavailable, type Sql } from "../db/client.ts";
import { applySuspiciousBatch, type SuspiciousWrite } from "../db/queries/suspicious.ts";
import { log } from "../log.ts";
import {
  SUSPICION_REASONS,
  type SuspiciousBatch,
  type SuspiciousTransfer,
  unpackSuspicious,
} from "../shared/channel.ts";
import { BatchQueue } from "./flush-loop.ts";

/** Most records kept waiting while the database is unreachable before the oldest batch is dropped. */
export const MAX_QUEUED_SUSPICIOUS = 200_000;

const USER_AGENT_MAX = 200;

/** A whole number in [min, max], or null. */
function whole(n: number, min: number, max: number): number | null {
  return Number.isSafeInteger(n) && n >= min && n <= max ? n : null;
}

/**
 * A record fit for the table, or null: ids and counters whole and in range, a 20-byte peer_id, a
 * User-Agent without control characters (PostgreSQL text cannot hold U+0000), known reasons.
 */
export function cleanRecord(r: SuspiciousTransfer): SuspiciousTransfer | null {
  const limit = Number.MAX_SAFE_INTEGER;
  const userId = whole(r.userId, 1, limit);
  const torrentId = whole(r.torrentId, 1, limit);
  const claimedUp = whole(r.claimedUp, -limit, limit);
  const claimedDown = whole(r.claimedDown, -limit, limit);
  const creditedUp = whole(r.creditedUp, 0, limit);
  const creditedDown = whole(r.creditedDown, 0, limit);
  const seconds = whole(r.seconds, 0, 2 ** 31 - 1);
  const at = whole(r.at, 0, 2 ** 40);
  if (
    userId === null ||
    torrentId === null ||
    claimedUp === null ||
    claimedDown === null ||
    creditedUp === null ||
    creditedDown === null ||
    seconds === null ||
    at === null ||
    r.peerId.length !== 20 ||
    r.reasons.length === 0 ||
    !r.reasons.every((reason) => SUSPICION_REASONS.includes(reason))
  )
    return null;
  const agent = r.userAgent?.replace(/[\u0000-\u001f\u007f]/g, "").slice(0, USER_AGENT_MAX) || null;
  return { ...r, userAgent: agent };
}

/**
 * Writes the tracker's suspicious-transfer batches every `intervalMs`, in order, one transaction
 * each. A batch that fails because the database is away stays queued and is retried with the same
 * sequence number (applied at most once); one the database refuses for any other reason is logged
 * and dropped, so it never holds up the batches behind it.
 */
export class SuspiciousWriter {
  private readonly queue: BatchQueue<SuspiciousWrite, boolean>;

  constructor(
    private readonly sql: Sql,
    intervalMs: number,
  ) {
    this.queue = new BatchQueue<SuspiciousWrite, boolean>({
      intervalMs,
      limit: MAX_QUEUED_SUSPICIOUS,
      rows: (batch) => batch.records.length,
      write: (batch) => applySuspiciousBatch(this.sql, batch),
      retry: (error, batch) => {
        if (isDatabaseUnavailable(error)) {
          log.warn("suspicious transfers not written; will retry", { error: error as Error, seq: batch.seq });
          return true;
        }
        log.error("suspicious-transfer batch refused by the database: dropped", {
          error: error as Error,
          source: batch.source,
          seq: batch.seq,
        });
        return false;
      },
      dropped: (batch) =>
        log.error("suspicious-transfer queue full: dropped the oldest batch", {
          source: batch.source,
          seq: batch.seq,
        }),
    });
  }

  /** Queues a batch from the tracker; rows that fail the checks are dropped with a log line. */
  add(source: string, seq: number, batch: SuspiciousBatch): void {
    const unpacked = unpackSuspicious(batch);
    const records = unpacked.map(cleanRecord).filter((r): r is SuspiciousTransfer => r !== null);
    if (records.length < unpacked.length)
      log.warn("suspicious transfers with impossible values dropped", {
        source,
        seq,
        dropped: unpacked.length - records.length,
      });
    if (records.length > 0) this.queue.push({ source, seq, records });
  }

  /** Records waiting to be written. */
  get pending(): number {
    return this.queue.rows;
  }

  /** Writes every flush interval from now on. */
  start(): void {
    this.queue.start();
  }

  /** Writes everything queued; keeps what fails for lack of a database. */
  flush(): Promise<void> {
    return this.queue.flush();
  }

  /** Stops the timer and makes a last attempt to write everything. */
  async stop(): Promise<void> {
    await this.queue.last();
  }
}
