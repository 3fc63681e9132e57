// Web benchmark: Fairywren's pages with a large catalogue (1M torrents by default) in a real
// PostgreSQL, and the time from an announce to the new count reaching a subscribed SSE client.
// Run it through `npm run bench:web` (bench/web.sh installs wrk first). Settings: WEB_SETTINGS.
//
// The catalogue is generated in SQL (titles from word lists with skewed word frequencies, sizes,
// dates, counts) and kept between runs when its size matches. One Fairywren process serves it;
// wrk (bench/web.lua) loads each kind of page in turn with many logged-in members' sessions while
// PostgreSQL, the server and wrk share the machine's cores, as they would on a small host.
import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import postgres from "postgres";
import type { Sql } from "../src/db/client.ts";
import { createSession } from "../src/db/queries/sessions.ts";
import { cpuSeconds, log, type Running, saveReport, startServer, stopServer } from "./tracker.ts";

const ROOT = resolve(import.meta.dir, "..");
const env = process.env;
const numberSetting = (name: string, fallback: number) => (env[name] ? Number(env[name]) : fallback);

export const WEB_SETTINGS = {
  torrents: numberSetting("BENCH_WEB_TORRENTS", 1_000_000),
  members: numberSetting("BENCH_WEB_MEMBERS", 1_000),
  /** Members logged in during the load (each wrk connection uses one of their sessions). */
  sessions: numberSetting("BENCH_WEB_SESSIONS", 32),
  /** Seconds per measured wrk run. */
  duration: numberSetting("BENCH_WEB_DURATION", 10),
  /** wrk connections, each with one request in flight. */
  connections: numberSetting("BENCH_WEB_CONNECTIONS", 8),
  /** Requests per second of the fixed-rate runs, as a share of the page kind's wrk throughput. */
  rateShare: numberSetting("BENCH_WEB_RATE_SHARE", 0.5),
  /** Announce → SSE samples, idle and under page load each. */
  sseSamples: numberSetting("BENCH_WEB_SSE_SAMPLES", 20),
  /** Its name must contain "bench"; created when missing, refilled when its catalogue differs. */
  databaseUrl: env.BENCH_WEB_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/fw_bench_web",
  port: numberSetting("BENCH_WEB_PORT", 17_200),
};

const RESULTS = join(ROOT, "bench", "results");
const DATA = join(RESULTS, "data");
const BUN = process.execPath;

// ---------------------------------------------------------------------------------------------
// Catalogue: titles of six words drawn from pools whose first words are the most frequent, one of
// them from a long tail of 64,000 made-up names (as real catalogues have: most words are rare,
// which is what PostgreSQL's statistics and the search index see).

/** Bump when the generated catalogue changes, so that a kept one is made again. */
const CATALOGUE_VERSION = "4";
const SYLLABLES =
  "ka lo mi ne ru sa ti vo ze ba de fi go hu ja ke li mo nu pa qi ra se to vu wa xe yo zu bri cla dro fen gra hol jin kor lum".split(
    " ",
  );

const POOLS = {
  name: "debian ubuntu fedora arch gentoo alpine mint manjaro opensuse slackware freebsd openbsd netbsd haiku reactos kali tails qubes nixos void solus elementary zorin pop mageia rocky alma centos oracle clear endless deepin kubuntu xubuntu lubuntu raspbian armbian dietpi proxmox truenas".split(
    " ",
  ),
  kind: "live desktop server netinst minimal full dvd cd usb cloud docker wsl core studio edu kids games science audio video multimedia rescue forensic security router firewall nas media kiosk embedded iot".split(
    " ",
  ),
  topic:
    "documentary lecture concert album collection archive dataset corpus podcast audiobook season episode soundtrack anthology manual handbook course tutorial conference keynote workshop interview broadcast recording session demo sampler remaster bootleg compilation".split(
      " ",
    ),
  tag: "amd64 arm64 i386 riscv ppc64el s390x 1080p 720p 2160p flac mp3 ogg opus x264 x265 av1 vp9 pdf epub mobi iso img tar zst xz".split(
    " ",
  ),
};

