import type { Config } from "./config.ts";
import { connect, type Database, openDatabase } from "./db/client.ts";
import { migrate } from "./db/migrate.ts";
import { factorWindows } from "./db/queries/freeleech.ts";
import { createInvite } from "./db/queries/invites.ts";
import { trackerCompletions, trackerTorrents } from "./db/queries/torrents.ts";
import { countUsers, trackerUsers } from "./db/queries/users.ts";
import { configureLog, log } from "./log.ts";
import { Metrics, MetricsListenError, startMetricsServer } from "./metrics-server.ts";
import { type Channel, type TrackerToWeb, type WebToTracker, webEnd } from "./shared/channel.ts";
import { listenProblem } from "./shared/listen.ts";
import { type PgChannel, pgTrackerEnd, pgWebEnd } from "./shared/pg-channel.ts";
import { resolvePepper } from "./shared/secrets.ts";
import { peerTimeoutSeconds } from "./tracker/timeouts.ts";
import { createWebApp, frontOptions, webFetch } from "./web/app.tsx";
import { SpillUnreadableError, setAsideSpill, spillPath } from "./web/credit-spill.ts";
import { startEconomyJobs } from "./web/economy/service.ts";
import { DEFAULT_SITE_URL, defaultLinksWarning } from "./web/links.ts";
import { LiveCounts, StatsWriter } from "./web/live.ts";
import { peerSource } from "./web/peers/source.ts";
import { PeerListWriter } from "./web/peers/writer.ts";
import { Sampler } from "./web/plots/sampler.ts";
import { SuspiciousWriter } from "./web/suspicious/writer.ts";
import { type TrackerSync, trackerSync } from "./web/tracker-sync.ts";
import { workerUrl } from "./workers.ts";

/** A running Fairywren: its ports, the channel, and how to stop it cleanly. */
export interface Running {
  /** Port of the web site; 0 in a tracker-only process. */
  readonly webPort: number;
  /** Port of the tracker; 0 in a web-only process. */
  readonly trackerPort: number;
  readonly db: Database;
  readonly channel: Channel<WebToTracker, TrackerToWeb>;
  readonly counts: LiveCounts;
  readonly stats: StatsWriter;
  readonly sync: TrackerSync;
  readonly metrics: Metrics;
  /** Port of /metrics, /healthz and /readyz; 0 when they are off. */
  readonly metricsPort: number;
  /** Stops everything; credit the database cannot take is saved to the spill file. */
  stop(): Promise<StopOutcome>;
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

/** A start-up failure with a one-line message for the operator. */
export class StartupError extends Error {}

const TRACKER_START_TIMEOUT_MS = 15_000;

function startTracker(
  config: Config,
  onMessage: (message: TrackerToWeb, channel: Channel<WebToTracker, TrackerToWeb>) => void,
): Promise<{ worker: Worker; channel: Channel<WebToTracker, TrackerToWeb>; port: number }> {
  const worker = new Worker(workerUrl("tracker"));
  const channel = webEnd(worker as never, (data) =>
    log.warn("web dropped an unknown message", { data: String(data) }),
  );
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      worker.terminate();
      reject(new StartupError("the tracker did not start within 15 s"));
    }, TRACKER_START_TIMEOUT_MS);
    worker.addEventListener("error", (event) => {
      clearTimeout(timer);
      reject(new StartupError(`the tracker failed to start: ${(event as ErrorEvent).message}`));
    });
    channel.onMessage((message) => {
      onMessage(message, channel);
      if (message.kind === "ready") {
        clearTimeout(timer);
        resolve({ worker, channel, port: message.port });
      } else if (message.kind === "fatal") {
        clearTimeout(timer);
        worker.terminate();
        reject(new StartupError(message.message));
      }
    });
    channel.send({ kind: "init", config });
  });
}

/**
 * With no members yet, prints a one-day invite link: whoever registers through it first gets every
 * role. (`fairywren adduser` does the same from the command line while the server is stopped.)
 */
