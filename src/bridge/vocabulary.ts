// What the web side and the tracker say to each other, the same in one process (over the Worker's
// port) and across processes (over PostgreSQL LISTEN/NOTIFY). Towards the tracker only ids travel:
// the tracker's side of the bridge reads the rows itself (hydrate.ts), so whoever sends a message
// cannot make up a passkey or a factor. Towards the web side only acknowledgements and peer lists
// travel; live counts reach the web side's LiveCounts through the bridge (counts.ts), never as
// numbers a database login could forge.
import type { Channel, TrackerToWeb } from "../shared/channel.ts";

/** What the web side tells the tracker. */
export type ToTracker =
  /** A member was added, disabled or enabled, had the passkey rotated or downloads paused. */
  | { readonly kind: "user"; readonly id: number }
  /** A torrent was added, changed or removed. */
  | { readonly kind: "torrent"; readonly id: number }
  /** The site-wide factor windows changed. */
  | { readonly kind: "windows" }
  /** Answered with a pong once everything sent before it is applied. */
  | { readonly kind: "ping"; readonly nonce: number }
  /** Asks for a torrent's peer list: at most `limit` seeders and `limit` leechers. */
  | {
      readonly kind: "peers-request";
      readonly nonce: number;
      readonly torrentId: number;
      readonly limit: number;
    };

/**
 * What the web side hears from the tracker: pongs, and peer lists — in one process the list itself
 * (`peers`), across processes word that the tracker process wrote it into `torrent_peers`
 * (`peers-ready`).
 */
export type ToWeb = Extract<TrackerToWeb, { kind: "pong" } | { kind: "peers" } | { kind: "peers-ready" }>;

/** The web side's end of the bridge, in either deployment. */
export type TrackerLink = Channel<ToTracker, ToWeb>;
