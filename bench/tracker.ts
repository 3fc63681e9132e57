// Tracker benchmark: Fairywren's tracker against opentracker, bittorrent-tracker and a bare Bun.serve,
// each pinned to one core with the load generator (wrk + bench/tracker.lua) on another.
// Run it through `npm run bench:tracker` (bench/tracker.sh installs wrk, opentracker and
// bittorrent-tracker first). Settings come from the environment, see SETTINGS below.
//
// For each server and population (100k, then 1M peers over 100k torrents, Zipf(0.9) popularity):
// start it fresh, read its RSS, announce every peer once (event=started), count the peers it holds
// with scrapes, read its RSS again, then run wrk twice (one request per connection, then keep-alive),
// reading the server's CPU time (utime + stime of the whole process, all threads) around each run.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import postgres from "postgres";

const ROOT = resolve(import.meta.dir, "..");
const env = process.env;
const numberSetting = (name: string, fallback: number) => (env[name] ? Number(env[name]) : fallback);

export const SETTINGS = {
  /** Seconds per measured wrk run. */
  duration: numberSetting("BENCH_DURATION", 12),
  /** wrk connections (one thread; every connection has one request in flight). */
  connections: numberSetting("BENCH_CONNECTIONS", 32),
  members: numberSetting("BENCH_MEMBERS", 10_000),
  torrents: numberSetting("BENCH_TORRENTS", 100_000),
  populations: (env.BENCH_PEERS ?? "100000,1000000").split(",").map(Number),
  /** bittorrent-tracker's populations: at 1M its warm-up alone takes ~9 minutes (~1.9k announces/s). */
  bittorrentTrackerPopulations: (env.BENCH_BT_PEERS ?? "100000").split(",").map(Number),
  servers: (env.BENCH_SERVERS ?? "fairywren,opentracker,bittorrent-tracker,bun-bare").split(","),
  modes: (env.BENCH_MODES ?? "close,keepalive").split(",") as Mode[],
  serverCore: env.BENCH_SERVER_CORE ?? "0",
  clientCore: env.BENCH_CLIENT_CORE ?? "1",
  /** Dropped and created afresh: its name must contain "bench". */
  databaseUrl: env.BENCH_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/fw_bench",
  zipfExponent: 0.9,
  /** Concurrent requests of the warm-up client. */
  warmupConcurrency: 64,
  basePort: numberSetting("BENCH_BASE_PORT", 17_100),
  /** Connections of the "light" runs, and the servers that get one. */
  lightConnections: numberSetting("BENCH_LIGHT_CONNECTIONS", 1),
  lightServers: (env.BENCH_LIGHT_SERVERS ?? "fairywren,opentracker,bun-bare").split(","),
  /** Tries of a run while other processes keep more than a quarter of either core busy. */
  attempts: numberSetting("BENCH_ATTEMPTS", 3),
  /** Longest wait for the cores to be quiet before a run, in seconds. */
  quietWait: numberSetting("BENCH_QUIET_WAIT", 30),
};

/** close: one request per connection; keepalive: connections reused; light: keep-alive (or close,
 * for a server that closes every connection) with few connections, for latency below saturation. */
export type Mode = "close" | "keepalive" | "light";
const BUN = process.execPath;
const RESULTS = join(ROOT, "bench", "results");
const DATA = join(RESULTS, "data");
const LOGS = join(RESULTS, "logs");
const CLK_TCK = Number(Bun.spawnSync(["getconf", "CLK_TCK"]).stdout.toString().trim()) || 100;

// ---------------------------------------------------------------------------------------------
// Population: member passkeys, torrent hashes, and which torrent and port each simulated peer uses.

export interface Population {
  hashes: string[]; // hex, index = torrent number - 1
  passkeys: string[];
  torrentOf: Int32Array; // 0-based torrent of peer i
  port: Int32Array;
}

export function log(message: string): void {
  const time = new Date().toISOString().slice(11, 19);
  console.error(`[${time}] ${message}`);
}

export async function prepareDatabase(): Promise<{ hashes: string[]; passkeys: string[] }> {
  const url = new URL(SETTINGS.databaseUrl);
  const name = decodeURIComponent(url.pathname.slice(1));
  if (!/bench/.test(name) || !/^[A-Za-z0-9_]+$/.test(name))
    throw new Error(`BENCH_DATABASE_URL must name a database containing "bench" (it is dropped): ${name}`);
  const adminUrl = new URL(url);
  adminUrl.pathname = "/postgres";
  const admin = postgres(adminUrl.href, { max: 1, onnotice: () => {} });
  await admin.unsafe(`drop database if exists ${name} with (force)`);
  await admin.unsafe(`create database ${name}`);
  await admin.end();
  const migrate = Bun.spawnSync([BUN, "src/main.ts", "migrate"], {
    cwd: ROOT,
    env: { ...env, DATABASE_URL: url.href, FAIRYWREN_DATA_DIR: join(DATA, "fairywren") },
  });
  if (migrate.exitCode !== 0) throw new Error(`migrate failed: ${migrate.stderr.toString()}`);
  const sql = postgres(url.href, { max: 1, onnotice: () => {} });
  await sql`
    insert into users (name, password_hash, passkey)
    select 'bench' || g, 'x', md5('pk' || g) from generate_series(1, ${SETTINGS.members}::int) g`;
  await sql`
    insert into torrents (info_hash, title, size, files, metainfo)
    select decode(md5('ih' || g) || substr(md5('ih2' || g), 1, 8), 'hex'), 'Bench torrent ' || g,
      1048576, '[]'::jsonb, '\\x00'::bytea
    from generate_series(1, ${SETTINGS.torrents}::int) g`;
  const hashes = (await sql`select encode(info_hash, 'hex') as h from torrents order by id`).map(
    (r) => r.h as string,
  );
  const passkeys = (await sql`select passkey from users order by id`).map((r) => r.passkey as string);
  await sql.end();
  return { hashes, passkeys };
}

