import type { Config } from "./config.ts";
import { type Database, openDatabase } from "./db/client.ts";
import { migrate } from "./db/migrate.ts";
import { createInvite } from "./db/queries/invites.ts";
import { trackerTorrents } from "./db/queries/torrents.ts";
import { countUsers, trackerUsers } from "./db/queries/users.ts";
import { configureLog, log } from "./log.ts";
import { Metrics, MetricsListenError, startMetricsServer } from "./metrics-server.ts";
import { type Channel, type TrackerToWeb, type WebToTracker, webEnd } from "./shared/channel.ts";
import { listenProblem } from "./shared/listen.ts";
import { resolvePepper } from "./shared/secrets.ts";
import { createWebApp, webFetch } from "./web/app.tsx";
import { DEFAULT_SITE_URL } from "./web/links.ts";
import { LiveCounts, StatsWriter } from "./web/live.ts";
import { Sampler } from "./web/plots/sampler.ts";
import { type TrackerSync, trackerSync } from "./web/tracker-sync.ts";

/** A running Fairywren: both ports, the channel, and how to stop it cleanly. */
export interface Running {
  readonly webPort: number;
  readonly trackerPort: number;
  readonly db: Database;
  readonly channel: Channel<WebToTracker, TrackerToWeb>;
  readonly counts: LiveCounts;
  readonly stats: StatsWriter;
  readonly sync: TrackerSync;
  readonly metrics: Metrics;
  /** Port of /metrics, /healthz and /readyz; 0 when they are off. */
  readonly metricsPort: number;
  stop(): Promise<void>;
}

/** A start-up failure with a one-line message for the operator. */
export class StartupError extends Error {}

const TRACKER_START_TIMEOUT_MS = 15_000;

function startTracker(
  config: Config,
  onMessage: (message: TrackerToWeb, channel: Channel<WebToTracker, TrackerToWeb>) => void,
): Promise<{ worker: Worker; channel: Channel<WebToTracker, TrackerToWeb>; port: number }> {
  // The compiler embeds this entry point because the build names it (scripts/build.ts).
  const worker = new Worker(new URL("./tracker/worker.ts", import.meta.url).href);
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

/** Opens and migrates the database, starts the tracker Worker and the web site. */
export async function serve(config: Config): Promise<Running> {
  configureLog(config.logLevel, "web");
  const db = await openDatabase(config.webapi.postgresql, config.dataDir);
  let tracker: Awaited<ReturnType<typeof startTracker>> | null = null;
  try {
    await migrate(db.sql);
    const counts = new LiveCounts();
    const stats = new StatsWriter(db.sql, counts, config.webapi.flushIntervalMs);
    const metrics = new Metrics(stats);
    tracker = await startTracker(config, (message, channel) => {
      switch (message.kind) {
        case "counts":
          counts.apply(message.counts);
          break;
        case "stats":
          stats.add(message.source, message.seq, message.deltas);
          break;
        case "metrics":
          metrics.fromTracker(message.metrics);
          break;
        case "snapshot-request":
          void Promise.all([trackerUsers(db.sql), trackerTorrents(db.sql)]).then(
            ([users, torrents]) => channel.send({ kind: "snapshot", users, torrents }),
            (error) => log.error("cannot read members and torrents for the tracker", { error }),
          );
          break;
      }
    });
    stats.start();
    const sync = trackerSync(db.sql, tracker.channel);
    const pepper = resolvePepper(config.salt, config.dataDir);
    const app = createWebApp({ config, sql: db.sql, pepper, counts, sync, ready: () => true });
    const front = webFetch(app, config.pathDepth);
    let web: ReturnType<typeof Bun.serve>;
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
        // Uploads are checked against webapi.maxTorrentBytes; this only bounds what is read at all.
        maxRequestBodySize: config.webapi.maxTorrentBytes + 1024 * 1024,
      });
    } catch (error) {
      throw new StartupError(listenProblem("web site", config.webapi, error));
    }
    log.info("web site listening", { host: config.webapi.host, port: web.port, embedded: db.embedded });
    let admin: ReturnType<typeof startMetricsServer>;
    try {
      admin = startMetricsServer(config, metrics, db.sql);
    } catch (error) {
      await web.stop(true);
      throw error instanceof MetricsListenError ? new StartupError(error.message) : error;
    }
    await offerFirstAccount(config, db, web.port ?? config.webapi.port);
    const sampler = new Sampler(db.sql, counts).start();
    const { worker, channel } = tracker;
    let stopping: Promise<void> | null = null;
    return {
      webPort: web.port ?? 0,
      trackerPort: tracker.port,
      db,
      channel,
      counts,
      stats,
      sync,
      metrics,
      metricsPort: admin?.port ?? 0,
      stop() {
        stopping ??= (async () => {
          await web.stop(true);
          await admin?.stop(true);
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, 5000);
            channel.onMessage((message) => {
              if (message.kind === "stopped") {
                clearTimeout(timer);
                resolve();
              }
            });
            channel.send({ kind: "shutdown" });
          });
          worker.terminate();
          await sampler.stop();
          await stats.stop();
          await db.close();
        })();
        return stopping;
      },
    };
  } catch (error) {
    tracker?.worker.terminate();
    await db.close().catch(() => {});
    throw error;
  }
}