/**
 * Categories of the catalogue, in order: a torrent's category is drawn with the first ones the
 * most common (about 29% of torrents in the first, 4% in the last).
 */
const CATEGORIES: [name: string, icon: string][] = [
  ["Linux", "terminal"],
  ["Software", "software"],
  ["Films", "film"],
  ["TV", "tv"],
  ["Music", "music"],
  ["Podcasts", "microphone"],
  ["Games", "game"],
  ["Books", "book"],
  ["Courses", "education"],
  ["Pictures", "image"],
  ["Archives", "archive"],
  ["Other", "folder"],
];

/** Searches typed by members: frequent, middling and rare words, several words, and prefixes. */
function searchTerms(): string[] {
  const p = POOLS;
  return [
    p.name[0]!, // the most frequent word: ~1 title in 6
    p.name[1]!,
    p.kind[0]!,
    p.topic[0]!,
    `${p.name[0]} ${p.kind[0]}`,
    `${p.name[2]} ${p.topic[3]} ${p.tag[0]}`,
    p.name[20]!,
    p.name[35]!, // rare
    p.topic[25]!,
    `${p.kind[10]} ${p.tag[8]}`,
    "2019",
    `${p.name[0]} 2021`,
    p.name[0]!.slice(0, 3), // a prefix, as typed
    p.kind[3]!.slice(0, 2),
    "de",
    "nothingmatchesthis",
    "kakaka", // made-up names: the most frequent, the second, a rare one
    "lokaka",
    "lumkorjin",
    "bri",
    `${p.name[5]} ${p.name[6]}`,
  ];
}

/** PostgreSQL's buffer cache and the database's size, for the report. */
let catalogueNote = "";

