// What one process runs, wired: the tracker's half of the bridge (src/bridge/tracker-side.ts, which
// starts the tracker Worker), the web site (src/web/), or both, on one database.
import { LiveCounts } from "./bridge/counts.ts";
import { StatsWriter } from "./bridge/credit.ts";
import { peerSource } from "./bridge/peers.ts";
import { pgWebEnd } from "./bridge/pg.ts";
import { SuspiciousWriter } from "./bridge/suspicious.ts";
import { type TrackerSync, trackerSync } from "./bridge/sync.ts";
import { type StopOutcome, startTrackerSide, type TrackerSide } from "./bridge/tracker-side.ts";
import type { TrackerLink } from "./bridge/vocabulary.ts";
import type { Config } from "./config.ts";
import { connect, type Database, openDatabase } from "./db/client.ts";
import { migrate } from "./db/migrate.ts";
import { createInvite } from "./db/queries/invites.ts";
import { countUsers } from "./db/queries/users.ts";
import { configureLog, log } from "./log.ts";
import { Metrics, MetricsListenError, startMetricsServer } from "./metrics-server.ts";
import { listenProblem } from "./shared/listen.ts";
import { resolvePepper } from "./shared/secrets.ts";
import { StartupError } from "./shared/startup.ts";
import { createWebApp, frontOptions, webFetch } from "./web/app.tsx";
import { startEconomyJobs } from "./web/economy/service.ts";
import { DEFAULT_SITE_URL, defaultLinksWarning } from "./web/links.ts";
import { Sampler } from "./web/plots/sampler.ts";

export type { StopOutcome };
export { StartupError };

/** A running Fairywren: its ports, the link to the tracker, and how to stop it cleanly. */
export interface Running {
  /** Port of the web site; 0 in a tracker-only process. */
  readonly webPort: number;
  /** Port of the tracker; 0 in a web-only process. */
  readonly trackerPort: number;
  /** Port of the UDP tracker; null when it is off or in a web-only process. */
  readonly udpPort: number | null;
  readonly db: Database;
  /** The web side's end of the bridge. */
  readonly channel: TrackerLink;
  readonly counts: LiveCounts;
  readonly stats: StatsWriter;
  readonly sync: TrackerSync;
  readonly metrics: Metrics;
  /** Port of /metrics, /healthz and /readyz; 0 when they are off. */
  readonly metricsPort: number;
  /** Stops everything; credit the database cannot take is saved to the spill file. */
  stop(): Promise<StopOutcome>;
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
  let tracker: TrackerSide | null = null;
  let webEnd: Awaited<ReturnType<typeof pgWebEnd>> | null = null;
  try {
    await db.longWork(migrate);
    const counts = new LiveCounts();
    // Credit and suspicious transfers are written by the process that runs the tracker; a web
    // process keeps an idle writer for its metrics.
    const stats = new StatsWriter(db.sql, config.webapi.flushIntervalMs);
    const metrics = new Metrics(stats);
    let channel: TrackerLink;
    if (role === "web") {
      webEnd = await pgWebEnd(db.sql, () => connect(config.webapi.postgresql!, 1), counts);
      channel = webEnd;
    } else {
      tracker = await startTrackerSide({
        config,
        db,
        alone: role === "tracker",
        counts,
        stats,
        suspicious: new SuspiciousWriter(db.sql, config.webapi.flushIntervalMs),
        onMetrics: (figures) => metrics.fromTracker(figures),
      });
      channel = tracker.link;
    }
    const sync = trackerSync(channel);
    // Announce URLs name the tracker's port (src/web/links.ts): the one it listens on, which the
    // setting does not say when it is 0 (another process's tracker listens on the configured one).
    const webConfig: Config = Object.freeze({
      ...config,
      tracker: Object.freeze({
        ...config.tracker,
        port: tracker?.port ?? config.tracker.port,
        udpPort: tracker?.udpPort ?? config.tracker.udpPort,
      }),
    });
    let web: ReturnType<typeof Bun.serve> | null = null;
    // Seeding bonus and download pauses, hourly, by every web process: an hour is credited once
    // whichever runs first, and a pause is set once whichever checks first.
    let bonus: ReturnType<typeof startEconomyJobs> | null = null;
    if (role !== "tracker") {
      const pepper = resolvePepper(config.salt, config.dataDir);
      const app = createWebApp({
        config: webConfig,
        sql: db.sql,
        pepper,
        counts,
        sync,
        peers: peerSource(db.sql, channel),
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
      const end = webEnd ?? tracker?.pg ?? null;
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
    const trackerSide = tracker;
    const end = webEnd;
    let stopping: Promise<StopOutcome> | null = null;
    const sampler = role === "tracker" ? null : new Sampler(db.sql, counts).start();
    return {
      webPort: web?.port ?? 0,
      trackerPort: trackerSide?.port ?? 0,
      udpPort: trackerSide?.udpPort ?? null,
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
          const outcome = (await trackerSide?.stop()) ?? { creditSaved: 0, creditLost: 0, spillFile: null };
          await end?.close();
          await sampler?.stop();
          await db.close().catch((error) => log.warn("database did not close cleanly", { error }));
          return outcome;
        })();
        return stopping;
      },
    };
  } catch (error) {
    await tracker?.stop().catch(() => {});
    await webEnd?.close().catch(() => {});
    await db.close().catch(() => {});
    throw error;
  }
}
