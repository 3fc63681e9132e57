// Seeders, leechers and snatches as the tracker counts them: held in memory for pages, the API and
// server-sent events (LiveCounts), and written to `torrent_counts` for the list's sort orders and
// for web processes of a larger site (CountsWriter), which read them there when told which
// torrents changed. Numbers never travel in a notification: a database login that can NOTIFY
// cannot make up what members see.
import { isDatabaseUnavailable, type Sql } from "../db/client.ts";
import { liveCounts, writeSwarmCounts } from "../db/queries/counts.ts";
import { log } from "../log.ts";
import type { TorrentCounts } from "../shared/channel.ts";
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

  /** Takes a coalesced update from the tracker and tells every subscriber. */
  apply(changed: readonly TorrentCounts[]): void {
    for (const c of changed) this.counts.set(c[0], { seeders: c[1], leechers: c[2], snatches: c[3] });
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
  }
}

/**
 * Reads the counts of `ids` as the tracker's process last wrote them and applies them to `counts`:
 * how a web process of a larger site follows the tracker.
 */
export async function readCounts(sql: Sql, ids: readonly number[], counts: LiveCounts): Promise<void> {
  const rows = await liveCounts(sql, ids);
  if (rows.length > 0) counts.apply(rows);
}

/**
 * In the process that runs the tracker: writes the counts that changed to `torrent_counts` every
 * `intervalMs`, then calls `written` with the ids (a tracker process tells the web processes).
 * Counts that fail to be written are kept for the next run, unless newer ones came meanwhile.
 */
export class CountsWriter {
  private dirty = new Map<number, TorrentCounts>();
  private readonly loop: FlushLoop;
  private lastWarning = 0;

  constructor(
    private readonly sql: Sql,
    intervalMs: number,
    private readonly written: (ids: number[]) => void = () => {},
  ) {
    this.loop = new FlushLoop(() => this.write(), intervalMs);
  }

  /** Takes a coalesced update from the tracker. */
  add(changed: readonly TorrentCounts[]): void {
    for (const c of changed) this.dirty.set(c[0], c);
  }

  start(): void {
    this.loop.start();
  }

  flush(): Promise<void> {
    return this.loop.flush();
  }

  /** Stops the timer and writes once more. */
  stop(): Promise<void> {
    return this.loop.last();
  }

  private async write(): Promise<void> {
    if (this.dirty.size === 0) return;
    const batch = [...this.dirty.values()];
    this.dirty = new Map();
    try {
      await writeSwarmCounts(this.sql, batch);
    } catch (error) {
      for (const c of batch) if (!this.dirty.has(c[0])) this.dirty.set(c[0], c);
      if (Date.now() - this.lastWarning > 10_000) {
        this.lastWarning = Date.now();
        log.warn("swarm counts not written; will retry", {
          unavailable: isDatabaseUnavailable(error),
          error: error as Error,
        });
      }
      return;
    }
    this.written(batch.map((c) => c[0]));
  }
}