async function prepareCatalogue(): Promise<string[]> {
  const url = new URL(WEB_SETTINGS.databaseUrl);
  const name = decodeURIComponent(url.pathname.slice(1));
  if (!/bench/.test(name) || !/^[A-Za-z0-9_]+$/.test(name))
    throw new Error(`BENCH_WEB_DATABASE_URL must name a database containing "bench": ${name}`);
  const adminUrl = new URL(url);
  adminUrl.pathname = "/postgres";
  const admin = postgres(adminUrl.href, { max: 1, onnotice: () => {} });
  const [exists] = await admin`select 1 from pg_database where datname = ${name}`;
  if (!exists) await admin.unsafe(`create database ${name}`);
  await admin.end();
  const migrate = Bun.spawnSync([BUN, "src/main.ts", "migrate"], {
    cwd: ROOT,
    env: { ...env, DATABASE_URL: url.href, FAIRYWREN_DATA_DIR: join(DATA, "fairywren-web") },
  });
  if (migrate.exitCode !== 0) throw new Error(`migrate failed: ${migrate.stderr.toString()}`);

  const sql = postgres(url.href, { max: 1, onnotice: () => {} });
  try {
    const [{ n }] = (await sql`select count(*)::int as n from torrents`) as unknown as [{ n: number }];
    const [{ m }] = (await sql`select count(*)::int as m from users`) as unknown as [{ m: number }];
    await sql`create table if not exists bench_catalogue (version text not null)`;
    const [kept] = await sql`select version from bench_catalogue`;
    if (n === WEB_SETTINGS.torrents && m === WEB_SETTINGS.members && kept?.version === CATALOGUE_VERSION) {
      log(`catalogue: reusing ${n} torrents and ${m} members in ${name}`);
    } else {
      log(`catalogue: generating ${WEB_SETTINGS.torrents} torrents and ${WEB_SETTINGS.members} members`);
      const t0 = performance.now();
      await sql`truncate torrents, users, sessions, invites, stat_batches, categories, tags restart identity cascade`;
      for (const [position, [name, icon]] of CATEGORIES.entries())
        await sql`insert into categories (name, icon, position) values (${name}, ${icon}, ${position})`;
      await sql`
        insert into users (name, password_hash, passkey)
        select 'member' || g, 'x', md5('webpk' || g) from generate_series(1, ${WEB_SETTINGS.members}::int) g`;
      await sql`select setseed(0.2026)`;
      // Word k of a pool is drawn with probability ~ k^(-2/3) (random()^3 skews to the front).
      const pick = (pool: string[]) =>
        sql`(${sql.array(pool)}::text[])[1 + floor(${pool.length} * random() ^ 3)::int]`;
      const n = SYLLABLES.length;
      const syllable = (k: string, div: number) =>
        sql`(${sql.array(SYLLABLES)}::text[])[1 + (${sql.unsafe(k)} / ${div}::int) % ${n}::int]`;
      // A made-up name: word k of the tail (k skewed to the front) spelt with three syllables.
      const tailWord = sql`(select ${syllable("k", 1)} || ${syllable("k", n)} || ${syllable("k", n * n)}
        from (select floor(${n ** 3} * random() ^ 2)::int + g * 0 as k) w)`;
      await sql`
        insert into torrents (info_hash, title, description, size, files, creator_id, created_at, metainfo,
          snatches, category_id)
        select decode(md5('wih' || g) || substr(md5('wih2' || g), 1, 8), 'hex'),
          initcap(${pick(POOLS.name)}) || ' ' || initcap(${pick(POOLS.kind)}) || ' ' || initcap(${tailWord})
            || ' ' || ${pick(POOLS.topic)} || ' ' || (2000 + floor(random() * 27)::int) || ' ' || ${pick(POOLS.tag)},
          'Generated for the web benchmark, number ' || g,
          (1 + random() * 2 ^ 35)::bigint,
          jsonb_build_array(jsonb_build_object('path', 'file-' || g || '.bin', 'length', 1)),
          1 + g % ${WEB_SETTINGS.members}::int,
          now() - make_interval(secs => (${WEB_SETTINGS.torrents}::int - g) * 60),
          '\\x00'::bytea,
          floor(2000 * random() ^ 4)::int,
          1 + floor(${CATEGORIES.length} * random() ^ 2)::int
        from generate_series(1, ${WEB_SETTINGS.torrents}::int) g`;
      // Each torrent is tagged with its title's last word (its format or architecture).
      await sql`insert into tags (name) select unnest(${sql.array(POOLS.tag)}::text[])`;
      await sql`
        insert into torrent_tags (tag_id, torrent_id)
        select g.id, t.id from torrents t join tags g on g.name = split_part(t.title, ' ', 6)`;
      await sql`update torrent_counts set seeders = floor(200 * random() ^ 6), leechers = floor(80 * random() ^ 6)`;
      await sql`delete from bench_catalogue`;
      await sql`insert into bench_catalogue (version) values (${CATALOGUE_VERSION})`;
      log(`catalogue: inserted in ${((performance.now() - t0) / 1000).toFixed(0)} s; vacuum analyze`);
      await sql`vacuum analyze torrents`;
      await sql`vacuum analyze users`;
      await sql`vacuum analyze torrent_counts`;
      await sql`vacuum analyze torrent_tags`;
      await sql`vacuum analyze tags`;
      // Write the catalogue out now rather than in a checkpoint during the measurements.
      await sql`checkpoint`.catch(() => log("catalogue: no checkpoint (needs a superuser)"));
    }
    await sql`delete from sessions`;
    // Read the catalogue into PostgreSQL's buffer cache (when it is large enough to hold it), so
    // that the first seconds of a run do not measure reading it from the operating system.
    await sql`create extension if not exists pg_prewarm`
      .then(async () => {
        const relations = await sql`
          select c.oid::regclass::text as name from pg_class c
          where c.relname in ('torrents', 'torrent_counts', 'users', 'torrent_tags', 'tags', 'categories')
            or c.oid in (select indexrelid from pg_index where indrelid in (
              'torrents'::regclass, 'torrent_counts'::regclass, 'torrent_tags'::regclass, 'tags'::regclass))
        `;
        for (const r of relations) await sql`select pg_prewarm(${r.name as string})`;
        log(`catalogue: prewarmed ${relations.length} tables and indexes`);
      })
      .catch((error) => log(`catalogue: not prewarmed (${(error as Error).message})`));
    const [{ buffers }] = (await sql`select current_setting('shared_buffers') as buffers`) as unknown as [
      { buffers: string },
    ];
    const [{ size }] =
      (await sql`select pg_size_pretty(pg_database_size(current_database())) as size`) as unknown as [
        { size: string },
      ];
    catalogueNote = `PostgreSQL shared_buffers ${buffers}, database ${size}`;
    log(`catalogue: ${catalogueNote}`);
    return await Promise.all(
      Array.from({ length: WEB_SETTINGS.sessions }, (_, k) => createSession(sql as unknown as Sql, k + 1)),
    );
  } finally {
    await sql.end();
  }
}

