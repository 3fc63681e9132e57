import { isDatabaseUnavailable, type Sql } from "../db/client.ts";
import {
  applyStatBatch,
  type BatchOutcome,
  checkDeltas,
  type DeadLetter,
  type StatBatch,
  writeSwarmCounts,
} from "../db/queries/stats.ts";
import { log } from "../log.ts";
import { DELTA_FIELDS, type StatDeltas, type TorrentCounts } from "../shared/channel.ts";
import { readSpill, removeSpill, writeSpill } from "./credit-spill.ts";
import { FlushLoop } from "./flush-loop.ts";

/** Seeders, leechers and snatches of one torrent, as last reported by the tracker. */
export interface Counts {
  readonly seeders: number;
  readonly leechers: number;
  readonly snatches: number;
}

/** The tracker's live counts, held in memory for pages, the API and server-sent events. */
export class LiveCounts {
  private readonly counts = new Map<number, Counts>();
  private readonly listeners = new Set<(changed: readonly TorrentCounts[]) => void>();
  private dirty = new Map<number, TorrentCounts>();

  /** Takes a coalesced update from the tracker and tells every subscriber. */
  apply(changed: readonly TorrentCounts[]): void {
    for (const c of changed) {
      this.counts.set(c[0], { seeders: c[1], leechers: c[2], snatches: c[3] });
      this.dirty.set(c[0], c);
    }
    for (const listener of this.listeners) listener(changed);
  }

  /** Counts of one torrent, or null when the tracker has reported none. */
  get(torrentId: number): Counts | null {
    return this.counts.get(torrentId) ?? null;
  }

  /** Calls `listener` with every update until the returned function is called. */
  subscribe(listener: (changed: readonly TorrentCounts[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Forgets every count, after updates may have been missed (a lost connection to the tracker):
   * pages show the database's counts until the tracker reports each torrent again.
   */
  clear(): void {
    this.counts.clear();
    this.dirty = new Map();
  }

  /** Counts changed since the last call (for writing to the database). */
  takeDirty(): TorrentCounts[] {
    const out = [...this.dirty.values()];
    this.dirty = new Map();
    return out;
  }

  /** Puts counts back after a failed write, unless newer ones arrived meanwhile. */
  restoreDirty(counts: readonly TorrentCounts[]): void {
    for (const c of counts) if (!this.dirty.has(c[0])) this.dirty.set(c[0], c);
  }
}

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
  private readonly queue: Queued[] = [];
  private queued = 0;
  private readonly loop: FlushLoop;
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
    private readonly counts: LiveCounts,
    intervalMs: number,
  ) {
    this.loop = new FlushLoop(() => this.write(), intervalMs);
  }

  /** Checks and queues a batch from the tracker. */
  add(source: string, seq: number, deltas: StatDeltas): void {
    if (deltas.length === 0) return;
    this.enqueue({ source, seq, ...checkDeltas(deltas) });
  }

  private enqueue(batch: Queued): void {
    this.queue.push(batch);
    this.queued += rowsOf(batch);
    while (this.queued > MAX_QUEUED_DELTAS && this.queue.length > 1) {
      const dropped = this.queue.shift()!;
      this.queued -= rowsOf(dropped);
      if (dropped.fromSpill) this.spillWritten();
      log.error("stat queue full: dropped the oldest batch", { source: dropped.source, seq: dropped.seq });
    }
  }

  /** Batches and deltas waiting to be written. */
  get pending(): { batches: number; deltas: number } {
    return { batches: this.queue.length, deltas: this.queued };
  }

  /** Writes every flush interval from now on. */
  start(): void {
    this.loop.start();
  }

  /** Writes everything queued; keeps what fails for the next attempt. */
  flush(): Promise<void> {
    return this.loop.flush();
  }

  private async write(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue[0]!;
      let outcome: BatchOutcome;
      try {
        outcome = await applyStatBatch(this.sql, batch);
      } catch (error) {
        this.failures++;
        log.warn("stat batch not written; will retry", { error: error as Error, seq: batch.seq });
        // Swarm counts go on being written unless the database itself is away.
        if (isDatabaseUnavailable(error)) return;
        break;
      }
      this.queue.shift();
      this.queued -= rowsOf(batch);
      this.recordDeadLetters(batch, outcome.deadLetters);
      if (batch.fromSpill) this.spillWritten();
    }
    const dirty = this.counts.takeDirty();
    try {
      await writeSwarmCounts(this.sql, dirty);
    } catch (error) {
      this.counts.restoreDirty(dirty);
      this.failures++;
      log.warn("swarm counts not written; will retry", { error: error as Error });
      return;
    }
    if (this.queue.length === 0) this.lastSuccess = Date.now();
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
    for (const batch of batches) this.enqueue({ ...batch, fromSpill: true });
    return rows;
  }

  /**
   * Saves every queued batch to `file` (atomically: a temporary file renamed over it), to be
   * replayed by restore() at the next start; returns how many rows. Replaying a batch that did
   * reach the database changes nothing: it keeps its sequence number.
   */
  spill(file: string): number {
    if (this.queue.length === 0) return 0;
    writeSpill(file, this.queue);
    // The file now holds everything queued, the replayed batches included.
    this.spillFile = null;
    return this.queued;
  }

  /**
   * Stops the timer and makes a last attempt to write everything, for at most `timeoutMs`;
   * returns how many rows are still not written (for spill()).
   */
  async stop(timeoutMs = STOP_FLUSH_MS): Promise<number> {
    let timeout: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      this.loop.last(),
      new Promise((resolve) => {
        timeout = setTimeout(resolve, timeoutMs);
      }),
    ]);
    clearTimeout(timeout);
    return this.queued;
  }
}
