// A real swarm through the built executable: two members, two real BitTorrent clients (Debian's
// transmission-cli seeding, aria2c leeching), all on loopback. Checks the transfer, the counts on
// the site and in a scrape, the credit and the snatch in the database, and that a disabled member's
// client is refused. Logs of every process stay in artifacts/e2e/swarm/.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { openDatabase } from "../../src/db/client.ts";
import { announceQuery, escapeBytes } from "../helpers/announce.ts";
import { decodeStrict } from "../helpers/bdecode.ts";
import { SERVER_URL } from "../helpers/database.ts";
import { freshServerDatabase } from "../helpers/server.ts";
import { describeUnless, needsPrograms } from "../helpers/skip.ts";
import {
  aria2Command,
  artifactsDir,
  BINARY,
  childEnv,
  ensureBinary,
  exitWithin,
  freePorts,
  IN_CI,
  infoHash,
  makeTorrent,
  missingTools,
  Processes,
  randomFile,
  requireTools,
  transmissionCommand,
  Visitor,
  waitFor,
} from "./support.ts";

const PAYLOAD_SIZE = 4 * 1024 * 1024;
const PASSWORD = "correct horse battery";
// CI installs the clients, so there a missing one fails the suite (requireTools) instead.
const describeWithClients = describeUnless(
  IN_CI || missingTools().length === 0,
  needsPrograms(missingTools()),
);

/** Parses "4.00 MiB" (the site's formatSize) back into bytes. */
function parseSize(text: string): number {
  const match = text.trim().match(/^([0-9.]+) (B|KiB|MiB|GiB)$/);
  if (!match) throw new Error(`not a size: ${text}`);
  return Number(match[1]) * 1024 ** ["B", "KiB", "MiB", "GiB"].indexOf(match[2]!);
}

/** The value after a <dt>label</dt> on a page. */
function fact(html: string, label: string): string {
  const value = html.match(new RegExp(`<dt>${label}</dt>\\s*<dd[^>]*>([^<]*)</dd>`))?.[1];
  if (value === undefined) throw new Error(`no ${label} on the page`);
  return value;
}

function expectNear(actual: number, expected: number, what: string): void {
  if (Math.abs(actual - expected) > expected * 0.1)
    throw new Error(`${what} is ${actual}, not within 10% of ${expected}`);
}