// ---------------------------------------------------------------------------------------------
// Page load

interface PageResult {
  page: string;
  paths: number;
  requestsPerSecond: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  failures: number;
  socketErrors: number;
  serverCpuShare: number;
  meanBytes: number;
}

function pagePaths(): Record<string, string[]> {
  const n = WEB_SETTINGS.torrents;
  const list = [
    "/torrents",
    "/torrents?page=2",
    "/torrents?page=5",
    "/torrents?page=20",
    "/torrents?page=100",
  ];
  for (const sort of ["seeders", "leechers", "snatches", "size", "title"])
    for (const order of ["desc", "asc"]) list.push(`/torrents?sort=${sort}&order=${order}`);
  list.push("/torrents?sort=seeders&page=3", "/torrents?sort=date&order=asc");
  // The list in a large, a middling and the smallest category, every order, a few pages deep.
  const category: string[] = [];
  for (const id of [1, 5, CATEGORIES.length]) {
    category.push(
      `/torrents?category=${id}`,
      `/torrents?category=${id}&page=2`,
      `/torrents?category=${id}&page=20`,
    );
    for (const sort of ["seeders", "leechers", "snatches", "size", "title"])
      for (const order of ["desc", "asc"])
        category.push(`/torrents?category=${id}&sort=${sort}&order=${order}`);
    category.push(
      `/torrents?category=${id}&sort=date&order=asc`,
      `/torrents?category=${id}&sort=seeders&page=5`,
    );
  }
  const search: string[] = [];
  for (const term of searchTerms()) {
    const q = encodeURIComponent(term).replaceAll("%20", "+");
    search.push(`/torrents?q=${q}`, `/torrents?q=${q}&page=2`, `/torrents?q=${q}&sort=seeders`);
  }
  const detail: string[] = [];
  let x = 7;
  for (let k = 0; k < 2000; k++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    detail.push(`/torrents/${1 + (x % n)}`);
  }
  return { list, category, search, detail };
}

async function loadPage(
  server: Running,
  page: string,
  paths: string[],
  cookiesFile: string,
  seed: number,
): Promise<PageResult> {
  const pathsFile = join(DATA, `web-${page}.txt`);
  writeFileSync(pathsFile, `${paths.join("\n")}\n`);
  const args = [
    "wrk",
    "-t1",
    `-c${WEB_SETTINGS.connections}`,
    `-d${WEB_SETTINGS.duration}s`,
    "--latency",
    "--timeout",
    "10s",
    "-s",
    join(ROOT, "bench", "web.lua"),
    `http://127.0.0.1:${WEB_SETTINGS.port}`,
    "--",
    `paths=${pathsFile}`,
    `cookies=${cookiesFile}`,
    `seed=${seed}`,
  ];
  const cpuBefore = cpuSeconds(server.pid);
  const proc = Bun.spawn(args, { stdout: "pipe", stderr: "pipe" });
  const [out, err] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  await proc.exited;
  const cpu = cpuSeconds(server.pid) - cpuBefore;
  const line = out.split("\n").find((l) => l.startsWith("BENCH_JSON "));
  if (!line) throw new Error(`wrk gave no result for ${page}: ${out}\n${err}`);
  if (err.trim()) log(`  wrk: ${err.trim().slice(0, 500)}`);
  const r = JSON.parse(line.slice("BENCH_JSON ".length));
  const seconds = r.duration_us / 1e6;
  return {
    page,
    paths: paths.length,
    requestsPerSecond: r.requests / seconds,
    p50Ms: r.p50_us / 1000,
    p90Ms: r.p90_us / 1000,
    p99Ms: r.p99_us / 1000,
    maxMs: r.max_us / 1000,
    failures: r.failures + r.status_errors,
    socketErrors: r.socket_errors,
    serverCpuShare: cpu / seconds,
    meanBytes: r.checked ? r.bytes / r.checked : 0,
  };
}