function mix32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  return (x ^ (x >>> 16)) >>> 0;
}

/** Peer i's torrent is drawn from Zipf(s) by a hash of i, so a smaller population is a prefix of a
 * larger one; its port is its rank in that torrent (unique per torrent: opentracker and
 * bittorrent-tracker tell peers apart by address and port, and every peer here is 127.0.0.1). */
export function buildPopulation(hashes: string[], passkeys: string[], peers: number): Population {
  const torrents = hashes.length;
  const cdf = new Float64Array(torrents);
  let sum = 0;
  for (let r = 1; r <= torrents; r++) {
    sum += r ** -SETTINGS.zipfExponent;
    cdf[r - 1] = sum;
  }
  const torrentOf = new Int32Array(peers);
  const port = new Int32Array(peers);
  const rank = new Int32Array(torrents);
  for (let i = 0; i < peers; i++) {
    const u = (mix32(i + 0x51ed27) / 2 ** 32) * sum;
    let lo = 0;
    let hi = torrents - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cdf[mid]! < u) lo = mid + 1;
      else hi = mid;
    }
    torrentOf[i] = lo;
    port[i] = ++rank[lo]!;
    if (port[i]! > 65535) throw new Error("a torrent has more than 65535 peers: lower BENCH_PEERS");
  }
  return { hashes, passkeys, torrentOf, port };
}

export function writeDataFiles(p: Population): void {
  mkdirSync(DATA, { recursive: true });
  writeFileSync(join(DATA, "hashes.txt"), `${p.hashes.join("\n")}\n`);
  writeFileSync(join(DATA, "passkeys.txt"), `${p.passkeys.join("\n")}\n`);
  const lines: string[] = new Array(p.torrentOf.length);
  for (let i = 0; i < lines.length; i++) lines[i] = `${p.torrentOf[i]! + 1} ${p.port[i]}`;
  writeFileSync(join(DATA, "peers.txt"), `${lines.join("\n")}\n`);
}

const UNRESERVED = /[A-Za-z0-9\-._~]/;
function encodeHex(hex: string): string {
  let out = "";
  for (let k = 0; k < hex.length; k += 2) {
    const ch = String.fromCharCode(Number.parseInt(hex.slice(k, k + 2), 16));
    out += UNRESERVED.test(ch) ? ch : `%${hex.slice(k, k + 2).toUpperCase()}`;
  }
  return out;
}

/** The same peer_id as bench/tracker.lua's peerId(i), percent-encoded. */
function peerIdOf(i: number): string {
  const b = (n: number) => `%${n.toString(16).toUpperCase().padStart(2, "0")}`;
  const tail = (Math.imul(i, 0x9e3779b1) >>> 0).toString(16).padStart(8, "0");
  return `-BM0001-${b((i >>> 24) & 255)}${b((i >>> 16) & 255)}${b((i >>> 8) & 255)}${b(i & 255)}${tail}`;
}

// ---------------------------------------------------------------------------------------------
// Servers

export interface ServerDef {
  name: string;
  label: string;
  port: number;
  style: "passkey" | "plain";
  command: string[];
  env?: Record<string, string>;
  /** A tracker (warm up, count peers); false for the bare floor. */
  tracker: boolean;
  /** The server closes every connection after its reply. */
  closesConnections?: boolean;
}