describeWithClients("a real swarm through dist/fairywren", () => {
  let started = Date.now();
  let logs = "";
  let procs: Processes;
  let work = "";
  let home = "";
  let dropDatabase = async () => {};
  let serverEnv: Record<string, string> = {};
  let server: Subprocess;
  let web = "";
  let tracker = "";
  let clientPorts: number[] = [];
  const alice = { visitor: null as unknown as Visitor, torrent: "", passkey: "" };
  const bob = { visitor: null as unknown as Visitor, torrent: "", passkey: "", id: 0 };
  let torrentId = 0;
  let hash: Uint8Array = new Uint8Array();
  let payload: Uint8Array = new Uint8Array();
  let seeder: Subprocess;
  const step = (name: string) =>
    writeFileSync(join(logs, "steps.log"), `${((Date.now() - started) / 1000).toFixed(1)}s ${name}\n`, {
      flag: "a",
    });

  /** complete / incomplete / downloaded for the torrent, from a scrape with `passkey`. */
  async function scrape(passkey: string) {
    const response = await fetch(`${tracker}/${passkey}/scrape?info_hash=${escapeBytes(hash)}`);
    const body = new Uint8Array(await response.arrayBuffer());
    const reply = decodeStrict(body) as Map<string, unknown>;
    const files = reply.get("files") as Map<string, unknown> | undefined;
    if (!files) throw new Error(`scrape failed: ${Buffer.from(body).toString()}`);
    const entry = [...files.values()][0] as Map<string, number> | undefined;
    if (!entry) return { complete: 0, incomplete: 0, downloaded: 0 };
    return {
      complete: entry.get("complete")!,
      incomplete: entry.get("incomplete")!,
      downloaded: entry.get("downloaded")!,
    };
  }

  /** Seeders, leechers and snatches as the torrent's page shows them. */
  async function pageCounts() {
    const html = await alice.visitor.page(`/torrents/${torrentId}`);
    const count = (name: string) =>
      Number(html.match(new RegExp(`data-count="${name}">\\s*(\\d+)\\s*<`))?.[1] ?? Number.NaN);
    return { seeders: count("seeders"), leechers: count("leechers"), snatches: count("snatches") };
  }

  beforeAll(async () => {
    started = Date.now();
    logs = artifactsDir("swarm");
    procs = new Processes(logs);
    work = mkdtempSync(join(tmpdir(), "fw-e2e-swarm-"));
    home = join(work, "home");
    mkdirSync(home, { recursive: true });
    requireTools();
    await ensureBinary();
    step("binary ready");

    const database = await freshServerDatabase();
    dropDatabase = database.drop;
    const [webPort, trackerPort, metricsPort, ...peers] = await freePorts(5);
    clientPorts = peers;
    web = `http://127.0.0.1:${webPort}`;
    tracker = `http://127.0.0.1:${trackerPort}`;
    serverEnv = childEnv(home, {
      // An empty folder: the executable initialises its embedded database itself (unless DATABASE_URL).
      FAIRYWREN_DATA_DIR: SERVER_URL ? database.env.FAIRYWREN_DATA_DIR! : join(work, "data"),
      ...(SERVER_URL ? { DATABASE_URL: database.env.DATABASE_URL! } : {}),
      FAIRYWREN_WEB_HOST: "127.0.0.1",
      FAIRYWREN_TRACKER_HOST: "127.0.0.1",
      FAIRYWREN_WEB_PORT: String(webPort),
      FAIRYWREN_TRACKER_PORT: String(trackerPort),
      FAIRYWREN_METRICS_PORT: String(metricsPort),
      FAIRYWREN_TRACKER_URL: tracker,
      FAIRYWREN_FLUSH_INTERVAL_MS: "500",
      // Clients re-announce every ~10 s, and every re-announce counts.
      FAIRYWREN_ANNOUNCE_INTERVAL: "10",
      FAIRYWREN_MIN_ANNOUNCE_INTERVAL: "1",
      FAIRYWREN_LOG_LEVEL: "debug",
    });

    // The embedded database admits one process: the first member is made before the server starts.
    const adduser = procs.spawn("adduser", [BINARY, "adduser", "--name", "alice", "--password-stdin"], {
      cwd: work,
      env: serverEnv,
      stdin: `${PASSWORD}\n`,
    });
    expect(await exitWithin(adduser, 30_000)).toBe(0);
    expect(readFileSync(join(logs, "adduser.stdout.log"), "utf8")).toContain(
      "created alice (id 1) with roles: upload, trusted, invite, moderate, admin",
    );
    step("alice created");

    server = procs.spawn("server", [BINARY], { cwd: work, env: serverEnv });
    await waitFor("the web site and the tracker", 30_000, async () => {
      if (server.exitCode !== null) throw new Error(`the server exited with ${server.exitCode}`);
      const [a, b] = await Promise.all([fetch(`${web}/health`), fetch(`${tracker}/health`)]);
      return a.ok && b.ok;
    });
    step("server up");
  }, 90_000);

  afterAll(async () => {
    await procs?.dispose();
    await dropDatabase().catch(() => {});
    if (work) rmSync(work, { recursive: true, force: true });
    if (SERVER_URL) rmSync(serverEnv.FAIRYWREN_DATA_DIR ?? "/nonexistent", { recursive: true, force: true });
    step(`done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }, 30_000);

  test("alice logs in and invites bob, who registers through the link", async () => {
    alice.visitor = new Visitor(web, PASSWORD);
    await alice.visitor.login("alice");
    const invite = await alice.visitor.request("/invites", {
      body: new URLSearchParams({ days: "1", _csrf: await alice.visitor.csrf() }),
    });
    expect(invite.status).toBe(201);
    const link = (await invite.text()).match(/id="invite-link"[^>]*>\s*([^<\s]+)/)?.[1];
    expect(link).toStartWith(`${web}/register/`);

    bob.visitor = new Visitor(web, PASSWORD);
    const registered = await bob.visitor.request(new URL(link!).pathname, {
      body: new URLSearchParams({ name: "bob", password: PASSWORD, confirm: PASSWORD }),
    });
    expect(registered.status).toBe(303);
    expect(bob.visitor.cookie).toStartWith("fw_session=");
    step("bob registered");
  });

  test("alice uploads a .torrent made by mktorrent; each member downloads a personalised copy", async () => {
    const seedDir = join(work, "seed");
    mkdirSync(seedDir);
    payload = randomFile(join(seedDir, "payload.bin"), PAYLOAD_SIZE);
    const made = await makeTorrent(
      join(seedDir, "payload.bin"),
      `${tracker}/announce`,
      join(work, "made.torrent"),
    );
    const form = new FormData();
    form.set("file", new File([made], "payload.torrent", { type: "application/x-bittorrent" }));
    form.set("title", "End-to-end payload");
    form.set("_csrf", await alice.visitor.csrf());
    const upload = await alice.visitor.request("/upload", { body: form });
    expect(upload.status).toBe(303);
    const location = upload.headers.get("location")!;
    torrentId = Number(location.match(/^\/torrents\/(\d+)\?uploaded=/)?.[1]);
    expect(torrentId).toBeGreaterThan(0);

    for (const [name, member] of [
      ["alice", alice],
      ["bob", bob],
    ] as const) {
      const response = await member.visitor.request(`/torrents/${torrentId}/download`);
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toBe("application/x-bittorrent");
      const bytes = new Uint8Array(await response.arrayBuffer());
      member.torrent = join(work, `${name}.torrent`);
      writeFileSync(member.torrent, bytes);
      const meta = decodeStrict(bytes) as Map<string, unknown>;
      const announce = Buffer.from(meta.get("announce") as Uint8Array).toString();
      const passkey = announce.match(/^http:\/\/127\.0\.0\.1:\d+\/([0-9a-f]{32})\/announce$/)?.[1];
      expect(passkey).toBeDefined();
      member.passkey = passkey!;
      expect(meta.has("announce-list")).toBe(false);
      const info = meta.get("info") as Map<string, unknown>;
      expect(info.get("private")).toBe(1);
      if (hash.length === 0) hash = infoHash(bytes);
      else expect(infoHash(bytes)).toEqual(hash);
    }
    expect(alice.passkey).not.toBe(bob.passkey);
    // The site adds its `source` tag to a torrent already private: the hash changes, and the page says why.
    expect(location).toEndWith("?uploaded=source");
    expect(infoHash(made)).not.toEqual(hash);
    step(`torrent ${torrentId} uploaded`);
  });

  test("alice seeds with transmission-cli, bob leeches with aria2c and becomes a seeder", async () => {
    const [seedPort, leechPort] = clientPorts as [number, number];
    seeder = procs.spawn(
      "transmission-alice",
      transmissionCommand({
        torrent: alice.torrent,
        dir: join(work, "seed"),
        configDir: join(work, "transmission"),
        port: seedPort,
      }),
      { cwd: work, env: childEnv(home) },
    );
    // Transmission checks the data it was given, then announces as a seeder.
    await waitFor("alice's client as the torrent's seeder", 30_000, async () => {
      if (seeder.exitCode !== null) throw new Error(`transmission-cli exited with ${seeder.exitCode}`);
      const counts = await scrape(alice.passkey);
      return counts.complete === 1 && counts.incomplete === 0;
    });
    step("alice seeding");

    const leechDir = join(work, "leech");
    mkdirSync(leechDir);
    const leecher = procs.spawn(
      "aria2c-bob",
      aria2Command({
        torrent: bob.torrent,
        dir: leechDir,
        port: leechPort,
        log: join(logs, "aria2c-bob.log"),
        seedMinutes: 10,
        // 4 s for 4 MiB at least: long enough to see bob as a leecher on the way.
        downloadLimit: "1M",
      }),
      { cwd: work, env: childEnv(home) },
    );
    let sawLeecher = false;
    await waitFor(
      "bob's client to finish and announce as a seeder",
      60_000,
      async () => {
        if (leecher.exitCode !== null) throw new Error(`aria2c exited with ${leecher.exitCode}`);
        const counts = await scrape(bob.passkey);
        if (counts.complete === 1 && counts.incomplete === 1) sawLeecher = true;
        return counts.complete === 2 && counts.incomplete === 0 && counts.downloaded === 1;
      },
      100,
    );
    expect(sawLeecher).toBe(true);
    step("bob seeding");

    expect(
      await waitFor("the torrent page to show 2 seeders", 5_000, async () => {
        const counts = await pageCounts();
        return counts.seeders === 2 ? counts : null;
      }),
    ).toEqual({ seeders: 2, leechers: 0, snatches: 1 });

    const received = await waitFor("bob's copy of the payload", 10_000, () => {
      const file = join(leechDir, "payload.bin");
      return statSync(file, { throwIfNoEntry: false })?.size === PAYLOAD_SIZE && readFileSync(file);
    });
    expect(Buffer.compare(received, Buffer.from(payload))).toBe(0);

    // A graceful stop (SIGINT) sends event=stopped: bob leaves the swarm at once.
    await procs.stop(leecher, "SIGINT", 15_000);
    await waitFor("bob to leave the swarm", 10_000, async () => {
      const counts = await scrape(alice.passkey);
      return counts.complete === 1 && counts.incomplete === 0;
    });
    step("bob stopped");
  }, 120_000);

  test("the credit reaches both members' account pages", async () => {
    // Transmission reports its upload on its next regular announce (the interval is ~10 s).
    const aliceUploaded = await waitFor("alice's upload credit", 30_000, async () => {
      const bytes = parseSize(fact(await alice.visitor.page("/account"), "Uploaded"));
      return bytes >= PAYLOAD_SIZE * 0.9 && bytes;
    });
    expectNear(aliceUploaded, PAYLOAD_SIZE, "alice's uploaded on /account");
    const bobPage = await bob.visitor.page("/account");
    expectNear(parseSize(fact(bobPage, "Downloaded")), PAYLOAD_SIZE, "bob's downloaded on /account");
    expect(fact(bobPage, "Snatches")).toBe("1");
    step("credit on the account pages");
  }, 60_000);

  test("once alice disables bob, his client is refused with the disabled-account reason", async () => {
    const list = await alice.visitor.page("/admin/users?q=bob");
    bob.id = Number(list.match(/href="\/admin\/users\/(\d+)"[^>]*>\s*bob\s*</)?.[1]);
    expect(bob.id).toBeGreaterThan(1);
    const disable = await alice.visitor.request(`/admin/users/${bob.id}/disable`, {
      body: new URLSearchParams({ _csrf: await alice.visitor.csrf() }),
    });
    expect(disable.status).toBe(303);

    const reason = "Your account is disabled: contact the staff.";
    const query = announceQuery({
      infoHash: hash,
      peerId: new TextEncoder().encode("-XX0001-e2e-disabled"),
      left: 0,
    });
    const refused = await fetch(`${tracker}/${bob.passkey}/announce?${query}`);
    expect(await refused.text()).toBe(`d14:failure reason${reason.length}:${reason}e`);

    // bob's real client, started again on his complete copy, reads the same reason.
    const [, leechPort] = clientPorts as [number, number];
    const again = procs.spawn(
      "aria2c-bob-disabled",
      aria2Command({
        torrent: bob.torrent,
        dir: join(work, "leech"),
        port: leechPort,
        log: join(logs, "aria2c-bob-disabled.log"),
        seedMinutes: 10,
      }),
      { cwd: work, env: childEnv(home) },
    );
    await waitFor("aria2c to log the tracker's refusal", 20_000, () =>
      readFileSync(join(logs, "aria2c-bob-disabled.log"), "utf8").includes(reason),
    );
    await procs.stop(again, "SIGINT", 15_000);
    expect((await scrape(alice.passkey)).complete).toBe(1);
    // Nor can he log in any more.
    const login = await new Visitor(web, PASSWORD).request("/login", {
      body: new URLSearchParams({ name: "bob", password: PASSWORD }),
    });
    expect(login.status).toBe(403);
    step("bob disabled");
  }, 60_000);

  test("after a graceful stop the database holds the credit and exactly one snatch", async () => {
    await procs.stop(seeder, "SIGINT", 15_000);
    expect(await procs.stop(server, "SIGTERM", 15_000)).toBe(0);
    step("server stopped");
    const db = await openDatabase(SERVER_URL ? serverEnv.DATABASE_URL! : null, serverEnv.FAIRYWREN_DATA_DIR!);
    try {
      const users = await db.sql<{ name: string; uploaded: number; downloaded: number; disabled: boolean }[]>`
        select name, uploaded, downloaded, disabled from users order by id`;
      expect(users.map((u) => [u.name, u.disabled])).toEqual([
        ["alice", false],
        ["bob", true],
      ]);
      expectNear(users[0]!.uploaded, PAYLOAD_SIZE, "users.uploaded of alice");
      expectNear(users[1]!.downloaded, PAYLOAD_SIZE, "users.downloaded of bob");
      expect(users[0]!.downloaded).toBe(0);
      const [torrent] = await db.sql<{ snatches: number }[]>`
        select snatches from torrents where id = ${torrentId}`;
      expect(torrent!.snatches).toBe(1);
      const stats = await db.sql<
        { userId: number; completed: boolean; uploaded: number; downloaded: number }[]
      >`
        select user_id, completed_at is not null as completed, uploaded, downloaded
        from user_torrent_stats where torrent_id = ${torrentId} order by user_id`;
      expect(stats.map((s) => [s.userId, s.completed])).toEqual([
        [1, false],
        [bob.id, true],
      ]);
      expectNear(stats[0]!.uploaded, PAYLOAD_SIZE, "alice's upload on the torrent");
      expectNear(stats[1]!.downloaded, PAYLOAD_SIZE, "bob's download of the torrent");
      // Honest clients trip none of the plausibility rules.
      const [suspicious] = await db.sql<{ n: number }[]>`select count(*)::int as n from suspicious_transfers`;
      expect(suspicious!.n).toBe(0);
      step(`alice uploaded ${users[0]!.uploaded} B, bob downloaded ${users[1]!.downloaded} B`);
    } finally {
      await db.close();
    }
    step("database checked");
    expect(Date.now() - started).toBeLessThan(180_000);
  }, 60_000);
});
