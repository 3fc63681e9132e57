import type { TrackerPolicy } from "../../src/config.ts";

/**
 * The tracker policy of the in-process tracker tests: the configuration's defaults (10 Gbit/s cap,
 * upload needs a leecher, reset on backwards counters, a day of grace) with room for a million
 * peers and torrents; `changes` sets what a test is about.
 */
export function testPolicy(changes: Partial<TrackerPolicy> = {}): TrackerPolicy {
  return {
    announceIntervalSeconds: 1800,
    minAnnounceIntervalSeconds: 900,
    numwantDefault: 50,
    numwantMax: 100,
    maxPeersPerUserPerTorrent: 3,
    scrapeMaxHashes: 100,
    maxPeers: 1_000_000,
    maxTorrents: 1_000_000,
    allowedClients: [],
    maxRateBytesPerSecond: 1_250_000_000,
    uploadNeedsLeecher: true,
    resetOnBackwardsCounter: true,
    byteConservation: false,
    claimHoldSeconds: 0,
    peerTimeoutSeconds: 0,
    graceSeconds: 86400,
    graceMaxPeers: 1_000_000,
    ...changes,
  };
}
