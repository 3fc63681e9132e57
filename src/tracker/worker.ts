// Entry point of the tracker Worker: receives its configuration over the channel, asks the bridge
// (src/bridge/tracker-side.ts) for members, torrents and completions, serves announce and scrape
// on its own port, and reports counts and credit back. It holds no database code.
import type { Config } from "../config.ts";
import { configureLog, log } from "../log.ts";
import {
  type Completions,
  type FactorWindow,
  type SwarmPeers,
  swarmBuffers,
  type TrackerTorrent,
  type TrackerUser,
  trackerEnd,
} from "../shared/channel.ts";
import { listenProblem } from "../shared/listen.ts";
import { Histogram, LATENCY_BUCKETS } from "../shared/metrics.ts";
import { createTrackerApp } from "./app.ts";
import { peerTimeoutSeconds } from "./timeouts.ts";
import { Tracker } from "./tracker.ts";
import { createUdpHandler, listenUdp, type UdpTracker } from "./udp.ts";

declare const self: Worker;

/** How often coalesced counts go to the web side: well within the 1 s promise. */
const COUNTS_EVERY_MS = 250;
/** How often credit batches go to the web side (which writes them on its own timer). */
const DELTAS_EVERY_MS = 1000;
/** The reaper runs this often, or four times per peer timeout when that is shorter. */
const REAP_EVERY_MS = 30_000;
const METRICS_EVERY_MS = 2000;
/** Most seeders (and most leechers) one peer list holds, whatever is asked. */
const MAX_PEERS_LISTED = 1000;

const channel = trackerEnd(self as unknown as Parameters<typeof trackerEnd>[0], (data) =>
  log.warn("tracker dropped a message it does not understand", { data: String(data) }),
);
/** Identifies this run's stat batches; sequence numbers restart with it. */
const source = crypto.randomUUID();
const nowSeconds = () => Math.floor(Date.now() / 1000);

let tracker: Tracker | null = null;
let server: { stop(force?: boolean): unknown; port?: number } | null = null;
let udp: UdpTracker | null = null;
const timers: ReturnType<typeof setInterval>[] = [];
/** Requests answered, by kind and outcome. */
const requestTotals = { announce: new Map<string, number>(), scrape: new Map<string, number>() };
const latency = new Histogram("latency", "", LATENCY_BUCKETS);
const observeLatency = {
  announce: latency.observer({ kind: "announce" }),
  scrape: latency.observer({ kind: "scrape" }),
};
let reapedTotal = 0;
/** What a full reload gives the tracker. */
interface Snapshot {
  users: TrackerUser[];
  torrents: TrackerTorrent[];
  windows: FactorWindow[];
}
let pendingSnapshot: ((snapshot: Snapshot) => void) | null = null;
let pendingCompletions: ((completions: Completions) => void) | null = null;
let pendingSwarm: ((saved: { peers: SwarmPeers; waiting?: Float64Array }) => void) | null = null;
/** When the last "records dropped" or "grace store full" line was logged, and the totals then. */
let lastDropLog = 0;
let loggedDrops = { suspicious: 0, grace: 0 };

/** Members, torrents and factor windows, as the bridge reads them. */
function loadSnapshot(): Promise<Snapshot> {
  return new Promise((resolve) => {
    pendingSnapshot = resolve;
    channel.send({ kind: "snapshot-request" });
  });
}

/**
 * Who already completed which torrent, read once at start (a reload does not need it: completions
 * of this run are counted in memory).
 */
function loadCompletions(): Promise<Completions> {
  return new Promise((resolve) => {
    pendingCompletions = resolve;
    channel.send({ kind: "completions-request" });
  });
}

/** The peers saved with the last credit written, read once at start, before listening. */
function loadSwarm(): Promise<{ peers: SwarmPeers; waiting?: Float64Array }> {
  return new Promise((resolve) => {
    pendingSwarm = resolve;
    channel.send({ kind: "swarm-request" });
  });
}

function sendUpdates(): void {
  if (!tracker) return;
  const counts = tracker.takeCounts();
  if (counts.length) channel.send({ kind: "counts", counts });
}