// ---------------------------------------------------------------------------------------------
// Fixed-rate load: requests go out at random moments (exponential gaps) at a set mean rate, each
// timed from the moment it was due, whether or not earlier ones have been answered. Unlike wrk's
// closed loop (each connection waits for its answer), the tail then includes waiting behind slow
// pages as members would experience it, and the load does not drop when the server slows down.

interface RateResult {
  page: string;
  rate: number;
  requests: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  failures: number;
  /** The paths with the worst single latencies: what the tail is made of. */
  slowest: { path: string; ms: number }[];
}

async function fixedRate(page: string, paths: string[], cookies: string[], rate: number, seed: number) {
  let x = seed >>> 0 || 1;
  const rand = () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
  const latencies: number[] = [];
  const worst: { path: string; ms: number }[] = [];
  let failures = 0;
  const pending: Promise<void>[] = [];
  const start = performance.now();
  const end = start + WEB_SETTINGS.duration * 1000;
  let due = start;
  while (due < end) {
    const wait = due - performance.now();
    if (wait > 1) await Bun.sleep(wait);
    const path = paths[Math.floor(rand() * paths.length)]!;
    const cookie = cookies[Math.floor(rand() * cookies.length)]!;
    const at = due;
    pending.push(
      fetch(`http://127.0.0.1:${WEB_SETTINGS.port}${path}`, { headers: { cookie, accept: "text/html" } })
        .then(async (r) => {
          const body = await r.text();
          if (r.status !== 200 || !body.includes("</html>")) failures++;
        })
        .catch(() => {
          failures++;
        })
        .finally(() => {
          const ms = performance.now() - at;
          latencies.push(ms);
          worst.push({ path, ms });
          if (worst.length > 64) {
            worst.sort((a, b) => b.ms - a.ms);
            worst.length = 8;
          }
        }),
    );
    due += (-Math.log(1 - rand()) / rate) * 1000;
  }
  await Promise.all(pending);
  worst.sort((a, b) => b.ms - a.ms);
  return {
    page,
    rate,
    requests: latencies.length,
    p50Ms: quantile(latencies, 0.5),
    p90Ms: quantile(latencies, 0.9),
    p99Ms: quantile(latencies, 0.99),
    maxMs: Math.max(...latencies),
    failures,
    slowest: worst.slice(0, 3),
  } satisfies RateResult;
}

// ---------------------------------------------------------------------------------------------
// Announce → SSE: a member's page follows a torrent's counts; a new seeder announces; how long
// until the page's event stream carries the new seeder count.

interface SseResult {
  condition: string;
  samples: number[];
}

const PEER_PREFIX = "-BW0001-";

