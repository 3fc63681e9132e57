// Upload benchmark: how long the log-in page takes while members upload hostile .torrent files in
// a loop. Run it through `npm run bench:uploads`. Settings: UPLOAD_SETTINGS.
//
// Fairywren runs from source as its own process on the embedded database (or on
// BENCH_UPLOADS_DATABASE_URL), on loopback. Members log in through the API, then each uploads one
// kind of hostile file after another through the upload page while GET /login is sent at a fixed
// rate over real sockets, each timed from the moment it was due. With BENCH_UPLOADS_BASELINE set
// to a git revision, that revision is measured the same way first, for a before/after table.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import postgres from "postgres";
import { log, saveReport } from "./tracker.ts";

const ROOT = resolve(import.meta.dir, "..");
const env = process.env;
const numberSetting = (name: string, fallback: number) => (env[name] ? Number(env[name]) : fallback);
const BUN = process.execPath;

export const UPLOAD_SETTINGS = {
  /** Seconds of each measured phase (quiet, then each kind of file). */
  seconds: numberSetting("BENCH_UPLOADS_SECONDS", 20),
  /** Members uploading at once, each one file after another. */
  members: numberSetting("BENCH_UPLOADS_MEMBERS", 2),
  /** GET /login requests a second, sent on schedule whether or not earlier ones were answered. */
  probeRate: numberSetting("BENCH_UPLOADS_PROBE_RATE", 20),
  port: numberSetting("BENCH_UPLOADS_PORT", 17_300),
  /** A git revision to measure first (e.g. `main`), checked out into a temporary folder; empty: none. */
  baseline: env.BENCH_UPLOADS_BASELINE ?? "",
  /** A PostgreSQL database to use instead of the embedded one (must contain "bench"; dropped). */
  databaseUrl: env.BENCH_UPLOADS_DATABASE_URL ?? "",
};

const MAX_BYTES = 10 * 1024 * 1024;
const PASSWORD = "bench uploads password";

/** The hostile files: the whole upload limit of tiny values, and just under the value limit. */
const FILES: Record<string, Buffer> = {
  "10 MiB of 5.2M empty strings": Buffer.from(
    `d4:infod5:filesl${"0:".repeat((MAX_BYTES - 64) / 2)}e4:name1:aee`,
    "latin1",
  ),
  "1.99M empty strings (4 MiB)": Buffer.from(
    `d4:infod5:filesl${"0:".repeat(1_999_000)}e4:name1:aee`,
    "latin1",
  ),
};

interface Phase {
  tree: string;
  load: string;
  probes: number;
  /** Probes that got no answer (connection cut or error). */
  failed: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  uploads: number;
  /** Upload answers by status. */
  statuses: Record<string, number>;
  peakRssMb: number;
}

interface Server {
  proc: ReturnType<typeof Bun.spawn>;
  web: string;
  cleanup(): Promise<void>;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

function rssMb(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN) / 1024;
  } catch {
    return Number.NaN;
  }
}