function sendDeltas(): void {
  // Byte conservation's clock: downloads that waited their hold back claims, old claims expire.
  tracker?.settle(nowSeconds());
  const batch = tracker?.takeDeltas();
  // The packed rows move to the web side without a copy.
  if (batch) {
    const { seq, deltas, swarm } = batch;
    const transfer = [deltas.buffer as ArrayBuffer, ...(swarm ? swarmBuffers(swarm) : [])];
    channel.send(
      swarm ? { kind: "stats", source, seq, deltas, swarm } : { kind: "stats", source, seq, deltas },
      transfer,
    );
  }
  const suspicious = tracker?.takeSuspicious();
  if (suspicious)
    channel.send({ kind: "suspicious", source, seq: suspicious.seq, batch: suspicious.batch }, [
      suspicious.batch.rows.buffer as ArrayBuffer,
      suspicious.batch.peerIds.buffer as ArrayBuffer,
    ]);
  logDrops();
}

/** At most one line a minute when suspicious transfers or dropped peers' counters were not kept. */
function logDrops(): void {
  if (!tracker || Date.now() - lastDropLog < 60_000) return;
  const suspicious = tracker.suspiciousDropped - loggedDrops.suspicious;
  const grace = tracker.graceRefused - loggedDrops.grace;
  if (suspicious === 0 && grace === 0) return;
  lastDropLog = Date.now();
  loggedDrops = { suspicious: tracker.suspiciousDropped, grace: tracker.graceRefused };
  if (suspicious > 0)
    log.warn("suspicious transfers not recorded: more than the batch limit in one second", {
      dropped: suspicious,
    });
  if (grace > 0)
    log.warn("dropped peers whose counters were not kept: the grace store is full", {
      forgotten: grace,
      setting: "tracker.graceMaxPeers",
    });
}

/** Answers a request for one torrent's peer list. */
function sendPeers(nonce: number, torrentId: number, limit: number): void {
  const list = tracker?.peersOf(torrentId, Math.min(limit, MAX_PEERS_LISTED)) ?? null;
  channel.send(
    { kind: "peers", nonce, torrentId, list },
    list ? [list.rows.buffer as ArrayBuffer, list.peerIds.buffer as ArrayBuffer] : [],
  );
}

function sendMetrics(): void {
  if (!tracker) return;
  const requests: [string, string, number][] = [];
  for (const kind of ["announce", "scrape"] as const)
    for (const [outcome, count] of requestTotals[kind]) requests.push([kind, outcome, count]);
  channel.send({
    kind: "metrics",
    metrics: {
      requests,
      latency: latency.snapshot(),
      peers: tracker.swarms.size,
      torrents: tracker.state.torrentCount,
      users: tracker.state.users.size,
      swarmBytes: tracker.swarms.memoryBytes(),
      reaped: reapedTotal,
      conservation: {
        creditedUp: tracker.conservation.creditedUp,
        reportedDown: tracker.conservation.reportedDown,
        expiredUp: tracker.conservation.expiredUp,
        overSizeDown: tracker.conservation.overSizeDown,
      },
    },
  });
}

async function reload(): Promise<void> {
  try {
    const snapshot = await loadSnapshot();
    tracker?.load(snapshot.users, snapshot.torrents);
    tracker?.setWindows(snapshot.windows);
    log.debug("reloaded members and torrents", {
      users: snapshot.users.length,
      torrents: snapshot.torrents.length,
    });
  } catch (error) {
    log.warn("reload failed; serving from memory", { error: error as Error });
  }
}

/** Counts one answered request for the metrics, whichever front end answered it. */
function countOutcome(kind: "announce" | "scrape", outcome: string, seconds: number): void {
  const totals = requestTotals[kind];
  totals.set(outcome, (totals.get(outcome) ?? 0) + 1);
  observeLatency[kind](seconds);
}