async function sseLatency(
  cookie: string,
  passkey: string,
  hashes: Map<number, Buffer>,
  samples: number,
  runId: number,
): Promise<number[]> {
  const ids = [...hashes.keys()];
  const controller = new AbortController();
  const response = await fetch(`http://127.0.0.1:${WEB_SETTINGS.port}/events/counts?ids=${ids.join(",")}`, {
    headers: { cookie, accept: "text/event-stream" },
    signal: controller.signal,
  });
  if (response.status !== 200) throw new Error(`event stream answered ${response.status}`);
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  const seeders = new Map<number, number>();
  let buffered = "";
  let waiter = null as (() => void) | null;
  // Reads events for the whole measurement; each one updates the latest counts.
  const pump = (async () => {
    for (;;) {
      const { done, value } = await reader.read().catch(() => ({ done: true, value: undefined }));
      if (done) return;
      buffered += decoder.decode(value, { stream: true });
      let end = buffered.indexOf("\n\n");
      while (end >= 0) {
        const block = buffered.slice(0, end);
        buffered = buffered.slice(end + 2);
        const data = block.split("\n").find((l) => l.startsWith("data: "));
        if (data && block.includes("event: counts"))
          for (const [id, s] of JSON.parse(data.slice(6)) as number[][]) seeders.set(id!, s!);
        waiter?.();
        end = buffered.indexOf("\n\n");
      }
    }
  })();
  const until = async (test: () => boolean, ms: number) => {
    const deadline = performance.now() + ms;
    while (!test()) {
      const left = deadline - performance.now();
      if (left <= 0) return false;
      await new Promise<void>((done) => {
        waiter = done;
        setTimeout(done, left);
      });
    }
    return true;
  };
  const announce = async (id: number, peer: number, event: string) => {
    const hash = percentEncode(hashes.get(id)!);
    const peerId = `${PEER_PREFIX}${String(runId).padStart(4, "0")}${String(peer).padStart(8, "0")}`;
    const url =
      `http://127.0.0.1:${WEB_SETTINGS.port + 1}/${passkey}/announce?info_hash=${hash}&peer_id=${peerId}` +
      `&port=${20000 + peer}&uploaded=0&downloaded=0&left=0&compact=1&event=${event}`;
    const body = new Uint8Array(await (await fetch(url)).arrayBuffer());
    if (new TextDecoder().decode(body).includes("failure reason"))
      throw new Error(`announce refused: ${new TextDecoder().decode(body)}`);
  };
  const times: number[] = [];
  try {
    await Bun.sleep(300);
    for (let k = 0; k < samples; k++) {
      const id = ids[k % ids.length]!;
      const before = seeders.get(id) ?? 0;
      const t0 = performance.now();
      await announce(id, k, "started");
      if (!(await until(() => (seeders.get(id) ?? 0) > before, 5000)))
        throw new Error(`no count change for torrent ${id} within 5 s`);
      times.push(performance.now() - t0);
      await announce(id, k, "stopped");
      await until(() => (seeders.get(id) ?? 0) === before, 5000);
      // Announces land at random moments relative to the tracker's count flush.
      await Bun.sleep(50 + ((k * 37) % 200));
    }
  } finally {
    controller.abort();
    await pump;
  }
  return times;
}

function percentEncode(bytes: Buffer): string {
  let out = "";
  for (const b of bytes) out += `%${b.toString(16).padStart(2, "0")}`;
  return out;
}

// ---------------------------------------------------------------------------------------------
// Main

const quantile = (values: number[], q: number) => {
  if (!values.length) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
};
const fmt = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : "n/a");

