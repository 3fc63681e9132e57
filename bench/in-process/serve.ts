// The tracker's HTTP app on the main thread, without the Worker, the web side or the database
// writes (not a test): for CPU profiles of the announce path, which `--cpu-prof` cannot take
// inside a Worker. Loads members and torrents from the benchmark database, serves on a port.
// Usage: bun --cpu-prof-md bench/in-process/serve.ts [port] [--post]   (then drive it with wrk and
// bench/tracker.lua; stop it with SIGTERM).
import postgres from "postgres";
import { trackerTorrents } from "../../src/db/queries/torrents.ts";
import { trackerUsers } from "../../src/db/queries/users.ts";
import { createTrackerApp } from "../../src/tracker/app.ts";
import { Tracker } from "../../src/tracker/tracker.ts";
import { BENCH_POLICY } from "./policy.ts";

const port = Number(process.argv[2] ?? 17_150);
const sql = postgres(process.env.BENCH_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/fw_bench", {
  max: 1,
}) as never;
const tracker = new Tracker(BENCH_POLICY);
tracker.load(await trackerUsers(sql), await trackerTorrents(sql));
await (sql as { end(): Promise<void> }).end();
const app = createTrackerApp(tracker, {
  pathDepth: 0,
  trustedProxies: [],
  now: () => Math.floor(Date.now() / 1000),
});
// Credit piles up without a web side to take it: drop it every second (or, in a Worker started
// with --post, post it to the parent as the real tracker does, to measure what that costs).
const post = process.argv.includes("--post") && !Bun.isMainThread;
setInterval(() => {
  const batch = tracker.takeDeltas();
  if (post && batch) postMessage({ kind: "stats", source: "ab", seq: batch.seq, deltas: batch.deltas });
}, 1000);
setInterval(() => {
  const counts = tracker.takeCounts();
  if (post && counts.length) postMessage({ kind: "counts", counts });
}, 250);
app.listen({ port, hostname: "127.0.0.1" });
console.error(`serving on ${port}`);
process.on("SIGTERM", () => process.exit(0));
