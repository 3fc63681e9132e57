import { isDatabaseUnavailable, type Sql } from "../../db/client.ts";
import { applyPeerBatch } from "../../db/queries/peers.ts";
import { log } from "../../log.ts";
import type { PeerBatch } from "../../shared/channel.ts";

/**
 * Writes the tracker's peer batches into `torrent_peers`, one at a time, in order. The table is a
 * view of the swarms a few seconds behind, not an account: a batch the database cannot take is
 * dropped with a log line (the next announces bring the peers back, and rows of peers that left
 * meanwhile go once they are older than the peer timeout).
 */
export class PeersWriter {
  private chain: Promise<void> = Promise.resolve();
  private lastWarning = 0;

  constructor(
    private readonly sql: Sql,
    /** Rows not announced for this long are removed. */
    private readonly staleSeconds: number,
  ) {}

  /** Queues a batch behind the ones being written. */
  add(batch: PeerBatch): void {
    this.chain = this.chain.then(async () => {
      try {
        await applyPeerBatch(this.sql, batch, this.staleSeconds);
      } catch (error) {
        if (Date.now() - this.lastWarning < 60_000) return;
        this.lastWarning = Date.now();
        log.warn("peer list not written; it catches up with the next announces", {
          unavailable: isDatabaseUnavailable(error),
          error: error as Error,
        });
      }
    });
  }

  /** Waits for the batches queued so far. */
  async stop(): Promise<void> {
    await this.chain;
  }
}
