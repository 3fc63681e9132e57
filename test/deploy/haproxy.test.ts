// Several processes on one PostgreSQL, behind HAProxy, all on loopback: two `serve --only web`
// instances and one `serve --only tracker`, each a real subprocess. A member logs in and uploads
// through the proxy, transmission-cli seeds through it, both web instances' open event streams
// show the counts, a disabled member is refused at once, the credit reaches the database, one web
// instance is killed and the site keeps serving, and the restarted tracker rebuilds its swarm from
// the next announces. Needs a real server (DATABASE_URL): the embedded database serves one process.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { connect, type Sql } from "../../src/db/client.ts";
import type { TorrentCounts } from "../../src/shared/channel.ts";
import {
  artifactsDir,
  childEnv,
  exitWithin,
  freePorts,
  IN_CI,
  infoHash,
  makeTorrent,
  missingTools,
  Processes,
  ROOT,
  randomFile,
  requireTools,
  transmissionCommand,
  Visitor,
  waitFor,
} from "../e2e/support.ts";
import { announceQuery, escapeBytes } from "../helpers/announce.ts";
import { decodeStrict } from "../helpers/bdecode.ts";
import { SERVER_URL } from "../helpers/database.ts";
import { freshServerDatabase } from "../helpers/server.ts";
import { describeUnless } from "../helpers/skip.ts";

const TOOLS = ["haproxy", "transmission-cli", "mktorrent"];
const MAIN = join(ROOT, "src", "main.ts");
const PASSWORD = "proxy horse battery";
const skipReason = !SERVER_URL
  ? "DATABASE_URL is not set: several processes need a real PostgreSQL server"
  : missingTools(TOOLS).length && !IN_CI
    ? `missing ${missingTools(TOOLS).join(", ")}`
    : null;
const describeDeployed = describeUnless(skipReason === null, skipReason ?? "");

/** An open `text/event-stream` of live counts, read in the background. */
class CountsStream {
  readonly events: { at: number; counts: TorrentCounts[] }[] = [];
  ended = false;
  private readonly abort = new AbortController();

  constructor(url: string, cookie: string) {
    void (async () => {
      try {
        const response = await fetch(url, { headers: { cookie }, signal: this.abort.signal });
        if (response.status !== 200) throw new Error(`${url}: ${response.status}`);
        const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = "";
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += value;
          let end = buffer.indexOf("\n\n");
          while (end >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const data = block.match(/^event: counts\ndata: (.*)$/m)?.[1];
            if (data) this.events.push({ at: Date.now(), counts: JSON.parse(data) });
            end = buffer.indexOf("\n\n");
          }
        }
      } catch {}
      this.ended = true;
    })();
  }

  /** The latest seeders reported for `id` since `since` (a timestamp), or null. */
  seeders(id: number, since = 0): number | null {
    for (let i = this.events.length - 1; i >= 0; i--) {
      const event = this.events[i]!;
      if (event.at < since) break;
      const row = event.counts.find((c) => c[0] === id);
      if (row) return row[1];
    }
    return null;
  }

  close(): void {
    this.abort.abort();
  }
}

