// The tracker's half of the bridge, in the process that runs the tracker (the only process, or the
// `--only tracker` one): starts the tracker Worker, loads it (loader.ts), feeds it what the web
// side says (feed.ts), and takes what it reports: counts, credit, suspicious transfers, peer lists
// and metrics, written here and never through the web wing.
import type { Config } from "../config.ts";
import { connect, type Database } from "../db/client.ts";
import { settleTrackerPeers } from "../db/queries/tracker-peers.ts";
import { log } from "../log.ts";
import {
  type Channel,
  type TrackerMetrics,
  type TrackerToWeb,
  type WebToTracker,
  webEnd,
} from "../shared/channel.ts";
import { StartupError } from "../shared/startup.ts";
import { peerTimeoutSeconds } from "../tracker/timeouts.ts";
import { workerUrl } from "../workers.ts";
import { CountsWriter, type LiveCounts } from "./counts.ts";
import type { StatsWriter } from "./credit.ts";
import { trackerFeed } from "./feed.ts";
import { trackerLoader } from "./loader.ts";
import { PeerListWriter } from "./peer-lists.ts";
import { type PgChannel, pgTrackerEnd, type TrackerNews } from "./pg.ts";
import { ConnectableProber } from "./prober.ts";
import { SpillUnreadableError, setAsideSpill, spillPath } from "./spill.ts";
import type { SuspiciousWriter } from "./suspicious.ts";
import type { ToTracker, ToWeb, TrackerLink } from "./vocabulary.ts";

const TRACKER_START_TIMEOUT_MS = 15_000;
/** How often a tracker process writes changed counts and tells the web processes. */
export const COUNTS_PUBLISH_MS = 500;

/** The tracker's half, running. */
export interface TrackerSide {
  /** The port the tracker listens on. */
  readonly port: number;
  /** The UDP tracker's port, or null when it is off (`tracker.udpPort` -1). */
  readonly udpPort: number | null;
  /** The web side's end in this process (unused by a tracker-only process). */
  readonly link: TrackerLink;
  /** The tracker process's end towards the web processes, in a tracker-only process. */
  readonly pg: PgChannel<TrackerNews, ToTracker> | null;
  /**
   * Stops the Worker, then writes what it reported last; credit the database cannot take is saved
   * to the spill file.
   */
  stop(): Promise<StopOutcome>;
}

/** What the tracker's half writes to and reports through. */
export interface TrackerSideOptions {
  readonly config: Config;
  readonly db: Database;
  /** True in a tracker-only process: the web processes hear it over PostgreSQL. */
  readonly alone: boolean;
  readonly counts: LiveCounts;
  readonly stats: StatsWriter;
  readonly suspicious: SuspiciousWriter;
  /** The tracker's own figures, every few seconds. */
  readonly onMetrics: (metrics: TrackerMetrics) => void;
}

/** Starts the Worker: its channel at once, its port once it listens. */
function startWorker(
  config: Config,
  onMessage: (message: TrackerToWeb) => void,
): {
  worker: Worker;
  channel: Channel<WebToTracker, TrackerToWeb>;
  ready: Promise<{ port: number; udpPort: number | null }>;
  /** Fails the start, if it is still under way: the Worker is stopped and `ready` rejects. */
  fail(message: string): void;
} {
  const worker = new Worker(workerUrl("tracker"));
  const channel = webEnd(worker as never, (data) =>
    log.warn("web dropped an unknown message", { data: String(data) }),
  );
  let fail: (message: string) => void = () => {};
  const ready = new Promise<{ port: number; udpPort: number | null }>((resolve, reject) => {
    let settled = false;
    fail = (message) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      worker.terminate();
      reject(new StartupError(message));
    };
    const timer = setTimeout(() => {
      worker.terminate();
      reject(new StartupError("the tracker did not start within 15 s"));
    }, TRACKER_START_TIMEOUT_MS);
    worker.addEventListener("error", (event) => {
      clearTimeout(timer);
      reject(new StartupError(`the tracker failed to start: ${(event as ErrorEvent).message}`));
    });
    channel.onMessage((message) => {
      onMessage(message);
      if (message.kind === "ready") {
        settled = true;
        clearTimeout(timer);
        resolve({ port: message.port, udpPort: message.udpPort });
      } else if (message.kind === "fatal") {
        clearTimeout(timer);
        worker.terminate();
        reject(new StartupError(message.message));
      }
    });
  });
  channel.send({ kind: "init", config });
  return { worker, channel, ready, fail: (message) => fail(message) };
}

