import type { TrackerPolicy } from "../config.ts";

/**
 * The longest regular interval real clients use, whatever the tracker says: rtorrent clamps
 * `interval` to at least 600 s (libtorrent-rasterbar re-announces no sooner than 300 s).
 */
export const CLIENT_INTERVAL_FLOOR_SECONDS = 600;

/** Seconds of silence after which a peer is dropped from its swarm (`tracker.peerTimeoutSeconds`). */
export function peerTimeoutSeconds(
  policy: Pick<TrackerPolicy, "peerTimeoutSeconds" | "announceIntervalSeconds">,
): number {
  if (policy.peerTimeoutSeconds > 0) return policy.peerTimeoutSeconds;
  // A client that honours no interval below the floor must not be dropped between two announces.
  return Math.ceil(1.5 * Math.max(policy.announceIntervalSeconds, CLIENT_INTERVAL_FLOOR_SECONDS));
}