describeDeployed("HAProxy, two web instances and one tracker on one PostgreSQL", () => {
  let procs: Processes;
  let logs = "";
  let work = "";
  let home = "";
  let drop = async () => {};
  let db: Sql;
  let env: Record<string, string> = {};
  const ports = {
    proxyWeb: 0,
    proxyTracker: 0,
    web1: 0,
    web2: 0,
    tracker: 0,
    metrics: [0, 0, 0],
    peer: 0,
    rawPeer: 0,
  };
  const procsByName = new Map<string, Subprocess>();
  let site = "";
  let proxiedTracker = "";
  const admin = { visitor: null as unknown as Visitor };
  let torrentId = 0;
  let hash: Uint8Array = new Uint8Array();
  let passkey = "";
  const streams: CountsStream[] = [];

  /** Starts `fairywren serve --only <role>` from source; resolves once its port answers /health. */
  async function start(name: string, role: "web" | "tracker", port: number, metricsPort: number) {
    const proc = procs.spawn(name, [process.execPath, MAIN, "serve", "--only", role], {
      cwd: work,
      env: {
        ...env,
        [role === "web" ? "FAIRYWREN_WEB_PORT" : "FAIRYWREN_TRACKER_PORT"]: String(port),
        FAIRYWREN_METRICS_PORT: String(metricsPort),
      },
    });
    procsByName.set(name, proc);
    await waitFor(`${name} to answer`, 30_000, async () => {
      if (proc.exitCode !== null) throw new Error(`${name} exited with ${proc.exitCode}`);
      return (await fetch(`http://127.0.0.1:${port}/health`)).ok;
    });
    return proc;
  }

  async function scrapeComplete(): Promise<number> {
    const body = new Uint8Array(
      await (await fetch(`${proxiedTracker}/${passkey}/scrape?info_hash=${escapeBytes(hash)}`)).arrayBuffer(),
    );
    const files = (decodeStrict(body) as Map<string, unknown>).get("files") as Map<
      string,
      Map<string, number>
    >;
    return [...files.values()][0]?.get("complete") ?? 0;
  }

  async function announce(peer: string, uploaded: number, key = passkey): Promise<Map<string, unknown>> {
    const query = announceQuery({
      infoHash: hash,
      peerId: new TextEncoder().encode(peer.padEnd(20, "-")),
      port: ports.rawPeer,
      uploaded,
      left: 0,
    });
    const body = new Uint8Array(
      await (await fetch(`${proxiedTracker}/${key}/announce?${query}`)).arrayBuffer(),
    );
    return decodeStrict(body) as Map<string, unknown>;
  }

  beforeAll(async () => {
    requireTools(TOOLS);
    logs = artifactsDir("deploy");
    procs = new Processes(logs);
    work = mkdtempSync(join(tmpdir(), "fw-deploy-"));
    home = join(work, "home");
    mkdirSync(home);
    const database = await freshServerDatabase();
    drop = database.drop;
    db = connect(database.env.DATABASE_URL!, 2);
    const free = await freePorts(10);
    Object.assign(ports, {
      proxyWeb: free[0],
      proxyTracker: free[1],
      web1: free[2],
      web2: free[3],
      tracker: free[4],
      metrics: free.slice(5, 8),
      peer: free[8],
      rawPeer: free[9],
    });
    site = `http://127.0.0.1:${ports.proxyWeb}`;
    proxiedTracker = `http://127.0.0.1:${ports.proxyTracker}`;
    env = childEnv(home, {
      DATABASE_URL: database.env.DATABASE_URL!,
      FAIRYWREN_DATA_DIR: database.env.FAIRYWREN_DATA_DIR!,
      // Every process must share the pepper, or a password set through one is wrong on another.
      FAIRYWREN_SALT: "one pepper for every process",
      FAIRYWREN_WEB_HOST: "127.0.0.1",
      FAIRYWREN_TRACKER_HOST: "127.0.0.1",
      FAIRYWREN_SITE_URL: site,
      FAIRYWREN_TRACKER_URL: proxiedTracker,
      FAIRYWREN_TRUSTED_PROXIES: "127.0.0.1",
      FAIRYWREN_WEB_TRUSTED_PROXIES: "127.0.0.1",
      FAIRYWREN_FLUSH_INTERVAL_MS: "300",
      FAIRYWREN_ANNOUNCE_INTERVAL: "10",
      FAIRYWREN_MIN_ANNOUNCE_INTERVAL: "0",
      // The raw peer seeds beside a seeder and reports upload: the deployment is under test, not
      // the swarm balance nor byte conservation.
      FAIRYWREN_UPLOAD_NEEDS_LEECHER: "false",
      FAIRYWREN_BYTE_CONSERVATION: "false",
      FAIRYWREN_LOG_LEVEL: "debug",
    });
    for (const name of ["alice", "bob"]) {
      const adduser = procs.spawn(
        `adduser-${name}`,
        [process.execPath, MAIN, "adduser", "--name", name, "--password-stdin"],
        {
          cwd: work,
          env,
          stdin: `${PASSWORD}\n`,
        },
      );
      expect(await exitWithin(adduser, 30_000)).toBe(0);
    }
    await start("tracker", "tracker", ports.tracker, ports.metrics[0]!);
    await Promise.all([
      start("web1", "web", ports.web1, ports.metrics[1]!),
      start("web2", "web", ports.web2, ports.metrics[2]!),
    ]);

    const config = join(work, "haproxy.cfg");
    writeFileSync(
      config,
      `defaults
  mode http
  timeout connect 2s
  timeout client 60s
  timeout server 60s
  retries 3
  option redispatch
  retry-on conn-failure

frontend site
  bind 127.0.0.1:${ports.proxyWeb}
  option forwardfor
  default_backend web

frontend announces
  bind 127.0.0.1:${ports.proxyTracker}
  option forwardfor
  default_backend tracker

backend web
  balance roundrobin
  option httpchk GET /health
  server web1 127.0.0.1:${ports.web1} check inter 1s fall 2 rise 1
  server web2 127.0.0.1:${ports.web2} check inter 1s fall 2 rise 1

backend tracker
  option httpchk GET /health
  server tracker 127.0.0.1:${ports.tracker} check inter 1s fall 2 rise 1
`,
    );
    const check = procs.spawn("haproxy-check", ["haproxy", "-c", "-f", config], {
      cwd: work,
      env: childEnv(home),
    });
    expect(await exitWithin(check, 10_000)).toBe(0);
    procs.spawn("haproxy", ["haproxy", "-db", "-f", config], { cwd: work, env: childEnv(home) });
    await waitFor("HAProxy in front of both", 10_000, async () => {
      const [a, b] = await Promise.all([fetch(`${site}/health`), fetch(`${proxiedTracker}/health`)]);
      return a.ok && b.ok;
    });
  }, 120_000);

  afterAll(async () => {
    for (const stream of streams) stream.close();
    await procs?.dispose();
    await db?.end({ timeout: 1 });
    await drop().catch(() => {});
    if (work) rmSync(work, { recursive: true, force: true });
    rmSync(env.FAIRYWREN_DATA_DIR ?? "/nonexistent", { recursive: true, force: true });
  }, 30_000);

  test("a member logs in and uploads through the proxy, on either instance", async () => {
    admin.visitor = new Visitor(site, PASSWORD);
    await admin.visitor.login("alice");
    const payload = join(work, "seed", "payload.bin");
    mkdirSync(join(work, "seed"));
    randomFile(payload, 1024 * 1024);
    const made = await makeTorrent(payload, `${proxiedTracker}/announce`, join(work, "made.torrent"));
    const form = new FormData();
    form.set("file", new File([made], "payload.torrent", { type: "application/x-bittorrent" }));
    form.set("title", "Behind the proxy");
    form.set("_csrf", await admin.visitor.csrf());
    const upload = await admin.visitor.request("/upload", { body: form });
    expect(upload.status).toBe(303);
    torrentId = Number(upload.headers.get("location")?.match(/^\/torrents\/(\d+)/)?.[1]);
    expect(torrentId).toBeGreaterThan(0);
    const download = await admin.visitor.request(`/torrents/${torrentId}/download`);
    const personal = new Uint8Array(await download.arrayBuffer());
    writeFileSync(join(work, "alice.torrent"), personal);
    hash = infoHash(personal);
    const announceUrl = Buffer.from(
      (decodeStrict(personal) as Map<string, unknown>).get("announce") as Uint8Array,
    );
    passkey = announceUrl.toString().match(/\/([0-9a-f]{32})\/announce$/)![1]!;
    // The session is in the database: each instance knows the member.
    for (const port of [ports.web1, ports.web2]) {
      const page = await fetch(`http://127.0.0.1:${port}/torrents/${torrentId}`, {
        headers: { cookie: admin.visitor.cookie },
      });
      expect(page.status).toBe(200);
      expect(await page.text()).toContain("Behind the proxy");
    }
  });

  test("transmission-cli seeds through the proxy; both instances' open streams show it", async () => {
    for (const port of [ports.web1, ports.web2])
      streams.push(
        new CountsStream(`http://127.0.0.1:${port}/events/counts?ids=${torrentId}`, admin.visitor.cookie),
      );
    const seeder = procs.spawn(
      "transmission",
      transmissionCommand({
        torrent: join(work, "alice.torrent"),
        dir: join(work, "seed"),
        configDir: join(work, "transmission"),
        port: ports.peer,
      }),
      { cwd: work, env: childEnv(home) },
    );
    await waitFor(
      "both streams to show one seeder",
      40_000,
      () => {
        if (seeder.exitCode !== null) throw new Error(`transmission-cli exited with ${seeder.exitCode}`);
        return streams.every((s) => s.seeders(torrentId) === 1);
      },
      50,
    );
    expect(await scrapeComplete()).toBe(1);
  }, 60_000);

  test("a second seeder's announce reaches both open streams within a second of its reply", async () => {
    const first = await announce("-XX0001-raw", 0);
    expect(first.get("failure reason")).toBeUndefined();
    const answered = Date.now();
    expect(first.get("complete")).toBe(2);
    await waitFor(
      "both streams to show two seeders",
      1000,
      () => streams.every((s) => s.seeders(torrentId, answered) === 2),
      10,
    );
    const latencies = streams.map(
      (s) =>
        s.events.find((e) => e.at >= answered && e.counts.some((c) => c[0] === torrentId && c[1] === 2))!.at -
        answered,
    );
    writeFileSync(
      join(logs, "latency.txt"),
      `announce reply to event, web1 and web2: ${latencies.join(" ms, ")} ms\n`,
    );
  });

  test("the peer list on either instance is asked of the tracker process, through the database", async () => {
    // Round robin: two requests in a row reach both web instances.
    for (let i = 0; i < 2; i++) {
      const page = await admin.visitor.request(`/torrents/${torrentId}/swarm`);
      expect(page.status).toBe(200);
      const html = await page.text();
      expect(html).toContain("Seeders (2)");
      expect(html).toMatch(/Transmission \d/);
      expect(html).not.toContain("127.0.0.1");
    }
  });

  test("credit from the tracker process reaches the database through its own batches", async () => {
    const reply = await announce("-XX0001-raw", 5000);
    expect(reply.get("failure reason")).toBeUndefined();
    await waitFor("alice's credit in the database", 10_000, async () => {
      const [row] = await db`select uploaded from users where name = 'alice'`;
      return row!.uploaded === 5000;
    });
  });

  test("a member disabled on one instance is refused by the tracker as soon as the page returns", async () => {
    const [bob] = await db`select id, passkey from users where name = 'bob'`;
    const before = await announce("-XX0001-bob", 0, bob!.passkey);
    expect(before.get("failure reason")).toBeUndefined();
    const disabled = await admin.visitor.request(`/admin/users/${bob!.id}/disable`, {
      body: new URLSearchParams({ _csrf: await admin.visitor.csrf() }),
    });
    expect(disabled.status).toBe(303);
    const refused = await announce("-XX0001-bob", 0, bob!.passkey);
    expect(Buffer.from(refused.get("failure reason") as Uint8Array).toString()).toBe(
      "Your account is disabled: contact the staff.",
    );
  });

  test("with one web instance killed, the site keeps serving through the proxy", async () => {
    const web1 = procsByName.get("web1")!;
    web1.kill("SIGKILL");
    await web1.exited;
    await waitFor("web1's stream to end", 5000, () => streams[0]!.ended);
    for (let i = 0; i < 10; i++) {
      const page = await admin.visitor.request(`/torrents/${torrentId}`);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain("Behind the proxy");
    }
    expect(streams[1]!.ended).toBe(false);
  }, 30_000);

  test("the tracker stops cleanly, starts again, and the swarm rebuilds from the next announces", async () => {
    const tracker = procsByName.get("tracker")!;
    expect(await procs.stop(tracker, "SIGTERM", 15_000)).toBe(0);
    // Nobody answers for the swarm meanwhile: once the last answer is over a second old, the page
    // says so instead of showing the swarm empty.
    await waitFor("the swarm page to say the tracker is not answering", 10_000, async () => {
      const page = await admin.visitor.request(`/torrents/${torrentId}/swarm`);
      expect(page.status).toBe(200);
      return (await page.text()).includes("The tracker did not answer in time");
    });
    const restarted = Date.now();
    await start("tracker-again", "tracker", ports.tracker, ports.metrics[0]!);
    await waitFor(
      "HAProxy to see the tracker again",
      10_000,
      async () => (await fetch(`${proxiedTracker}/health`)).ok,
    );
    // The swarm is restored before the tracker listens (the peers saved with its credit): both
    // seeders are there at once; the disabled member's peer is not.
    expect(await scrapeComplete()).toBe(2);
    await announce("-XX0001-raw", 5000);
    // transmission-cli re-announces on its interval (10 s here).
    await waitFor("both seeders back in the swarm", 30_000, async () => (await scrapeComplete()) === 2, 500);
    await waitFor(
      "the surviving instance's stream to show them",
      5000,
      () => streams[1]!.seeders(torrentId, restarted) === 2,
      50,
    );
  }, 60_000);
});
