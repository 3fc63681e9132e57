// UDP tracker benchmark: Fairywren's UDP tracker (BEP 15, passkey in BEP 41 URL data) against
// opentracker's UDP port (Debian, whitelist mode), each pinned to one core with the load generator
// (bench/udp-load.c, compiled by bench/tracker.sh) on another. Run it through
// `npm run bench:tracker -- udp` (or `bash bench/tracker.sh udp`).
//
// The population is the HTTP benchmark's (bench/tracker.ts: members, torrents, Zipf popularity; the
// first of BENCH_PEERS, or BENCH_UDP_PEERS). For each server: start it fresh, announce every peer
// once, then run the generator for BENCH_DURATION seconds (95% re-announces with numwant 50, 5%
// scrapes) reading the server's CPU time around the run. Prints requests per second of the server's
// CPU for both, and Fairywren's as a share of opentracker's.

import { writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import {
  buildPopulation,
  cleanup,
  cpuSeconds,
  log,
  prepareDatabase,
  type Running,
  SETTINGS,
  serverDefs,
  startServer,
  stopServer,
  writeDataFiles,
} from "./tracker.ts";

const ROOT = resolve(import.meta.dir, "..");
const DATA = join(ROOT, "bench", "results", "data");
/** Written by bench/tracker.sh from bench/udp-load.c. */
const GENERATOR = process.env.BENCH_UDP_LOAD ?? join(ROOT, "bench", ".deps", "udp-load");
const PEERS = Number(process.env.BENCH_UDP_PEERS ?? SETTINGS.populations[0] ?? 100_000);

interface UdpResult {
  server: string;
  requests: number;
  seconds: number;
  errors: number;
  lost: number;
  cpuSeconds: number;
  requestsPerSecond: number;
  requestsPerCpuSecond: number;
}

/** Runs the generator against `port`; `warmup` announces every peer once instead. */
async function generate(
  port: number,
  style: "passkey" | "plain",
  seconds: number,
  run: number,
  warmup = false,
): Promise<{ requests: number; duration_us: number; errors: number; lost: number }> {
  const args = [
    "taskset",
    "-c",
    SETTINGS.clientCore,
    GENERATOR,
    DATA,
    "127.0.0.1",
    String(port),
    String(seconds),
    String(PEERS),
    style,
    String(run * 1.5e9),
    String(12345 + run * 7919),
    ...(warmup ? ["warmup"] : []),
  ];
  const proc = Bun.spawn(args, { stdout: "pipe", stderr: "pipe" });
  const [out, err] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  await proc.exited;
  const line = out.split("\n").find((l) => l.startsWith("BENCH_JSON "));
  if (!line) throw new Error(`the UDP generator gave no result: ${out}\n${err}`);
  if (err.trim()) log(`  generator: ${err.trim().split("\n")[0]}`);
  return JSON.parse(line.slice("BENCH_JSON ".length));
}

async function measure(server: Running, port: number, style: "passkey" | "plain"): Promise<UdpResult> {
  log(`  ${server.def.name}: announcing ${PEERS} peers once`);
  const warm = await generate(port, style, 0, 1, true);
  if (warm.errors > 0) log(`  ${server.def.name}: ${warm.errors} warm-up announces refused`);
  const before = cpuSeconds(server.pid);
  const r = await generate(port, style, SETTINGS.duration, 2);
  const cpu = cpuSeconds(server.pid) - before;
  const seconds = r.duration_us / 1e6;
  return {
    server: server.def.name,
    requests: r.requests,
    seconds,
    errors: r.errors,
    lost: r.lost,
    cpuSeconds: cpu,
    requestsPerSecond: r.requests / seconds,
    requestsPerCpuSecond: r.requests / cpu,
  };
}

async function main(): Promise<void> {
  log(`UDP benchmark: ${PEERS} peers, ${SETTINGS.duration} s per run`);
  const { hashes, passkeys } = await prepareDatabase();
  writeDataFiles(buildPopulation(hashes, passkeys, PEERS));
  const defs = serverDefs(["fairywren", "opentracker"]);
  const udpPorts = { fairywren: SETTINGS.basePort + 20, opentracker: SETTINGS.basePort + 21 };
  const results: UdpResult[] = [];
  for (const def of defs) {
    const udpPort = udpPorts[def.name as keyof typeof udpPorts];
    if (def.name === "fairywren") {
      // Every request comes from 127.0.0.1: the per-address limit would drop nearly all of them.
      def.env = { ...def.env, FAIRYWREN_UDP_PORT: String(udpPort), FAIRYWREN_UDP_RATE: "0" };
    } else {
      // opentracker answers UDP beside TCP (the TCP port tells the orchestrator it is up).
      writeFileSync(
        join(DATA, "opentracker.conf"),
        `listen.tcp 127.0.0.1:${def.port}\nlisten.udp 127.0.0.1:${udpPort}\naccess.whitelist ${join(DATA, "whitelist.txt")}\n`,
      );
    }
    const server = await startServer(def, "udp");
    try {
      results.push(await measure(server, udpPort, def.style));
    } finally {
      await stopServer(server);
    }
  }
  const lines = [
    "",
    "| server | requests/s | server CPU s | requests per CPU second | refused | lost |",
    "|---|---|---|---|---|---|",
  ];
  for (const r of results)
    lines.push(
      `| ${r.server} | ${Math.round(r.requestsPerSecond)} | ${r.cpuSeconds.toFixed(2)} | ${Math.round(r.requestsPerCpuSecond)} | ${r.errors} | ${r.lost} |`,
    );
  const fw = results.find((r) => r.server === "fairywren");
  const ot = results.find((r) => r.server === "opentracker");
  if (fw && ot)
    lines.push(
      "",
      `Fairywren's UDP tracker answers ${(fw.requestsPerCpuSecond / ot.requestsPerCpuSecond).toFixed(2)}× ` +
        "opentracker's requests per second of CPU (passkey, accounting and URL data included).",
    );
  console.log(lines.join("\n"));
}

if (import.meta.main) {
  process.on("SIGINT", () => {
    void cleanup().finally(() => process.exit(130));
  });
  try {
    await main();
  } catch (error) {
    console.error(error);
    await cleanup();
    process.exit(1);
  }
}