async function main() {
  const started = Date.now();
  mkdirSync(DATA, { recursive: true });
  const tokens = await prepareCatalogue();
  const cookies = tokens.map((t) => `fw_session=${t}`);
  const cookiesFile = join(DATA, "web-cookies.txt");
  writeFileSync(cookiesFile, `${cookies.join("\n")}\n`);

  const sql = postgres(WEB_SETTINGS.databaseUrl, { max: 1, onnotice: () => {} });
  const sseIds = Array.from({ length: 10 }, (_, k) => 1 + k * 9973);
  const hashRows = await sql`select id, info_hash from torrents where id = any(${sseIds}::bigint[])`;
  const hashes = new Map(hashRows.map((r) => [Number(r.id), r.info_hash as Buffer]));
  const [{ passkey }] = (await sql`select passkey from users where id = 1`) as unknown as [
    { passkey: string },
  ];
  await sql.end();

  const port = WEB_SETTINGS.port;
  const server = await startServer(
    {
      name: "fairywren-web",
      label: "Fairywren",
      port,
      style: "passkey",
      command: [BUN, "src/main.ts"],
      env: {
        DATABASE_URL: WEB_SETTINGS.databaseUrl,
        FAIRYWREN_DATA_DIR: join(DATA, "fairywren-web"),
        FAIRYWREN_WEB_HOST: "127.0.0.1",
        FAIRYWREN_WEB_PORT: String(port),
        FAIRYWREN_TRACKER_HOST: "127.0.0.1",
        FAIRYWREN_TRACKER_PORT: String(port + 1),
        FAIRYWREN_METRICS_PORT: String(port + 2),
        FAIRYWREN_LOG_LEVEL: "warn",
        FAIRYWREN_MIN_ANNOUNCE_INTERVAL: "0",
      },
      tracker: false,
    },
    "web",
    { allCores: true },
  );
  const pages: PageResult[] = [];
  const rated: RateResult[] = [];
  const sse: SseResult[] = [];
  try {
    // The tracker loads the catalogue in the background: wait until it answers for a torrent.
    await waitForTracker(passkey, hashes.values().next().value!);
    log(`announce → SSE, idle (${WEB_SETTINGS.sseSamples} samples)`);
    sse.push({
      condition: "idle",
      samples: await sseLatency(cookies[0]!, passkey, hashes, WEB_SETTINGS.sseSamples, 1),
    });
    const paths = pagePaths();
    // A short warm-up: the first requests compile templates and fill PostgreSQL's caches.
    for (const [page, list] of Object.entries(paths)) {
      const t0 = performance.now();
      for (const path of list.slice(0, 40))
        await fetch(`http://127.0.0.1:${port}${path}`, { headers: { cookie: cookies[0]! } }).then((r) =>
          r.text(),
        );
      log(`${page}: warm-up ${((performance.now() - t0) / Math.min(40, list.length)).toFixed(1)} ms a page`);
    }
    let seed = 1;
    for (const [page, list] of Object.entries(paths)) {
      log(`${page}: ${WEB_SETTINGS.connections} connections, ${WEB_SETTINGS.duration} s`);
      const during =
        page === "list"
          ? sseLatency(cookies[1]!, passkey, hashes, Math.ceil(WEB_SETTINGS.sseSamples / 2), 2)
          : null;
      const result = await loadPage(server, page, list, cookiesFile, 4242 + seed++);
      log(
        `  ${result.requestsPerSecond.toFixed(0)} pages/s, p50 ${fmt(result.p50Ms)} ms, p99 ${fmt(result.p99Ms)} ms, ` +
          `${result.failures} failures`,
      );
      pages.push(result);
      if (during) sse.push({ condition: `during the list load`, samples: await during });
      const rate = Math.max(1, Math.round(result.requestsPerSecond * WEB_SETTINGS.rateShare));
      log(`${page}: ${rate} pages/s at random moments, ${WEB_SETTINGS.duration} s`);
      const steady = await fixedRate(page, list, cookies, rate, 777 + seed);
      log(
        `  p50 ${fmt(steady.p50Ms)} ms, p99 ${fmt(steady.p99Ms)} ms, max ${fmt(steady.maxMs)} ms ` +
          `(${steady.slowest.map((w) => `${w.path} ${fmt(w.ms, 0)} ms`).join(", ")})`,
      );
      rated.push(steady);
    }
  } finally {
    await stopServer(server);
  }
  saveReport("web", buildReport(pages, rated, sse, (Date.now() - started) / 1000));
}

async function waitForTracker(passkey: string, hash: Buffer): Promise<void> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const body = await fetch(
      `http://127.0.0.1:${WEB_SETTINGS.port + 1}/${passkey}/scrape?info_hash=${percentEncode(hash)}`,
    )
      .then((r) => r.text())
      .catch(() => "");
    if (body.startsWith("d5:filesd")) return;
    if (Date.now() > deadline) throw new Error(`the tracker did not serve the catalogue: ${body}`);
    await Bun.sleep(500);
  }
}