/** Queues the credit saved at the last stop, if any; an unreadable file is moved aside. */
function restoreSpill(stats: StatsWriter, file: string): void {
  try {
    const rows = stats.restore(file);
    if (rows > 0) log.info("replaying credit saved at the last stop", { file, rows });
  } catch (error) {
    if (!(error instanceof SpillUnreadableError)) throw error;
    const aside = setAsideSpill(file);
    log.error("the spill file cannot be read: its credit is not replayed", { file: aside, error });
  }
}

/** How a stop went for pending credit. */
export interface StopOutcome {
  /** Credit rows saved to the spill file (the database was unreachable), replayed at the next start. */
  readonly creditSaved: number;
  /** Credit rows neither written nor saved: lost. */
  readonly creditLost: number;
  /** The spill file, when rows were saved. */
  readonly spillFile: string | null;
}

/** After the last write: saves what the database did not take to the spill file. */
function saveUnwritten(unwritten: number, stats: StatsWriter, file: string): StopOutcome {
  if (unwritten === 0) return { creditSaved: 0, creditLost: 0, spillFile: null };
  try {
    const rows = stats.spill(file);
    log.warn("database unreachable at shutdown: pending credit saved for the next start", { file, rows });
    return { creditSaved: rows, creditLost: 0, spillFile: file };
  } catch (error) {
    log.error("pending credit could not be written or saved: it is lost", {
      file,
      rows: unwritten,
      error: error as Error,
    });
    return { creditSaved: 0, creditLost: unwritten, spillFile: null };
  }
}

