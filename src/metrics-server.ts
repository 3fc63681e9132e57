import type { StatsWriter } from "./bridge/credit.ts";
import type { Config } from "./config.ts";
import type { Sql } from "./db/client.ts";
import { databaseErrors } from "./db/client.ts";
import { log } from "./log.ts";
import type { TrackerMetrics } from "./shared/channel.ts";
import { listenProblem } from "./shared/listen.ts";
import { Counter, Gauge, Histogram, LATENCY_BUCKETS, Registry } from "./shared/metrics.ts";

/** Everything /metrics reports, fed by the web side and by the tracker's periodic figures. */
export class Metrics {
  readonly registry = new Registry();
  private readonly trackerRequests = this.registry.add(
    new Counter("fairywren_tracker_requests_total", "Announces and scrapes by outcome."),
  );
  private readonly trackerLatency = this.registry.add(
    new Histogram(
      "fairywren_tracker_request_seconds",
      "Time to answer an announce or scrape.",
      LATENCY_BUCKETS,
    ),
  );
  readonly webLatency = this.registry.add(
    new Histogram("fairywren_web_request_seconds", "Time to answer a web or API request.", LATENCY_BUCKETS),
  );
  /** The tracker's latest figures, and when they came. */
  tracker: TrackerMetrics | null = null;
  trackerSeenAt = 0;

  constructor(stats: StatsWriter) {
    const gauge = (name: string, help: string, read: () => number) =>
      this.registry.add(new Gauge(name, help)).set({}, read);
    gauge("fairywren_peers", "Peers in all swarms.", () => this.tracker?.peers ?? 0);
    gauge("fairywren_torrents", "Torrents registered on the tracker.", () => this.tracker?.torrents ?? 0);
    gauge("fairywren_members", "Members known to the tracker.", () => this.tracker?.users ?? 0);
    gauge("fairywren_swarm_bytes", "Bytes held by the swarm store.", () => this.tracker?.swarmBytes ?? 0);
    gauge(
      "fairywren_peers_reaped",
      "Peers dropped for silence since start.",
      () => this.tracker?.reaped ?? 0,
    );
    gauge(
      "fairywren_stats_queue_batches",
      "Stat batches waiting to be written.",
      () => stats.pending.batches,
    );
    gauge("fairywren_stats_queue_deltas", "Stat rows waiting to be written.", () => stats.pending.deltas);
    gauge("fairywren_stats_flush_lag_seconds", "Seconds since stats were last written.", () =>
      stats.pending.batches === 0 ? 0 : (Date.now() - stats.lastSuccess) / 1000,
    );
    this.registry
      .add(
        new Counter(
          "fairywren_stats_dead_letters_total",
          "Credit rows not credited and kept in stat_dead_letters (refused values, a total at the ceiling, or refused by the database).",
        ),
      )
      .read({}, () => stats.deadLetters);
    // Byte conservation: upload credited (before factors) against the download that backs it.
    for (const [name, help, field] of [
      [
        "fairywren_conservation_credited_upload_bytes_total",
        "Upload credited against other members' reported download (bytes, before factors).",
        "creditedUp",
      ],
      [
        "fairywren_conservation_reported_download_bytes_total",
        "Download reported (or implied by left) that backs other members' upload (bytes).",
        "reportedDown",
      ],
      [
        "fairywren_conservation_expired_upload_bytes_total",
        "Upload claimed that no other member's download backed before it expired (bytes, recorded).",
        "expiredUp",
      ],
      [
        "fairywren_conservation_over_size_download_bytes_total",
        "Download reported beyond the size multiple, which backs nothing (bytes, recorded).",
        "overSizeDown",
      ],
    ] as const)
      this.registry.add(new Counter(name, help)).read({}, () => this.tracker?.conservation?.[field] ?? 0);
    gauge(
      "fairywren_database_errors",
      "Database errors since start (stat writes and requests).",
      () => stats.failures + databaseErrors.count,
    );
    gauge(
      "process_resident_memory_bytes",
      "Resident memory of the process.",
      () => process.memoryUsage().rss,
    );
  }

  /** Takes the tracker's periodic figures. */
  fromTracker(metrics: TrackerMetrics): void {
    this.tracker = metrics;
    this.trackerSeenAt = Date.now();
    for (const [kind, outcome, count] of metrics.requests)
      this.trackerRequests.setTotal({ kind, outcome }, count);
    this.trackerLatency.restore(metrics.latency);
  }
}

/** What /readyz checks besides the database. */
export interface ReadinessChecks {
  /** This process runs the tracker, which must have reported within 10 s. */
  readonly tracker: boolean;
  /** Any other problem that makes the process unready (e.g. not hearing the tracker), or null. */
  readonly other?: () => string | null;
}

/** Serves /metrics, /healthz and /readyz on the admin address; returns the server, or null when off. */
export function startMetricsServer(
  config: Config,
  metrics: Metrics,
  sql: Sql,
  checks: ReadinessChecks = { tracker: true },
) {
  if (!config.metrics.enabled) return null;
  const readiness = async (): Promise<string | null> => {
    if (checks.tracker && Date.now() - metrics.trackerSeenAt > 10_000)
      return "the tracker has not reported for 10 s";
    const other = checks.other?.();
    if (other) return other;
    try {
      await Promise.race([
        sql`select 1`,
        new Promise((_, reject) => setTimeout(() => reject(new Error("timeout")), 2000)),
      ]);
    } catch {
      return "the database does not answer";
    }
    return null;
  };
  try {
    const server = Bun.serve({
      hostname: config.metrics.host,
      port: config.metrics.port,
      async fetch(request) {
        const path = new URL(request.url).pathname;
        if (path === "/metrics")
          return new Response(metrics.registry.render(), {
            headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" },
          });
        if (path === "/healthz") return Response.json({ status: "ok" });
        if (path === "/readyz") {
          const problem = await readiness();
          return Response.json(problem ? { status: "unavailable", problem } : { status: "ready" }, {
            status: problem ? 503 : 200,
          });
        }
        return new Response("not found", { status: 404 });
      },
    });
    log.info("metrics listening", { host: config.metrics.host, port: server.port });
    return server;
  } catch (error) {
    throw new MetricsListenError(listenProblem("metrics endpoint", config.metrics, error));
  }
}

/** The metrics address could not be used. */
export class MetricsListenError extends Error {}