function buildReport(pages: PageResult[], rated: RateResult[], sse: SseResult[], seconds: number) {
  const lines: string[] = [];
  const cores = navigator.hardwareConcurrency;
  lines.push("## Web benchmark");
  lines.push("");
  lines.push(
    `${WEB_SETTINGS.torrents.toLocaleString("en-US")} torrents and ${WEB_SETTINGS.members} members in PostgreSQL; ` +
      `one Fairywren process, PostgreSQL and wrk (1 thread, ${WEB_SETTINGS.connections} connections, ` +
      `${WEB_SETTINGS.duration} s a page kind, ${WEB_SETTINGS.sessions} members' sessions) share ${cores} cores; ` +
      `${catalogueNote}. Run took ${Math.round(seconds)} s.`,
  );
  lines.push("");
  lines.push(
    "list: newest first, pages 2–100 and every sort in both orders; category: the same within a large, a " +
      `middling and the smallest of ${CATEGORIES.length} categories (about 29%, 7% and 4% of torrents); search: ` +
      `${searchTerms().length} searches (frequent, rare and several words, prefixes, no match), ` +
      "first and second page and sorted by seeders; detail: random torrents.",
  );
  lines.push("");
  lines.push(
    "| page | paths | pages/s | p50 ms | p90 ms | p99 ms | max ms | server CPU | KiB a page | failures |",
  );
  lines.push("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
  for (const p of pages)
    lines.push(
      `| ${p.page} | ${p.paths} | ${fmt(p.requestsPerSecond, 0)} | ${fmt(p.p50Ms)} | ${fmt(p.p90Ms)} | ${fmt(p.p99Ms)} | ` +
        `${fmt(p.maxMs)} | ${fmt(p.serverCpuShare * 100, 0)}% | ${fmt(p.meanBytes / 1024)} | ${p.failures + p.socketErrors} |`,
    );
  lines.push("");
  lines.push(
    `At a fixed mean rate (${fmt(WEB_SETTINGS.rateShare * 100, 0)}% of the page kind's throughput above, ` +
      "requests at random moments, each timed from when it was due):",
  );
  lines.push("");
  lines.push("| page | pages/s | requests | p50 ms | p90 ms | p99 ms | max ms | slowest | failures |");
  lines.push("|---|---:|---:|---:|---:|---:|---:|---|---:|");
  for (const r of rated)
    lines.push(
      `| ${r.page} | ${r.rate} | ${r.requests} | ${fmt(r.p50Ms)} | ${fmt(r.p90Ms)} | ${fmt(r.p99Ms)} | ${fmt(r.maxMs)} | ` +
        `${r.slowest.map((w) => `\`${w.path}\` ${fmt(w.ms, 0)} ms`).join(", ")} | ${r.failures} |`,
    );
  lines.push("");
  lines.push("| announce → SSE count change | samples | p50 ms | p90 ms | max ms |");
  lines.push("|---|---:|---:|---:|---:|");
  for (const s of sse)
    lines.push(
      `| ${s.condition} | ${s.samples.length} | ${fmt(quantile(s.samples, 0.5))} | ${fmt(quantile(s.samples, 0.9))} | ` +
        `${fmt(Math.max(...s.samples))} |`,
    );
  const worstPage = Math.max(...pages.map((p) => p.p99Ms));
  const worstRated = Math.max(...rated.map((p) => p.p99Ms));
  const worstSse = Math.max(...sse.flatMap((s) => s.samples));
  const failures =
    pages.reduce((n, p) => n + p.failures + p.socketErrors, 0) + rated.reduce((n, p) => n + p.failures, 0);
  const torrents = WEB_SETTINGS.torrents.toLocaleString("en-US");
  const goals = [
    {
      goal: `pages p99 ≤ 50 ms at ${torrents} torrents, at ${fmt(WEB_SETTINGS.rateShare * 100, 0)}% of capacity`,
      value: `worst ${fmt(worstRated)} ms (${rated.find((p) => p.p99Ms === worstRated)?.page})`,
      met: worstRated <= 50 && failures === 0,
    },
    {
      goal: `pages p99 ≤ 50 ms at ${torrents} torrents, saturated (${WEB_SETTINGS.connections} connections)`,
      value: `worst ${fmt(worstPage)} ms (${pages.find((p) => p.p99Ms === worstPage)?.page})`,
      met: worstPage <= 50 && failures === 0,
    },
    {
      goal: "count change reaches the page ≤ 1 s",
      value: `worst ${fmt(worstSse)} ms`,
      met: worstSse <= 1000,
    },
  ];
  lines.push("");
  lines.push("| goal (Fairywren) | measured | met |");
  lines.push("|---|---|---|");
  for (const g of goals) lines.push(`| ${g.goal} | ${g.value} | ${g.met ? "yes" : "NO"} |`);
  const markdown = `${lines.join("\n")}\n`;
  return {
    markdown,
    json: {
      settings: WEB_SETTINGS,
      date: new Date().toISOString(),
      postgresql: catalogueNote,
      pages,
      rated,
      sse,
      goals,
    },
  };
}

if (import.meta.main) {
  try {
    await main();
  } catch (error) {
    console.error(error);
    process.exit(1);
  }
}