export function serverDefs(names: readonly string[] = SETTINGS.servers): ServerDef[] {
  const port = SETTINGS.basePort;
  const otConf = join(DATA, "opentracker.conf");
  writeFileSync(join(DATA, "whitelist.txt"), readFileSync(join(DATA, "hashes.txt")));
  writeFileSync(
    otConf,
    `listen.tcp 127.0.0.1:${port + 1}\naccess.whitelist ${join(DATA, "whitelist.txt")}\n`,
  );
  const all: ServerDef[] = [
    {
      name: "fairywren",
      label: "Fairywren tracker (passkeys + accounting)",
      port,
      style: "passkey",
      command: [BUN, "src/main.ts"],
      env: {
        DATABASE_URL: SETTINGS.databaseUrl,
        FAIRYWREN_DATA_DIR: join(DATA, "fairywren"),
        FAIRYWREN_WEB_HOST: "127.0.0.1",
        FAIRYWREN_WEB_PORT: String(port + 10),
        FAIRYWREN_TRACKER_HOST: "127.0.0.1",
        FAIRYWREN_TRACKER_PORT: String(port),
        FAIRYWREN_METRICS_PORT: String(port + 11),
        FAIRYWREN_LOG_LEVEL: "warn",
        FAIRYWREN_MIN_ANNOUNCE_INTERVAL: "0",
        FAIRYWREN_MAX_PEERS_PER_USER: "100",
        // The simulated seeders report upload whether or not their swarm has a leecher (many
        // small swarms hold a seeder alone), which real seeders do not: without this, every such
        // announce would be recorded as a suspicious transfer.
        FAIRYWREN_UPLOAD_NEEDS_LEECHER: "false",
      },
      tracker: true,
    },
    {
      name: "opentracker",
      label: "opentracker (Debian, whitelist)",
      port: port + 1,
      style: "plain",
      command: ["opentracker", "-f", otConf],
      tracker: true,
      closesConnections: true,
    },
    {
      name: "bittorrent-tracker",
      label: "bittorrent-tracker (npm, node)",
      port: port + 2,
      style: "plain",
      command: ["node", "bench/servers/bittorrent-tracker.mjs", String(port + 2)],
      tracker: true,
    },
    {
      name: "bun-bare",
      label: "bare Bun.serve, fixed body",
      port: port + 3,
      style: "plain",
      command: [BUN, "bench/servers/bare.ts", String(port + 3)],
      tracker: false,
    },
  ];
  return all.filter((s) => names.includes(s.name));
}

export interface Running {
  def: ServerDef;
  proc: Bun.Subprocess;
  pid: number;
}

const running = new Set<Running>();

/** Starts a server pinned to the server core (or, with `allCores`, free to use every core). */
export async function startServer(
  def: ServerDef,
  tag: string,
  options: { allCores?: boolean } = {},
): Promise<Running> {
  mkdirSync(LOGS, { recursive: true });
  const logFile = join(LOGS, `${def.name}-${tag}.log`);
  const pin = options.allCores ? [] : ["taskset", "-c", SETTINGS.serverCore];
  const proc = Bun.spawn([...pin, ...def.command], {
    cwd: ROOT,
    env: { ...env, ...def.env },
    stdout: Bun.file(logFile),
    stderr: Bun.file(`${logFile}.err`),
  });
  const server = { def, proc, pid: proc.pid };
  running.add(server);
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) break;
    if (await portOpen(def.port)) return server;
    await Bun.sleep(200);
  }
  await stopServer(server);
  const err = await Bun.file(`${logFile}.err`)
    .text()
    .catch(() => "");
  throw new Error(`${def.name} did not start listening on ${def.port}: ${err.slice(-2000)}`);
}

async function portOpen(port: number): Promise<boolean> {
  try {
    const socket = await Bun.connect({ hostname: "127.0.0.1", port, socket: { data() {} } });
    socket.end();
    return true;
  } catch {
    return false;
  }
}

export async function stopServer(server: Running): Promise<void> {
  running.delete(server);
  if (server.proc.exitCode !== null) return;
  server.proc.kill("SIGTERM");
  const timeout = Bun.sleep(15_000).then(() => "timeout");
  if ((await Promise.race([server.proc.exited, timeout])) === "timeout") {
    server.proc.kill("SIGKILL");
    await server.proc.exited;
  }
}

/** CPU seconds of each thread of a process, summed by thread name. */
function threadCpuSeconds(pid: number): Record<string, number> {
  const out: Record<string, number> = {};
  try {
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      try {
        const stat = readFileSync(`/proc/${pid}/task/${task}/stat`, "utf8");
        const name = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
        const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
        out[name] = (out[name] ?? 0) + (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
      } catch {
        // the thread ended meanwhile
      }
    }
  } catch {
    // the process ended
  }
  return out;
}

export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // Fields 14 and 15 of proc(5) (utime, stime), counted from field 3: whole process, all threads.
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

/** Busy jiffies (everything but idle and iowait) of one CPU, from /proc/stat. */
function coreBusySeconds(core: string): number {
  const line = readFileSync("/proc/stat", "utf8")
    .split("\n")
    .find((l) => l.startsWith(`cpu${core} `));
  if (!line) return Number.NaN;
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal
  return (v[0]! + v[1]! + v[2]! + v[5]! + v[6]! + v[7]!) / CLK_TCK;
}

/** CPU seconds of the PostgreSQL backends serving the benchmark's database (Fairywren's accounting
 * writes land there), summed over the processes alive now. */
function databaseCpuSeconds(): number {
  const name = decodeURIComponent(new URL(SETTINGS.databaseUrl).pathname.slice(1));
  let total = 0;
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, "utf8");
      if (cmdline.startsWith("postgres: ") && cmdline.includes(` ${name} `))
        total += cpuSeconds(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return total;
}

function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const match = /VmRSS:\s+(\d+) kB/.exec(status);
  return match ? Number(match[1]) * 1024 : Number.NaN;
}

