import type { Sql } from "../db/client.ts";
import {
  applyStatBatch,
  type BatchOutcome,
  checkDeltas,
  type DeadLetter,
  type StatBatch,
} from "../db/queries/stats.ts";
import { log } from "../log.ts";
import { DELTA_FIELDS, type StatDeltas, type SwarmChanges } from "../shared/channel.ts";
import { BatchQueue } from "./flush-loop.ts";
import { readSpill, removeSpill, writeSpill } from "./spill.ts";

/** Most deltas kept waiting while the database is unreachable before the oldest batch is dropped. */
export const MAX_QUEUED_DELTAS = 2_000_000;

/** How long the last write at shutdown may take before what is left is saved to the spill file. */
export const STOP_FLUSH_MS = 3000;

/** Dead letters of one batch logged a line each; the rest get one line together. */
const DEAD_LETTER_LINES = 20;

type Queued = StatBatch & { readonly fromSpill?: boolean };

const rowsOf = (batch: StatBatch) => batch.deltas.length / DELTA_FIELDS + batch.refused.length;

/**
 * Writes the tracker's stat batches every `intervalMs`, in order, one transaction each. Rows are
 * checked as they are queued (see checkDeltas); a batch the database refuses for its values is
 * written without the rows it refuses, which are kept as dead letters (see applyStatBatch), so
 * one member's claims never hold up anyone else's credit. A batch that fails otherwise (the
 * database away) stays at the head of the queue and is retried with the same sequence number,
 * so a batch whose commit was in doubt is applied exactly once. Batches are never merged for the
 * same reason. What the database cannot take at shutdown is saved to a spill file (see spill)
 * and replayed at the next start (see restore).
 */
export class StatsWriter {
  private readonly queue: BatchQueue<Queued, BatchOutcome>;
  /** The spill file replayed at start, removed once its batches are written. */
  private spillFile: string | null = null;
  private spilledLeft = 0;
  /** Time of the last successful write, for the flush-lag metric. */
  lastSuccess = Date.now();
  /** Failed write attempts, for the metric. */
  failures = 0;
  /** Credit rows recorded as dead letters since start, for the metric. */
  deadLetters = 0;

  constructor(
    private readonly sql: Sql,
    intervalMs: number,
  ) {
    this.queue = new BatchQueue<Queued, BatchOutcome>({
      intervalMs,
      limit: MAX_QUEUED_DELTAS,
      rows: rowsOf,
      write: (batch) => applyStatBatch(this.sql, batch),
      retry: (error, batch) => {
        this.failures++;
        log.warn("stat batch not written; will retry", { error: error as Error, seq: batch.seq });
        return true;
      },
      done: (batch, outcome) => {
        this.recordDeadLetters(batch, outcome?.deadLetters ?? []);
        if (batch.fromSpill) this.spillWritten();
      },
      drained: () => {
        this.lastSuccess = Date.now();
      },
      dropped: (batch) => {
        if (batch.fromSpill) this.spillWritten();
        log.error("stat queue full: dropped the oldest batch", { source: batch.source, seq: batch.seq });
      },
    });
  }

  /** Checks and queues a batch from the tracker, with how its peers changed up to its cut. */
  add(source: string, seq: number, deltas: StatDeltas, swarm: SwarmChanges | null = null): void {
    if (deltas.length === 0 && !swarm) return;
    this.queue.push({ source, seq, ...checkDeltas(deltas), swarm });
  }

  /** Batches and deltas waiting to be written. */
  get pending(): { batches: number; deltas: number } {
    return { batches: this.queue.batches.length, deltas: this.queue.rows };
  }

  /** Writes every flush interval from now on. */
  start(): void {
    this.queue.start();
  }

  /** Writes everything queued; keeps what fails for the next attempt. */
  flush(): Promise<void> {
    return this.queue.flush();
  }

  /**
   * One line per row kept aside, once: when the transaction recording it has committed. Past
   * DEAD_LETTER_LINES in one batch, one line sums up the rest (each is in the table all the same),
   * so a member sending forged reports on every torrent cannot flood the log.
   */
  private recordDeadLetters(batch: StatBatch, letters: readonly DeadLetter[]): void {
    this.deadLetters += letters.length;
    for (const letter of letters.slice(0, DEAD_LETTER_LINES))
      log.warn("credit row not credited; kept in stat_dead_letters", {
        member: letter.userId,
        torrent: letter.torrentId,
        uploaded: letter.uploaded,
        downloaded: letter.downloaded,
        completed: letter.completed,
        reason: letter.error,
        source: batch.source,
        seq: batch.seq,
      });
    if (letters.length > DEAD_LETTER_LINES) {
      const rest = letters.slice(DEAD_LETTER_LINES);
      log.warn("more credit rows not credited; kept in stat_dead_letters", {
        rows: rest.length,
        members: [...new Set(rest.map((l) => l.userId))].slice(0, 100),
        source: batch.source,
        seq: batch.seq,
      });
    }
  }

  /** A batch replayed from the spill file is written: the file goes once all of them are. */
  private spillWritten(): void {
    if (--this.spilledLeft > 0 || !this.spillFile) return;
    const file = this.spillFile;
    this.spillFile = null;
    removeSpill(file);
    log.info("credit saved at the last stop is written", { file });
  }

  /**
   * Queues the batches saved in `file` at the last stop, ahead of everything else; returns how
   * many rows. The file is removed once they are all in the database. Call before start().
   * Throws SpillUnreadableError when the file cannot be read (it is then left in place).
   */
  restore(file: string): number {
    const batches = readSpill(file);
    if (batches === null) return 0;
    const rows = batches.reduce((n, b) => n + rowsOf(b), 0);
    if (batches.length === 0) {
      removeSpill(file);
      return 0;
    }
    this.spillFile = file;
    this.spilledLeft = batches.length;
    for (const batch of batches) this.queue.push({ ...batch, fromSpill: true });
    return rows;
  }

  /**
   * Saves every queued batch to `file` (atomically: a temporary file renamed over it), to be
   * replayed by restore() at the next start; returns how many rows. Replaying a batch that did
   * reach the database changes nothing: it keeps its sequence number.
   */
  spill(file: string): number {
    if (this.queue.batches.length === 0) return 0;
    writeSpill(file, this.queue.batches);
    // The file now holds everything queued, the replayed batches included.
    this.spillFile = null;
    return this.queue.rows;
  }

  /**
   * Stops the timer and makes a last attempt to write everything, for at most `timeoutMs`;
   * returns how many rows are still not written (for spill()).
   */
  async stop(timeoutMs = STOP_FLUSH_MS): Promise<number> {
    let timeout: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      this.queue.last(),
      new Promise((resolve) => {
        timeout = setTimeout(resolve, timeoutMs);
      }),
    ]);
    clearTimeout(timeout);
    return this.queue.rows;
  }
}
