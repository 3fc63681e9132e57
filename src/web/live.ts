import type { Sql } from "../db/client.ts";
import { applyStatBatch, type StatBatch, writeSwarmCounts } from "../db/queries/stats.ts";
import { log } from "../log.ts";
import { DELTA_FIELDS, type StatDeltas, type TorrentCounts } from "../shared/channel.ts";

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

/**
 * Writes the tracker's stat batches every `intervalMs`, in order, one transaction each. A batch that
 * fails stays at the head of the queue and is retried with the same sequence number, so a batch
 * whose commit was in doubt is applied exactly once. Batches are never merged for the same reason.
 */
export class StatsWriter {
  private readonly queue: StatBatch[] = [];
  private queued = 0;
  private timer: ReturnType<typeof setInterval> | null = null;
  private running: Promise<void> | null = null;
  /** Time of the last successful write, for the flush-lag metric. */
  lastSuccess = Date.now();
  /** Failed write attempts, for the metric. */
  failures = 0;

  constructor(
    private readonly sql: Sql,
    private readonly counts: LiveCounts,
    private readonly intervalMs: number,
  ) {}

  /** Queues a batch from the tracker. */
  add(source: string, seq: number, deltas: StatDeltas): void {
    if (deltas.length === 0) return;
    this.queue.push({ source, seq, deltas });
    this.queued += deltas.length / DELTA_FIELDS;
    while (this.queued > MAX_QUEUED_DELTAS && this.queue.length > 1) {
      const dropped = this.queue.shift()!;
      this.queued -= dropped.deltas.length / DELTA_FIELDS;
      log.error("stat queue full: dropped the oldest batch", { source: dropped.source, seq: dropped.seq });
    }
  }

  /** Batches and deltas waiting to be written. */
  get pending(): { batches: number; deltas: number } {
    return { batches: this.queue.length, deltas: this.queued };
  }

  start(): void {
    this.timer ??= setInterval(() => void this.flush(), this.intervalMs);
  }

  /** Writes everything queued; keeps what fails for the next attempt. */
  flush(): Promise<void> {
    this.running ??= this.write().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private async write(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue[0]!;
      try {
        await applyStatBatch(this.sql, batch);
      } catch (error) {
        this.failures++;
        log.warn("stat batch not written; will retry", { error: error as Error, seq: batch.seq });
        return;
      }
      this.queue.shift();
      this.queued -= batch.deltas.length / DELTA_FIELDS;
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
    this.lastSuccess = Date.now();
  }

  /** Stops the timer and makes a last attempt to write everything. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
    await this.flush();
  }
}