/** Starts the tracker Worker and everything between it and the database. */
export async function startTrackerSide(options: TrackerSideOptions): Promise<TrackerSide> {
  const { config, db, alone, counts, stats, suspicious, onMetrics } = options;
  const loader = trackerLoader(config, db.sql);
  // LISTEN holds a connection of its own, opened anew if it ever stops hearing.
  const pg = alone ? await pgTrackerEnd(db.sql, () => connect(config.webapi.postgresql!, 1)) : null;
  const local: ((message: ToWeb) => void)[] = [];
  const tell = (message: Extract<ToWeb, { kind: "pong" }>) => {
    for (const handler of local) handler(message);
    pg?.send(message);
  };
  // Peer lists asked for by web processes go through the database.
  const peerLists = pg
    ? new PeerListWriter(db.sql, peerTimeoutSeconds(config.tracker), (nonce, torrentId, known) =>
        pg.send({ kind: "peers-ready", nonce, torrentId, known }),
      )
    : null;
  const countsOut = new CountsWriter(
    db.sql,
    alone ? COUNTS_PUBLISH_MS : config.webapi.flushIntervalMs,
    (ids) => pg?.send({ kind: "counts", ids }),
  );

  // Changes that arrive while the Worker loads are held, then handed on in order.
  let worker: Channel<WebToTracker, TrackerToWeb> | null = null;
  const early: WebToTracker[] = [];
  const toWorker = (message: WebToTracker) => (worker ? worker.send(message) : early.push(message));
  const feed = trackerFeed(db.sql, toWorker);
  pg?.onMessage((message) => feed.send(message));

  // A read that fails at start fails the start; a later one leaves the tracker serving from memory.
  const sendSnapshot = async () => {
    try {
      started.channel.send({ kind: "snapshot", ...(await loader.snapshot()) });
    } catch (error) {
      started.fail(`the tracker cannot load members and torrents: ${(error as Error).message}`);
      log.warn("reload failed; the tracker serves from memory", { error: error as Error });
    }
  };
  const sendCompletions = async () => {
    try {
      const completions = await loader.completions();
      started.channel.send({ kind: "completions", completions }, [completions.buffer as ArrayBuffer]);
    } catch (error) {
      started.fail(`the tracker cannot load who completed which torrent: ${(error as Error).message}`);
    }
  };

  // The peers saved with the last credit written. Credit saved at the last stop (the spill file)
  // goes first: its batches carry their peers' changes, and a baseline older than credit already
  // written would credit the bytes in between twice, so the start fails rather than load one.
  const sendSwarm = async () => {
    try {
      await stats.flush();
      if (stats.pending.batches > 0)
        throw new Error("the credit saved at the last stop cannot be written, and the peers go with it");
      const timeout = peerTimeoutSeconds(config.tracker) + config.tracker.graceSeconds;
      await settleTrackerPeers(db.sql, Math.floor(Date.now() / 1000) - timeout);
      const peers = await loader.swarm();
      const waiting = await loader.waiting();
      started.channel.send({ kind: "swarm", peers, waiting }, [
        peers.rows.buffer as ArrayBuffer,
        peers.peerIds.buffer as ArrayBuffer,
        peers.addresses.buffer as ArrayBuffer,
        waiting.buffer as ArrayBuffer,
      ]);
    } catch (error) {
      started.fail(`the tracker cannot restore its peers: ${(error as Error).message}`);
    }
  };

  const spillFile = spillPath(config.dataDir);
  restoreSpill(stats, spillFile);
  const started = startWorker(config, (message) => {
    switch (message.kind) {
      case "counts":
        counts.apply(message.counts);
        countsOut.add(message.counts);
        break;
      case "pong":
        tell(message);
        break;
      case "stats":
        stats.add(message.source, message.seq, message.deltas, message.swarm ?? null);
        break;
      case "suspicious":
        suspicious.add(message.source, message.seq, message.batch);
        break;
      case "peers":
        if (peerLists) peerLists.add(message.nonce, message.torrentId, message.list);
        else for (const handler of local) handler(message);
        break;
      case "completions-request":
        void sendCompletions();
        break;
      case "swarm-request":
        void sendSwarm();
        break;
      case "snapshot-request":
        void sendSnapshot();
        break;
      case "metrics":
        onMetrics(message.metrics);
        break;
    }
  });
  let port: number;
  let udpPort: number | null;
  try {
    ({ port, udpPort } = await started.ready);
  } catch (error) {
    await pg?.close().catch(() => {});
    throw error;
  }
  worker = started.channel;
  for (const message of early.splice(0)) worker.send(message);
  // After a lost connection, changes may have gone unheard: reload everything.
  pg?.onReconnect(() => void sendSnapshot());
  stats.start();
  suspicious.start();
  countsOut.start();
  // Members' peers, as saved with the credit, are probed for the seeding bonus (see prober.ts).
  const prober = new ConnectableProber(db.sql, {
    probesPerSecond: config.tracker.connectableProbesPerSecond,
  });
  prober.start();

  let stopping: Promise<StopOutcome> | null = null;
  return {
    port,
    udpPort,
    pg,
    link: {
      send: (message) => feed.send(message),
      onMessage: (handler) => void local.push(handler),
    },
    stop() {
      stopping ??= (async () => {
        await prober.stop();
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, 5000);
          started.channel.onMessage((message) => {
            if (message.kind === "stopped") {
              clearTimeout(timer);
              resolve();
            }
          });
          started.channel.send({ kind: "shutdown" });
        });
        started.worker.terminate();
        // The tracker's last counts are written and announced before the notifications stop.
        await countsOut.stop();
        await pg?.close();
        const outcome = saveUnwritten(await stats.stop(), stats, spillFile);
        await suspicious.stop();
        await peerLists?.stop();
        return outcome;
      })();
      return stopping;
    },
  };
}
