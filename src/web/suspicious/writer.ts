import { isDatabaseUnavailable, type Sql } from "../../db/client.ts";
import { applySuspiciousBatch, type SuspiciousWrite } from "../../db/queries/suspicious.ts";
import { log } from "../../log.ts";
import {
  SUSPICION_REASONS,
  type SuspiciousBatch,
  type SuspiciousTransfer,
  unpackSuspicious,
} from "../../shared/channel.ts";
import { FlushLoop } from "../flush-loop.ts";

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
  private readonly queue: SuspiciousWrite[] = [];
  private queued = 0;
  private readonly loop: FlushLoop;

  constructor(
    private readonly sql: Sql,
    intervalMs: number,
  ) {
    this.loop = new FlushLoop(() => this.write(), intervalMs);
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
    if (records.length === 0) return;
    this.queue.push({ source, seq, records });
    this.queued += records.length;
    while (this.queued > MAX_QUEUED_SUSPICIOUS && this.queue.length > 1) {
      const dropped = this.queue.shift()!;
      this.queued -= dropped.records.length;
      log.error("suspicious-transfer queue full: dropped the oldest batch", {
        source: dropped.source,
        seq: dropped.seq,
      });
    }
  }

  /** Records waiting to be written. */
  get pending(): number {
    return this.queued;
  }

  /** Writes every flush interval from now on. */
  start(): void {
    this.loop.start();
  }

  /** Writes everything queued; keeps what fails for lack of a database. */
  flush(): Promise<void> {
    return this.loop.flush();
  }

  private async write(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue[0]!;
      try {
        await applySuspiciousBatch(this.sql, batch);
      } catch (error) {
        if (isDatabaseUnavailable(error)) {
          log.warn("suspicious transfers not written; will retry", { error: error as Error, seq: batch.seq });
          return;
        }
        log.error("suspicious-transfer batch refused by the database: dropped", {
          error: error as Error,
          source: batch.source,
          seq: batch.seq,
        });
      }
      this.queue.shift();
      this.queued -= batch.records.length;
    }
  }

  /** Stops the timer and makes a last attempt to write everything. */
  async stop(): Promise<void> {
    await this.loop.last();
  }
}