/** RSS once it has stopped moving (a runtime may still be collecting or returning memory). */
export async function settledRss(pid: number): Promise<number> {
  let last = rssBytes(pid);
  for (let i = 0; i < 10; i++) {
    await Bun.sleep(1000);
    const now = rssBytes(pid);
    if (Math.abs(now - last) < 1 << 20) return now;
    last = now;
  }
  return last;
}

// ---------------------------------------------------------------------------------------------
// Warm-up and peer count (HTTP client in this process, pinned with the load generator)

function trackerUrl(server: ServerDef, pop: Population, kind: "announce" | "scrape", member: number) {
  const prefix = server.style === "passkey" ? `/${pop.passkeys[member % pop.passkeys.length]}` : "";
  return `http://127.0.0.1:${server.port}${prefix}/${kind}?`;
}

const encodedHashes = new Map<Population, string[]>();
function encoded(pop: Population): string[] {
  let list = encodedHashes.get(pop);
  if (!list) {
    list = pop.hashes.map(encodeHex);
    encodedHashes.set(pop, list);
  }
  return list;
}

async function fetchRetry(url: string, init: RequestInit): Promise<Uint8Array> {
  for (let attempt = 0; ; attempt++) {
    try {
      const response = await fetch(url, init);
      const body = new Uint8Array(await response.arrayBuffer());
      if (response.status !== 200) throw new Error(`HTTP ${response.status}`);
      return body;
    } catch (error) {
      if (attempt === 4) throw error;
      await Bun.sleep(50 * (attempt + 1));
    }
  }
}

const FAILURE = new TextEncoder().encode("d14:failure");
function isFailure(body: Uint8Array): boolean {
  if (body.length < FAILURE.length) return true;
  for (let i = 0; i < FAILURE.length; i++) if (body[i] !== FAILURE[i]) return false;
  return true;
}

/** Announces peers [from, to) once each (event=started); returns requests per second. */
export async function warmUp(server: ServerDef, pop: Population, from: number, to: number): Promise<number> {
  const hashes = encoded(pop);
  const init: RequestInit = server.closesConnections ? { headers: { connection: "close" } } : {};
  let next = from;
  let failures = 0;
  let firstFailure = "";
  const started = performance.now();
  async function worker() {
    for (let i = next++; i < to; i = next++) {
      const seeder = i % 4 === 0;
      const url =
        trackerUrl(server, pop, "announce", i) +
        `info_hash=${hashes[pop.torrentOf[i]!]}&peer_id=${peerIdOf(i)}&port=${pop.port[i]}` +
        `&uploaded=0&downloaded=0&left=${seeder ? 0 : 734003200}&event=started&numwant=50&compact=1`;
      const body = await fetchRetry(url, init);
      if (isFailure(body)) {
        failures++;
        if (!firstFailure) firstFailure = new TextDecoder().decode(body);
      }
    }
  }
  await Promise.all(Array.from({ length: SETTINGS.warmupConcurrency }, worker));
  const seconds = (performance.now() - started) / 1000;
  if (failures) throw new Error(`${server.name}: ${failures} warm-up announces failed, e.g. ${firstFailure}`);
  return (to - from) / seconds;
}

/** Peers the tracker holds, summed over scrapes of every torrent (50 per request). */
export async function countPeers(server: ServerDef, pop: Population): Promise<number> {
  const hashes = encoded(pop);
  const init: RequestInit = server.closesConnections ? { headers: { connection: "close" } } : {};
  let total = 0;
  let next = 0;
  const batch = 50;
  async function worker() {
    for (let start = next; start < hashes.length; start = next) {
      next += batch;
      const query = hashes
        .slice(start, start + batch)
        .map((h) => `info_hash=${h}`)
        .join("&");
      const body = await fetchRetry(trackerUrl(server, pop, "scrape", start) + query, init);
      const text = new TextDecoder("latin1").decode(body);
      for (const m of text.matchAll(/(?:8:complete|10:incomplete)i(\d+)e/g)) total += Number(m[1]);
    }
  }
  await Promise.all(Array.from({ length: 16 }, worker));
  return total;
}

// ---------------------------------------------------------------------------------------------
// Measured runs

export interface RunResult {
  server: string;
  peers: number | null;
  mode: Mode;
  requestsPerSecond: number;
  requests: number;
  seconds: number;
  serverCpuSeconds: number;
  requestsPerCpuSecond: number;
  /** CPU of the database's backends during the run (Fairywren's accounting writes). */
  databaseCpuSeconds: number;
  connections: number;
  serverCpuShare: number;
  clientCpuShare: number;
  /** Share of the server's core busy with anything but the server (other processes, softirq). */
  serverCoreOther: number;
  /** Share of the client's core busy with anything but wrk. */
  clientCoreOther: number;
  attempts: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  socketErrors: number;
  /** Server CPU seconds by thread name (Worker, the main thread, JIT and GC helpers). */
  threads: Record<string, number>;
  note?: string;
}

let runCounter = 0;

