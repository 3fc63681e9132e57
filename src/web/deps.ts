import type { LiveCounts } from "../bridge/counts.ts";
import type { PeerSource } from "../bridge/peers.ts";
import type { TrackerSync } from "../bridge/sync.ts";
import type { Config } from "../config.ts";
import type { Sql } from "../db/client.ts";

/** What the web side's routes need from the running process. */
export interface WebDeps {
  readonly config: Config;
  readonly sql: Sql;
  /** The password pepper (configured salt, or the generated one). */
  readonly pepper: string;
  /** Live counts from the tracker. */
  readonly counts: LiveCounts;
  /** Tells the tracker about changes to members and torrents. */
  readonly sync: TrackerSync;
  /** Asks the tracker for a torrent's peers. */
  readonly peers: PeerSource;
  /** The time the rules are judged at; the real clock unless a test sets a fixed one. */
  readonly clock?: () => Date;
  /** True once the database is migrated and the tracker answered. */
  ready(): boolean;
}