/** A source tree to run: this one, or a revision exported into a temporary folder. */
function sourceTree(revision: string): { dir: string; remove(): void } {
  if (!revision) return { dir: ROOT, remove() {} };
  const dir = mkdtempSync(join(tmpdir(), "fw-bench-uploads-"));
  const archive = execFileSync("git", ["-C", ROOT, "archive", "--format=tar", revision], {
    maxBuffer: 1 << 30,
  });
  execFileSync("tar", ["-x", "-C", dir], { input: archive });
  symlinkSync(join(ROOT, "node_modules"), join(dir, "node_modules"));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

async function databaseEnv(): Promise<{ env: Record<string, string>; drop(): Promise<void> }> {
  const dataDir = mkdtempSync(join(tmpdir(), "fw-bench-uploads-data-"));
  const removeData = async () => rmSync(dataDir, { recursive: true, force: true });
  if (!UPLOAD_SETTINGS.databaseUrl) return { env: { FAIRYWREN_DATA_DIR: dataDir }, drop: removeData };
  const url = new URL(UPLOAD_SETTINGS.databaseUrl);
  const name = decodeURIComponent(url.pathname.slice(1));
  if (!/bench/.test(name) || !/^[A-Za-z0-9_]+$/.test(name))
    throw new Error(`BENCH_UPLOADS_DATABASE_URL must name a database containing "bench": ${name}`);
  const adminUrl = new URL(url);
  adminUrl.pathname = "/postgres";
  const admin = postgres(adminUrl.href, { max: 1, onnotice: () => {} });
  await admin.unsafe(`drop database if exists ${name} with (force)`);
  await admin.unsafe(`create database ${name}`);
  return {
    env: { FAIRYWREN_DATA_DIR: dataDir, DATABASE_URL: url.href },
    async drop() {
      await admin.unsafe(`drop database if exists ${name} with (force)`);
      await admin.end();
      await removeData();
    },
  };
}

async function startServer(dir: string): Promise<Server> {
  const database = await databaseEnv();
  const serverEnv: Record<string, string> = {
    PATH: env.PATH ?? "",
    HOME: env.HOME ?? "/tmp",
    ...database.env,
    FAIRYWREN_WEB_HOST: "127.0.0.1",
    FAIRYWREN_TRACKER_HOST: "127.0.0.1",
    FAIRYWREN_WEB_PORT: String(UPLOAD_SETTINGS.port),
    FAIRYWREN_TRACKER_PORT: String(UPLOAD_SETTINGS.port + 1),
    FAIRYWREN_METRICS_PORT: "0",
    FAIRYWREN_LOG_LEVEL: "error",
  };
  // The first member gets every role; the others are created by it through the API below.
  const add = Bun.spawnSync([BUN, "src/main.ts", "adduser", "--name", "uploader1", "--password-stdin"], {
    cwd: dir,
    env: serverEnv,
    stdin: new TextEncoder().encode(`${PASSWORD}\n`),
  });
  if (add.exitCode !== 0) throw new Error(`adduser failed: ${add.stderr.toString()}`);
  mkdirSync(join(ROOT, "bench", "results"), { recursive: true });
  const proc = Bun.spawn([BUN, "src/main.ts"], {
    cwd: dir,
    env: serverEnv,
    stdout: "ignore",
    stderr: Bun.file(join(ROOT, "bench", "results", "uploads-server.err")),
  });
  const web = `http://127.0.0.1:${UPLOAD_SETTINGS.port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`the server exited with ${proc.exitCode}`);
    if (Date.now() > deadline) throw new Error("the server did not start within 60 s");
    if (
      await fetch(`${web}/health`).then(
        (r) => r.ok,
        () => false,
      )
    )
      break;
    await Bun.sleep(200);
  }
  return {
    proc,
    web,
    async cleanup() {
      proc.kill("SIGTERM");
      await proc.exited;
      await database.drop();
    },
  };
}

/** Logs a member in through the API: the session cookie and its CSRF token. */
async function logIn(web: string, name: string): Promise<{ cookie: string; csrf: string }> {
  const response = await fetch(`${web}/api/v1/session`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ name, password: PASSWORD }),
  });
  if (response.status !== 200)
    throw new Error(`log-in of ${name}: ${response.status} ${await response.text()}`);
  const cookie = response.headers.get("set-cookie")!.split(";")[0]!;
  const { csrf } = (await response.json()) as { csrf: string };
  return { cookie, csrf };
}

async function members(web: string): Promise<{ cookie: string; csrf: string }[]> {
  const admin = await logIn(web, "uploader1");
  const out = [admin];
  for (let k = 2; k <= UPLOAD_SETTINGS.members; k++) {
    const created = await fetch(`${web}/api/v1/users`, {
      method: "POST",
      headers: { "content-type": "application/json", cookie: admin.cookie, "x-csrf-token": admin.csrf },
      body: JSON.stringify({ name: `uploader${k}`, password: PASSWORD, roles: ["upload"] }),
    });
    if (created.status !== 201) throw new Error(`creating uploader${k}: ${created.status}`);
    out.push(await logIn(web, `uploader${k}`));
  }
  return out;
}

/** Runs one phase: GET /login on schedule, members uploading `file` (none: a quiet site). */
async function phase(
  server: Server,
  sessions: { cookie: string; csrf: string }[],
  tree: string,
  load: string,
  file: Buffer | null,
): Promise<Phase> {
  const end = performance.now() + UPLOAD_SETTINGS.seconds * 1000;
  const statuses: Record<string, number> = {};
  let uploads = 0;
  let peakRss = rssMb(server.proc.pid);
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, rssMb(server.proc.pid));
  }, 100);
  const uploaders = file
    ? sessions.map(async (session) => {
        while (performance.now() < end) {
          const form = new FormData();
          form.set("_csrf", session.csrf);
          form.set("file", new File([new Uint8Array(file)], "hostile.torrent"));
          const status = await fetch(`${server.web}/upload`, {
            method: "POST",
            body: form,
            headers: { cookie: session.cookie },
            redirect: "manual",
          }).then(
            async (r) => {
              await r.arrayBuffer();
              return String(r.status);
            },
            () => "no answer",
          );
          statuses[status] = (statuses[status] ?? 0) + 1;
          uploads++;
        }
      })
    : [];
  const latencies: number[] = [];
  let failed = 0;
  const probes: Promise<void>[] = [];
  const interval = 1000 / UPLOAD_SETTINGS.probeRate;
  for (let due = performance.now(); due < end; due += interval) {
    const wait = due - performance.now();
    if (wait > 0) await Bun.sleep(wait);
    probes.push(
      fetch(`${server.web}/login`).then(
        async (r) => {
          await r.text();
          if (r.status === 200) latencies.push(performance.now() - due);
          else failed++;
        },
        () => {
          failed++;
        },
      ),
    );
  }
  await Promise.all([...probes, ...uploaders]);
  clearInterval(sampler);
  latencies.sort((a, b) => a - b);
  return {
    tree,
    load,
    probes: probes.length,
    failed,
    p50Ms: percentile(latencies, 0.5),
    p90Ms: percentile(latencies, 0.9),
    p99Ms: percentile(latencies, 0.99),
    maxMs: latencies.at(-1) ?? Number.NaN,
    uploads,
    statuses,
    peakRssMb: peakRss,
  };
}

async function measureTree(revision: string): Promise<Phase[]> {
  const label = revision || "this tree";
  const source = sourceTree(revision);
  try {
    log(`${label}: starting Fairywren from ${revision ? `revision ${revision}` : "source"}`);
    const server = await startServer(source.dir);
    try {
      const sessions = await members(server.web);
      const out: Phase[] = [];
      log(`${label}: quiet site`);
      out.push(await phase(server, sessions, label, "no uploads", null));
      for (const [name, file] of Object.entries(FILES)) {
        log(`${label}: ${sessions.length} members uploading ${name} in a loop`);
        out.push(await phase(server, sessions, label, name, file));
      }
      return out;
    } finally {
      await server.cleanup();
    }
  } finally {
    source.remove();
  }
}

function report(phases: Phase[]): { markdown: string; json: unknown } {
  const ms = (n: number) => (Number.isNaN(n) ? "–" : n < 10 ? n.toFixed(1) : n.toFixed(0));
  const lines = [
    `# Uploads: GET /login while ${UPLOAD_SETTINGS.members} members upload hostile .torrent files`,
    "",
    `${UPLOAD_SETTINGS.seconds} s a phase, GET /login ${UPLOAD_SETTINGS.probeRate}/s on schedule, each timed from when it was due; ` +
      `${UPLOAD_SETTINGS.databaseUrl ? "PostgreSQL server" : "embedded database"}.`,
    "",
    "| tree | uploads of | /login p50 | p90 | p99 | max | unanswered | uploads answered (status: count) | peak RSS |",
    "|---|---|---:|---:|---:|---:|---:|---|---:|",
  ];
  for (const p of phases) {
    const statuses = Object.entries(p.statuses)
      .map(([s, n]) => `${s}: ${n}`)
      .join(", ");
    lines.push(
      `| ${p.tree} | ${p.load} | ${ms(p.p50Ms)} ms | ${ms(p.p90Ms)} ms | ${ms(p.p99Ms)} ms | ${ms(p.maxMs)} ms | ` +
        `${p.failed} of ${p.probes} | ${p.uploads}${statuses ? ` (${statuses})` : ""} | ${p.peakRssMb.toFixed(0)} MB |`,
    );
  }
  return {
    markdown: `${lines.join("\n")}\n`,
    json: { settings: UPLOAD_SETTINGS, date: new Date().toISOString(), phases },
  };
}

async function main(): Promise<void> {
  const phases: Phase[] = [];
  if (UPLOAD_SETTINGS.baseline) phases.push(...(await measureTree(UPLOAD_SETTINGS.baseline)));
  phases.push(...(await measureTree("")));
  saveReport("uploads", report(phases));
}

if (import.meta.main) {
  try {
    await main();
  } catch (error) {
    console.error(error);
    process.exit(1);
  }
}