/** The run least disturbed by other processes on the two cores, retried while they take > 25%. */
export async function measure(server: Running, peers: number, mode: Mode): Promise<RunResult> {
  let best: RunResult | null = null;
  for (let attempt = 1; attempt <= SETTINGS.attempts; attempt++) {
    await waitForQuiet(server.pid);
    const result = await measureOnce(server, peers, mode);
    const noise = (r: RunResult) => Math.max(r.serverCoreOther, r.clientCoreOther);
    if (!best || noise(result) < noise(best)) best = { ...result, attempts: attempt };
    if (noise(result) <= 0.25) break;
    log(
      `  disturbed (core ${SETTINGS.serverCore} ${fmt(result.serverCoreOther * 100, 0)}% / core ` +
        `${SETTINGS.clientCore} ${fmt(result.clientCoreOther * 100, 0)}% busy with others): again`,
    );
  }
  return best!;
}

/**
 * Waits (up to BENCH_QUIET_WAIT seconds) until other processes leave both cores mostly idle: this
 * machine may be shared, and a run next to a test suite measures the test suite.
 */
async function waitForQuiet(pid: number): Promise<void> {
  const deadline = Date.now() + SETTINGS.quietWait * 1000;
  let warned = false;
  for (;;) {
    const a0 = coreBusySeconds(SETTINGS.serverCore);
    const b0 = coreBusySeconds(SETTINGS.clientCore);
    const s0 = cpuSeconds(pid);
    await Bun.sleep(1000);
    const others =
      coreBusySeconds(SETTINGS.serverCore) -
      a0 +
      coreBusySeconds(SETTINGS.clientCore) -
      b0 -
      (cpuSeconds(pid) - s0);
    if (others < 0.1 || Date.now() > deadline) return;
    if (!warned) log(`  waiting for other processes to leave the cores (${fmt(others * 100, 0)}% busy)`);
    warned = true;
  }
}

async function measureOnce(server: Running, peers: number, mode: Mode): Promise<RunResult> {
  const def = server.def;
  const run = ++runCounter;
  const connections = mode === "light" ? SETTINGS.lightConnections : SETTINGS.connections;
  const args = [
    "taskset",
    "-c",
    SETTINGS.clientCore,
    "wrk",
    "-t1",
    `-c${connections}`,
    `-d${SETTINGS.duration}s`,
    "--latency",
    "-s",
    join(ROOT, "bench", "tracker.lua"),
  ];
  if (mode === "close" || (mode === "light" && def.closesConnections)) args.push("-H", "Connection: close");
  args.push(
    `http://127.0.0.1:${def.port}`,
    "--",
    `data=${DATA}`,
    `peers=${peers}`,
    `style=${def.style}`,
    // Counters only grow: each run starts above everything the previous runs sent (1 KiB a
    // request: well under 1.5 GB a run), and by little enough that the tracker's rate cap, which
    // allows 2.5 GB from one second to the next, credits the jump as it would an honest client's.
    `base=${run * 1.5e9}`,
    `seed=${12345 + run * 7919}`,
  );
  const cpuBefore = cpuSeconds(server.pid);
  const threadsBefore = threadCpuSeconds(server.pid);
  const dbBefore = databaseCpuSeconds();
  const core0Before = coreBusySeconds(SETTINGS.serverCore);
  const core1Before = coreBusySeconds(SETTINGS.clientCore);
  const wallStart = performance.now();
  const proc = Bun.spawn(args, { stdout: "pipe", stderr: "pipe" });
  const [out, err] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  await proc.exited;
  const cpuAfter = cpuSeconds(server.pid);
  const threadsAfter = threadCpuSeconds(server.pid);
  const threads: Record<string, number> = {};
  for (const [name, after] of Object.entries(threadsAfter)) {
    const used = after - (threadsBefore[name] ?? 0);
    if (used > 0) threads[name] = used;
  }
  const dbCpu = databaseCpuSeconds() - dbBefore;
  const core0 = coreBusySeconds(SETTINGS.serverCore) - core0Before;
  const core1 = coreBusySeconds(SETTINGS.clientCore) - core1Before;
  const line = out.split("\n").find((l) => l.startsWith("BENCH_JSON "));
  if (!line) throw new Error(`wrk gave no result for ${def.name}: ${out}\n${err}`);
  const r = JSON.parse(line.slice("BENCH_JSON ".length));
  const usage = proc.resourceUsage();
  const clientCpu = usage ? (Number(usage.cpuTime.user) + Number(usage.cpuTime.system)) / 1e6 : Number.NaN;
  const seconds = r.duration_us / 1e6;
  const cpu = cpuAfter - cpuBefore;
  // The core counters also cover wrk's start-up (reading the population), before its clock starts.
  const wall = (performance.now() - wallStart) / 1000;
  const socketErrors = r.connect_errors + r.read_errors + r.write_errors + r.timeouts;
  return {
    server: def.name,
    peers: def.tracker ? peers : null,
    mode,
    requestsPerSecond: r.requests / seconds,
    requests: r.requests,
    seconds,
    serverCpuSeconds: cpu,
    requestsPerCpuSecond: r.requests / cpu,
    databaseCpuSeconds: Math.max(0, dbCpu),
    connections,
    serverCpuShare: cpu / seconds,
    clientCpuShare: clientCpu / seconds,
    serverCoreOther: Math.max(0, core0 - cpu) / wall,
    clientCoreOther: Math.max(0, core1 - clientCpu) / wall,
    attempts: 1,
    p50Ms: r.p50_us / 1000,
    p99Ms: r.p99_us / 1000,
    maxMs: r.max_us / 1000,
    socketErrors,
    threads,
    note:
      mode !== "close" && def.closesConnections
        ? "closes every connection: no keep-alive"
        : r.status_errors
          ? `${r.status_errors} HTTP errors`
          : undefined,
  };
}

