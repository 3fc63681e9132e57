import { isDatabaseUnavailable, type Sql } from "../db/client.ts";
import { writePeerList } from "../db/queries/peers.ts";
import { log } from "../log.ts";
import type { PeerList } from "../shared/channel.ts";

/**
 * In a tracker process: writes each peer list a web process asked for into `torrent_peers`, one at
 * a time, then says it is there (`ready`). A list the database cannot take is not announced: the
 * web process that asked stops waiting and says the list is not available.
 */
export class PeerListWriter {
  private chain: Promise<void> = Promise.resolve();
  private lastWarning = 0;

  constructor(
    private readonly sql: Sql,
    /** Lists of other torrents older than this go with each write. */
    private readonly staleSeconds: number,
    private readonly ready: (nonce: number, torrentId: number, known: boolean) => void,
  ) {}

  /** Queues a list behind the ones being written; `list` is null when the tracker does not know the torrent. */
  add(nonce: number, torrentId: number, list: PeerList | null): void {
    this.chain = this.chain.then(async () => {
      try {
        if (list) await writePeerList(this.sql, torrentId, list, this.staleSeconds);
        this.ready(nonce, torrentId, list !== null);
      } catch (error) {
        if (Date.now() - this.lastWarning < 60_000) return;
        this.lastWarning = Date.now();
        log.warn("a peer list was not written", {
          unavailable: isDatabaseUnavailable(error),
          error: error as Error,
        });
      }
    });
  }

  /** Waits for the lists queued so far. */
  async stop(): Promise<void> {
    await this.chain;
  }
}
