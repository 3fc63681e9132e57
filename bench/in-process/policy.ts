import type { TrackerPolicy } from "../../src/tracker/tracker.ts";

/** The tracker policy of the in-process benchmark scripts: the benchmark server's settings
 * (no minimum interval, 100 peers a member per torrent), with room for every peer. */
export const BENCH_POLICY: TrackerPolicy = {
  announceIntervalSeconds: 1800,
  minAnnounceIntervalSeconds: 0,
  numwantDefault: 50,
  numwantMax: 100,
  maxPeersPerUserPerTorrent: 100,
  scrapeMaxHashes: 100,
  maxPeers: 50_000_000,
  maxTorrents: 50_000_000,
  allowedClients: [],
  maxRateBytesPerSecond: 1_250_000_000,
  // As the benchmark server: simulated lone seeders report upload all the same.
  uploadNeedsLeecher: false,
  resetOnBackwardsCounter: true,
  byteConservation: true,
  claimHoldSeconds: 0,
  peerTimeoutSeconds: 0,
  graceSeconds: 86400,
  graceMaxPeers: 1_000_000,
};