// ---------------------------------------------------------------------------------------------
// Main

interface MemoryResult {
  server: string;
  peers: number;
  peersHeld: number;
  rssEmpty: number;
  rssLoaded: number;
  bytesPerPeer: number;
}

interface WarmupResult {
  server: string;
  peers: number;
  requestsPerSecond: number;
  seconds: number;
  peersHeld: number;
}

async function main() {
  const started = Date.now();
  mkdirSync(RESULTS, { recursive: true });
  log(`preparing ${SETTINGS.members} members and ${SETTINGS.torrents} torrents in ${SETTINGS.databaseUrl}`);
  const { hashes, passkeys } = await prepareDatabase();
  const maxPeers = Math.max(...SETTINGS.populations);
  const pop = buildPopulation(hashes, passkeys, maxPeers);
  writeDataFiles(pop);
  let top = 0;
  for (let i = 0; i < maxPeers; i++) if (pop.torrentOf[i] === 0) top++;
  log(`population: ${maxPeers} peers, top torrent ${top} peers`);

  const runs: RunResult[] = [];
  const memory: MemoryResult[] = [];
  const warmups: WarmupResult[] = [];
  for (const def of serverDefs()) {
    if (!def.tracker) {
      const server = await startServer(def, "floor");
      try {
        const modes = [...SETTINGS.modes];
        if (SETTINGS.lightServers.includes(def.name)) modes.push("light");
        for (const mode of modes) {
          log(`${def.name}: ${mode}`);
          runs.push(await measure(server, SETTINGS.populations[0]!, mode));
        }
      } finally {
        await stopServer(server);
      }
      continue;
    }
    const populations =
      def.name === "bittorrent-tracker"
        ? SETTINGS.bittorrentTrackerPopulations.filter((n) => n <= maxPeers)
        : SETTINGS.populations;
    for (const peers of populations) {
      // A fresh server per population, so that its memory figure is the peers' and not the
      // garbage of earlier runs.
      const server = await startServer(def, String(peers));
      try {
        const rssEmpty = await settledRss(server.pid);
        log(`${def.name}: warming up ${peers} peers (RSS empty ${(rssEmpty / 2 ** 20).toFixed(1)} MiB)`);
        const t0 = performance.now();
        const rate = await warmUp(def, pop, 0, peers);
        const warmSeconds = (performance.now() - t0) / 1000;
        const held = await countPeers(def, pop);
        const rssLoaded = await settledRss(server.pid);
        log(
          `${def.name}: warm-up ${warmSeconds.toFixed(1)} s (${rate.toFixed(0)}/s), holds ${held} peers, ` +
            `RSS ${(rssLoaded / 2 ** 20).toFixed(1)} MiB`,
        );
        warmups.push({
          server: def.name,
          peers,
          requestsPerSecond: rate,
          seconds: warmSeconds,
          peersHeld: held,
        });
        memory.push({
          server: def.name,
          peers,
          peersHeld: held,
          rssEmpty,
          rssLoaded,
          bytesPerPeer: (rssLoaded - rssEmpty) / held,
        });
        const modes = [...SETTINGS.modes];
        if (SETTINGS.lightServers.includes(def.name)) modes.push("light");
        for (const mode of modes) {
          log(`${def.name}: ${peers} peers, ${mode}`);
          const result = await measure(server, peers, mode);
          log(
            `  ${result.requestsPerSecond.toFixed(0)} req/s, ${result.requestsPerCpuSecond.toFixed(0)} req/CPU-s, ` +
              `p99 ${result.p99Ms.toFixed(2)} ms`,
          );
          runs.push(result);
        }
      } finally {
        await stopServer(server);
      }
    }
  }
  saveReport("tracker", buildReport(runs, memory, warmups, (Date.now() - started) / 1000));
}

/** Prints a report and writes it to bench/results/<kind>-<time>.{md,json} and <kind>-latest.*. */
export function saveReport(kind: string, report: { markdown: string; json: unknown }): void {
  console.log(report.markdown);
  mkdirSync(RESULTS, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, "-").slice(0, 19);
  for (const name of [`${kind}-${stamp}`, `${kind}-latest`]) {
    writeFileSync(join(RESULTS, `${name}.json`), JSON.stringify(report.json, null, 2));
    writeFileSync(join(RESULTS, `${name}.md`), report.markdown);
  }
  log(`saved bench/results/${kind}-${stamp}.{json,md} (and ${kind}-latest.*)`);
}

// ---------------------------------------------------------------------------------------------
// Report