async function offerFirstAccount(config: Config, db: Database, port: number): Promise<void> {
  if ((await countUsers(db.sql)) > 0) return;
  const invite = await createInvite(db.sql, { inviterId: null, days: 1 });
  // The default site URL names the default port; follow the port actually used.
  const site = config.siteUrl === DEFAULT_SITE_URL ? `http://localhost:${port}` : config.siteUrl;
  const link = `${site}/register/${invite.secret}`;
  log.info("no members yet: open the first-account link to create the administrator", { valid: "24 hours" });
  process.stdout.write(
    `\n  No members yet. Create the first account (it gets every role) at:\n  ${link}\n\n`,
  );
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

/** Says, in the log and plainly on standard error, when links may not work from other machines. */
function warnAboutDefaultLinks(config: Config): void {
  const warning = defaultLinksWarning(config);
  if (!warning) return;
  log.warn(warning);
  const lines: string[] = [];
  let line = "  WARNING:";
  for (const word of warning.split(" ")) {
    if (line.length + word.length > 98) {
      lines.push(line);
      line = "  ";
    }
    line += line === "  " ? word : ` ${word}`;
  }
  process.stderr.write(`\n${[...lines, line].join("\n")}\n\n`);
}

/** Which parts of Fairywren one process runs: both (the default), or one of them. */
export type Role = "all" | "web" | "tracker";

/** How `serve` runs. */
export interface ServeOptions {
  /**
   * `web`: the site alone, hearing the tracker through PostgreSQL; `tracker`: the tracker alone,
   * writing its own credit and telling every web process through PostgreSQL. Both need a real server.
   */
  readonly role?: Role;
}

/** Why `role` cannot run with `config`, or null. */
export function roleProblem(config: Config, role: Role): string | null {
  if (role === "all" || config.webapi.postgresql) return null;
  return `--only ${role} needs a PostgreSQL server (DATABASE_URL or webapi.postgresql): the embedded database serves one process, so run fairywren without --only`;
}

/**
 * Opens and migrates the database and starts what `options.role` names: the tracker Worker and the
 * web site in one process (the default), or one of them, talking to the others over PostgreSQL.
 */
export async function serve(config: Config, options: ServeOptions = {}): Promise<Running> {
  const role = options.role ?? "all";
  const problem = roleProblem(config, role);
  if (problem) throw new StartupError(problem);
  configureLog(config.logLevel, role === "tracker" ? "tracker" : "web");
  const db = await openDatabase(config.webapi.postgresql, config.dataDir);
  let tracker: Awaited<ReturnType<typeof startTracker>> | null = null;
  let pg: PgChannel<unknown, unknown> | null = null;
  let peerLists: PeerListWriter | null = null;
  try {
    await db.longWork(migrate);
    const counts = new LiveCounts();
    // A web process writes no credit (the tracker process does): its writer stays idle, on counts of its own.
    const stats = new StatsWriter(
      db.sql,
      role === "web" ? new LiveCounts() : counts,
      config.webapi.flushIntervalMs,
    );
    const metrics = new Metrics(stats);
    // Written, as the credit, by the process that runs the tracker.
    const suspicious = new SuspiciousWriter(db.sql, config.webapi.flushIntervalMs);
    const spillFile = spillPath(config.dataDir);
    // Only a process that writes credit replays what an earlier stop saved.
    if (role !== "web") restoreSpill(stats, spillFile);
    // LISTEN holds a connection of its own, opened anew if it ever stops hearing.
    const listener = () => connect(config.webapi.postgresql!, 1);
    let channel: Channel<WebToTracker, TrackerToWeb>;
    if (role === "web") {
      const end = await pgWebEnd(db.sql, listener);
      pg = end as PgChannel<unknown, unknown>;
      end.onMessage((message) => {
        if (message.kind === "counts") counts.apply(message.counts);
      });
      end.onReconnect(() => counts.clear());
      channel = end;
    } else {
      const toWeb = role === "tracker" ? await pgTrackerEnd(db.sql, listener) : null;
      pg = toWeb as PgChannel<unknown, unknown> | null;
      // Peer lists asked for by web processes go through the database (in one process, the web
      // side hears the Worker's answer itself).
      peerLists = toWeb
        ? new PeerListWriter(db.sql, peerTimeoutSeconds(config.tracker), (nonce, torrentId, known) =>
            toWeb.send({ kind: "peers-ready", nonce, torrentId, known }),
          )
        : null;
      const lists = peerLists;
      // Changes that arrive while the Worker loads are held, then applied in order.
      const early: WebToTracker[] = [];
      toWeb?.onMessage((message) => (tracker ? tracker.channel.send(message) : early.push(message)));
      tracker = await startTracker(config, (message, worker) => {
        switch (message.kind) {
          case "counts":
            counts.apply(message.counts);
            toWeb?.send(message);
            break;
          case "pong":
            toWeb?.send(message);
            break;
          case "stats":
            stats.add(message.source, message.seq, message.deltas);
            break;
          case "suspicious":
            suspicious.add(message.source, message.seq, message.batch);
            break;
          case "peers":
            lists?.add(message.nonce, message.torrentId, message.list);
            break;
          case "completions-request":
            void sendCompletions(db, worker);
            break;
          case "metrics":
            metrics.fromTracker(message.metrics);
            break;
          case "snapshot-request":
            void sendSnapshot(db, worker);
            break;
        }
      });
      for (const message of early.splice(0)) tracker.channel.send(message);
      const worker = tracker.channel;
      // After a lost connection, changes may have gone unheard: reload everything.
      toWeb?.onReconnect(() => void sendSnapshot(db, worker));
      stats.start();
      suspicious.start();
      channel = tracker.channel;
    }
    const sync = trackerSync(db.sql, channel);
    // Announce URLs name the tracker's port (src/web/links.ts): the one it listens on, which the
    // setting does not say when it is 0 (another process's tracker listens on the configured one).
    const webConfig: Config = Object.freeze({
      ...config,
      tracker: Object.freeze({ ...config.tracker, port: tracker?.port ?? config.tracker.port }),
    });
    let web: ReturnType<typeof Bun.serve> | null = null;
    // Seeding bonus and download pauses, hourly, by every web process: an hour is credited once
    // whichever runs first, and a pause is set once whichever checks first.
    let bonus: ReturnType<typeof startEconomyJobs> | null = null;
    if (role !== "tracker") {
      const pepper = resolvePepper(config.salt, config.dataDir);
      const peers = peerSource(db.sql, channel);
      const app = createWebApp({
        config: webConfig,
        sql: db.sql,
        pepper,
        counts,
        sync,
        peers,
        ready: () => true,
      });
      const front = webFetch(app, frontOptions(config));
      try {
        web = Bun.serve({
          hostname: config.webapi.host,
          port: config.webapi.port,
          async fetch(request, server) {
            const started = performance.now();
            const response = await front(request, server);
            metrics.webLatency.observe(
              { method: request.method, status: `${Math.floor(response.status / 100)}xx` },
              (performance.now() - started) / 1000,
            );
            return response;
          },
          // Bun would refuse a larger declared body itself, with an empty 413 before the front could
          // say why. The front refuses bodies over its own limit unread (webFetch), so this is only
          // Bun's backstop.
          maxRequestBodySize: Number.MAX_SAFE_INTEGER,
        });
      } catch (error) {
        throw new StartupError(listenProblem("web site", config.webapi, error));
      }
      log.info("web site listening", {
        host: config.webapi.host,
        port: web.port,
        embedded: db.embedded,
        ...(role === "web" ? { role } : {}),
      });
    }
    let admin: ReturnType<typeof startMetricsServer>;
    try {
      const end = pg;
      admin = startMetricsServer(config, metrics, db.sql, {
        tracker: role !== "web",
        other: () =>
          end && !end.listening ? "notifications from the other processes are not arriving" : null,
      });
    } catch (error) {
      await web?.stop(true);
      throw error instanceof MetricsListenError ? new StartupError(error.message) : error;
    }
    if (web) warnAboutDefaultLinks(webConfig);
    if (web) bonus = startEconomyJobs(db.sql, config, sync);
    const bonusJob = bonus;
    if (web) await offerFirstAccount(config, db, web.port ?? config.webapi.port);
    const started = tracker;
    const end = pg;
    let stopping: Promise<StopOutcome> | null = null;
    const sampler = role === "tracker" ? null : new Sampler(db.sql, counts).start();
    return {
      webPort: web?.port ?? 0,
      trackerPort: started?.port ?? 0,
      db,
      channel,
      counts,
      stats,
      sync,
      metrics,
      metricsPort: admin?.port ?? 0,
      stop() {
        stopping ??= (async () => {
          await web?.stop(true);
          await admin?.stop(true);
          await bonusJob?.stop();
          if (started) {
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
          }
          // The tracker's last counts are on their way out before the notifications stop.
          await end?.close();
          await sampler?.stop();
          const outcome = saveUnwritten(await stats.stop(), stats, spillFile);
          await suspicious.stop();
          await peerLists?.stop();
          await db.close().catch((error) => log.warn("database did not close cleanly", { error }));
          return outcome;
        })();
        return stopping;
      },
    };
  } catch (error) {
    tracker?.worker.terminate();
    await pg?.close().catch(() => {});
    await db.close().catch(() => {});
    throw error;
  }
}

/** Reads every member and torrent and hands them to the tracker Worker. */
async function sendSnapshot(db: Database, worker: Channel<WebToTracker, TrackerToWeb>): Promise<void> {
  try {
    const [users, torrents, windows] = await Promise.all([
      trackerUsers(db.sql),
      trackerTorrents(db.sql),
      factorWindows(db.sql),
    ]);
    worker.send({ kind: "snapshot", users, torrents, windows });
  } catch (error) {
    log.error("cannot read members and torrents for the tracker", { error: error as Error });
  }
}

/** Reads who completed which torrent and hands it to the tracker Worker (embedded database). */
async function sendCompletions(db: Database, worker: Channel<WebToTracker, TrackerToWeb>): Promise<void> {
  try {
    const completions = await trackerCompletions(db.sql);
    worker.send({ kind: "completions", completions }, [completions.buffer as ArrayBuffer]);
  } catch (error) {
    log.error("cannot read completions for the tracker", { error: error as Error });
  }
}