async function start(config: Config): Promise<void> {
  configureLog(config.logLevel, "tracker");
  let lastLimitLog = 0;
  const t = new Tracker(config.tracker, Math.random, (what, limit) => {
    // At most one line a minute: a full tracker is hit by every new peer.
    if (Date.now() - lastLimitLog < 60_000) return;
    lastLimitLog = Date.now();
    log.warn(`tracker limit reached: ${what}`, {
      limit,
      setting: what === "peers" ? "tracker.maxPeers" : "tracker.maxTorrents",
    });
  });
  // The bridge fails the start itself when it cannot read these.
  const snapshot = await loadSnapshot();
  t.load(snapshot.users, snapshot.torrents);
  t.setWindows(snapshot.windows);
  const pairs = await loadCompletions();
  t.loadCompletions(pairs);
  const completions = pairs.length / 2;
  // Every peer as it stood when the last credit was written: the first announce after a restart
  // is credited from there.
  const saved = await loadSwarm();
  const restored = t.restore(saved.peers);
  // Upload claims and downloads that waited for each other under byte conservation.
  const waiting = saved.waiting ? t.restoreWaiting(saved.waiting) : 0;
  tracker = t;
  const app = createTrackerApp(t, {
    pathDepth: config.pathDepth,
    trustedProxies: config.tracker.trustedProxies,
    now: nowSeconds,
    onOutcome: countOutcome,
  });
  try {
    // Elysia must own the server to hand each request's socket address to the handler.
    // reusePort off: a second instance must fail loudly, not share the port.
    app.listen({ hostname: config.tracker.host, port: config.tracker.port, reusePort: false });
    server = app.server!;
  } catch (error) {
    channel.send({ kind: "fatal", message: listenProblem("tracker", config.tracker, error) });
    return;
  }
  if (config.tracker.udpPort >= 0) {
    // The second front end: the same tracker, its own port.
    const handle = createUdpHandler(t, {
      pathDepth: config.pathDepth,
      packetsPerSecond: config.tracker.udpPacketsPerSecond,
      now: nowSeconds,
      onOutcome: countOutcome,
    });
    try {
      udp = await listenUdp(handle, config.tracker.host, config.tracker.udpPort);
    } catch (error) {
      server?.stop(true);
      channel.send({
        kind: "fatal",
        message: listenProblem(
          "UDP tracker",
          { host: config.tracker.host, port: config.tracker.udpPort },
          error,
        ),
      });
      return;
    }
  }
  const staleAfter = peerTimeoutSeconds(config.tracker);
  timers.push(
    setInterval(sendUpdates, COUNTS_EVERY_MS),
    setInterval(sendDeltas, DELTAS_EVERY_MS),
    setInterval(
      () => {
        const removed = t.reap(nowSeconds() - staleAfter);
        reapedTotal += removed;
        if (removed) log.debug("reaped stale peers", { removed });
      },
      Math.min(REAP_EVERY_MS, Math.max(1000, (staleAfter * 1000) / 4)),
    ),
    setInterval(() => void reload(), config.tracker.reloadIntervalSeconds * 1000),
    setInterval(sendMetrics, METRICS_EVERY_MS),
  );
  const port = app.server?.port ?? 0;
  log.info("tracker listening", {
    host: config.tracker.host,
    port,
    ...(udp ? { udpPort: udp.port } : {}),
    users: snapshot.users.length,
    torrents: snapshot.torrents.length,
    completions,
    restored,
    waiting,
  });
  channel.send({ kind: "ready", port, udpPort: udp?.port ?? null });
  sendMetrics();
}

channel.onMessage((message) => {
  switch (message.kind) {
    case "init":
      void start(message.config as Config);
      break;
    case "snapshot":
      // Asked for, or sent after notifications may have been missed.
      if (pendingSnapshot)
        pendingSnapshot({ users: message.users, torrents: message.torrents, windows: message.windows });
      else {
        tracker?.load(message.users, message.torrents);
        tracker?.setWindows(message.windows);
      }
      pendingSnapshot = null;
      break;
    case "swarm":
      pendingSwarm?.(
        message.waiting ? { peers: message.peers, waiting: message.waiting } : { peers: message.peers },
      );
      pendingSwarm = null;
      break;
    case "completions":
      pendingCompletions?.(message.completions);
      pendingCompletions = null;
      break;
    case "user-upsert":
      tracker?.upsertUser(message.user);
      break;
    case "user-removed":
      tracker?.removeUser(message.id);
      break;
    case "torrent-upsert":
      tracker?.upsertTorrent(message.torrent);
      break;
    case "torrent-removed":
      tracker?.removeTorrent(message.id);
      break;
    case "windows":
      tracker?.setWindows(message.windows);
      break;
    case "ping":
      channel.send({ kind: "pong", nonce: message.nonce });
      break;
    case "peers-request":
      sendPeers(message.nonce, message.torrentId, message.limit);
      break;
    case "shutdown":
      for (const timer of timers) clearInterval(timer);
      server?.stop(true);
      server = null;
      udp?.stop();
      udp = null;
      // Whatever was credited up to now goes out before the web side's last flush.
      sendUpdates();
      sendDeltas();
      channel.send({ kind: "stopped" });
      break;
  }
});