const fmtInt = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString("en-US") : "n/a");
const fmt = (n: number, digits = 2) => (Number.isFinite(n) ? n.toFixed(digits) : "n/a");
const fmtPeers = (n: number | null) => (n === null ? "n/a" : n >= 1e6 ? `${n / 1e6}M` : `${n / 1e3}k`);

interface Goal {
  goal: string;
  value: string;
  met: boolean | null;
}

function modeLabel(r: { mode: Mode; connections: number }): string {
  if (r.mode === "close") return "close";
  if (r.mode === "keepalive") return "keep-alive";
  return `unloaded, ${r.connections} conn.`;
}

function buildReport(runs: RunResult[], memory: MemoryResult[], warmups: WarmupResult[], seconds: number) {
  const find = (server: string, peers: number | null, mode: Mode) =>
    runs.find((r) => r.server === server && (peers === null || r.peers === peers) && r.mode === mode);
  const lines: string[] = [];
  lines.push("## Tracker benchmark");
  lines.push("");
  lines.push(
    `Servers pinned to core ${SETTINGS.serverCore}, wrk (1 thread, ${SETTINGS.connections} connections, ` +
      `${SETTINGS.duration} s a run) to core ${SETTINGS.clientCore}; ${SETTINGS.members} members, ` +
      `${SETTINGS.torrents} torrents, Zipf(${SETTINGS.zipfExponent}) popularity, 95% announce / 5% scrape, ` +
      `numwant=50, compact=1. Run took ${Math.round(seconds)} s.`,
  );
  lines.push("");
  lines.push(
    "close = one request per connection (`Connection: close`); keep-alive = connections reused; " +
      `unloaded = keep-alive (close for opentracker) with ${SETTINGS.lightConnections} connection(s): latency without queueing. ` +
      "Server CPU-s: utime+stime of the whole server process (all threads) during the run; DB CPU-s: " +
      "PostgreSQL backends of the benchmark database (Fairywren's accounting writes). " +
      "Others on cores: share of the server's / client's core busy with anything else (other " +
      "processes, softirq); runs are retried while it exceeds 25%. Socket errors in close mode come " +
      "from wrk reusing a socket the server closed without a `Connection: close` header (Bun, opentracker).",
  );
  lines.push("");
  lines.push(
    "| server | peers | mode | req/s | server CPU-s | req per CPU-s | DB CPU-s | server CPU | wrk CPU | others on cores | p50 ms | p99 ms | socket errors | note |",
  );
  lines.push("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|");
  for (const r of runs) {
    const notes = [
      r.note,
      r.clientCpuShare > 0.95 ? "client-bound" : "",
      r.attempts > 1 ? `${r.attempts} tries` : "",
    ];
    lines.push(
      `| ${r.server} | ${fmtPeers(r.peers)} | ${modeLabel(r)} | ${fmtInt(r.requestsPerSecond)} | ` +
        `${fmt(r.serverCpuSeconds)} | ${fmtInt(r.requestsPerCpuSecond)} | ${fmt(r.databaseCpuSeconds)} | ` +
        `${fmt(r.serverCpuShare * 100, 0)}% | ${fmt(r.clientCpuShare * 100, 0)}% | ` +
        `${fmt(r.serverCoreOther * 100, 0)}% / ${fmt(r.clientCoreOther * 100, 0)}% | ${fmt(r.p50Ms)} | ` +
        `${fmt(r.p99Ms)} | ${r.socketErrors} | ${notes.filter(Boolean).join("; ")} |`,
    );
  }
  lines.push("");
  lines.push(
    "| server | peers | warm-up req/s | peers held | RSS empty MiB | RSS loaded MiB | bytes per peer |",
  );
  lines.push("|---|---|---:|---:|---:|---:|---:|");
  for (const m of memory) {
    const w = warmups.find((x) => x.server === m.server && x.peers === m.peers);
    lines.push(
      `| ${m.server} | ${fmtPeers(m.peers)} | ${fmtInt(w?.requestsPerSecond ?? Number.NaN)} | ${fmtInt(m.peersHeld)} | ` +
        `${fmt(m.rssEmpty / 2 ** 20, 1)} | ${fmt(m.rssLoaded / 2 ** 20, 1)} | ${fmt(m.bytesPerPeer, 1)} |`,
    );
  }

  const fwRunsByThread = runs.filter((r) => r.server === "fairywren");
  if (fwRunsByThread.length) {
    const names = [...new Set(fwRunsByThread.flatMap((r) => Object.keys(r.threads)))].sort(
      (a, b) =>
        fwRunsByThread.reduce((n, r) => n + (r.threads[b] ?? 0), 0) -
        fwRunsByThread.reduce((n, r) => n + (r.threads[a] ?? 0), 0),
    );
    lines.push("");
    lines.push(
      "Fairywren's server CPU by thread, µs per request (Worker: the tracker and its HTTP server; " +
        "bun: the main thread, the web side writing credit; the rest are the runtime's JIT and GC helpers):",
    );
    lines.push("");
    lines.push(`| peers | mode | ${names.join(" | ")} | DB (PostgreSQL) |`);
    lines.push(`|---|---|${names.map(() => "---:|").join("")}---:|`);
    for (const r of fwRunsByThread)
      lines.push(
        `| ${fmtPeers(r.peers)} | ${modeLabel(r)} | ${names
          .map((n) => fmt(((r.threads[n] ?? 0) / r.requests) * 1e6, 1))
          .join(" | ")} | ${fmt((r.databaseCpuSeconds / r.requests) * 1e6, 1)} |`,
      );
  }

  const goals: Goal[] = [];
  const ratioGoal = (goal: string, a?: number, b?: number, min = 0, detail = "") => {
    if (a === undefined || b === undefined) return goals.push({ goal, value: "not measured", met: null });
    const ratio = a / b;
    goals.push({ goal, value: `${fmt(ratio)}× ${detail}`.trim(), met: ratio >= min });
  };
  const pops = SETTINGS.populations;
  const saturating = SETTINGS.modes;
  for (const peers of pops) {
    ratioGoal(
      `req per CPU-s ≥ 0.8× opentracker (${fmtPeers(peers)} peers, close: opentracker has no keep-alive)`,
      find("fairywren", peers, "close")?.requestsPerCpuSecond,
      find("opentracker", peers, "close")?.requestsPerCpuSecond,
      0.8,
      `(Fairywren keep-alive vs opentracker: ${fmt(
        (find("fairywren", peers, "keepalive")?.requestsPerCpuSecond ?? Number.NaN) /
          (find("opentracker", peers, "close")?.requestsPerCpuSecond ?? Number.NaN),
      )}×)`,
    );
  }
  for (const peers of pops) {
    for (const mode of saturating) {
      ratioGoal(
        `req per CPU-s ≥ 8× bittorrent-tracker (${fmtPeers(peers)}, ${modeLabel({ mode, connections: 0 })})`,
        find("fairywren", peers, mode)?.requestsPerCpuSecond,
        find("bittorrent-tracker", peers, mode)?.requestsPerCpuSecond,
        8,
      );
    }
  }
  const bare = find("bun-bare", null, "keepalive");
  for (const peers of pops) {
    const fw = find("fairywren", peers, "keepalive");
    ratioGoal(
      `keep-alive req/s ≥ 0.6× bare Bun.serve (${fmtPeers(peers)})`,
      fw?.requestsPerSecond,
      bare?.requestsPerSecond,
      0.6,
      fw && bare
        ? `(per CPU-s: ${fmt(fw.requestsPerCpuSecond / bare.requestsPerCpuSecond)}×${bare.clientCpuShare > 0.95 ? "; bare run client-bound" : ""})`
        : "",
    );
  }
  const big = Math.max(...pops);
  const small = Math.min(...pops);
  const mem = memory.find((m) => m.server === "fairywren" && m.peers === big);
  const otMem = memory.find((m) => m.server === "opentracker" && m.peers === big);
  goals.push({
    goal: `≤ 64 bytes per peer at ${fmtPeers(big)} peers (never worse than 128)`,
    value: mem
      ? `${fmt(mem.bytesPerPeer, 1)} B${otMem ? ` (opentracker ${fmt(otMem.bytesPerPeer, 1)} B)` : ""}`
      : "not measured",
    met: mem ? mem.bytesPerPeer <= 64 : null,
  });
  if (big !== small) {
    for (const mode of saturating) {
      const a = find("fairywren", big, mode);
      const b = find("fairywren", small, mode);
      ratioGoal(
        `req/s at ${fmtPeers(big)} ≥ 90% of ${fmtPeers(small)} (${modeLabel({ mode, connections: 0 })})`,
        a?.requestsPerSecond,
        b?.requestsPerSecond,
        0.9,
        a && b ? `(per CPU-s: ${fmt(a.requestsPerCpuSecond / b.requestsPerCpuSecond)}×)` : "",
      );
    }
  }
  const fwRuns = runs.filter((r) => r.server === "fairywren");
  const light = fwRuns.filter((r) => r.mode === "light");
  const loaded = fwRuns.filter((r) => r.mode !== "light");
  if (light.length) {
    const worst = Math.max(...light.map((r) => r.p99Ms));
    goals.push({
      goal: `p99 ≤ 2 ms (unloaded, ${SETTINGS.lightConnections} connection(s))`,
      value: `worst ${fmt(worst)} ms`,
      met: worst <= 2,
    });
  }
  if (loaded.length) {
    const worst = Math.max(...loaded.map((r) => r.p99Ms));
    goals.push({
      goal: `p99 ≤ 2 ms (saturated, ${SETTINGS.connections} connections)`,
      value: `worst ${fmt(worst)} ms`,
      met: worst <= 2,
    });
  }
  lines.push("");
  lines.push("| goal (Fairywren) | measured | met |");
  lines.push("|---|---|---|");
  for (const g of goals)
    lines.push(`| ${g.goal} | ${g.value} | ${g.met === null ? "–" : g.met ? "yes" : "NO"} |`);
  const markdown = `${lines.join("\n")}\n`;
  return {
    markdown,
    json: { settings: SETTINGS, date: new Date().toISOString(), runs, memory, warmups, goals },
  };
}

export async function cleanup() {
  await Promise.all([...running].map(stopServer));
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
