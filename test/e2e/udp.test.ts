// A real swarm over the UDP tracker: two libtorrent (rasterbar) peers from Debian's
// python3-libtorrent, each on its own loopback address, given the personalised .torrent the site
// hands out (its UDP URL in `announce-list`) and nothing but that UDP tracker. The leecher completes
// the download; each member must be credited exactly what the clients moved, the torrent must get
// one snatch, and nothing may be recorded as suspicious. Logs stay in artifacts/e2e/udp/.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { rssKey } from "../../src/db/queries/tokens.ts";
import { createUser } from "../../src/db/queries/users.ts";
import { decodeStrict } from "../helpers/bdecode.ts";
import { startTestServer } from "../helpers/server.ts";
import { connectId, readReply, scrapePacket, udpClient } from "../helpers/udp.ts";
import {
  artifactsDir,
  childEnv,
  exitWithin,
  freePorts,
  IN_CI,
  infoHash,
  makeTorrent,
  Processes,
  randomFile,
  transmissionCommand,
  waitFor,
} from "./support.ts";

const PYTHON = "/usr/bin/python3";
const SCRIPT = join(import.meta.dir, "udp-peer.py");
const SIZE = 3 * 1024 * 1024;
const SEED_ADDRESS = "127.0.0.2";
const GET_ADDRESS = "127.0.0.3";

/** Whether Debian's libtorrent bindings are importable (CI installs them). */
function hasLibtorrent(): boolean {
  if (!existsSync(PYTHON)) return false;
  return Bun.spawnSync([PYTHON, "-c", "import libtorrent"]).exitCode === 0;
}

const SKIP = !hasLibtorrent() && !IN_CI;

/** One peer's status lines (JSON, one a line), parsed. */
type Line = Record<string, unknown>;

function lines(file: string): Line[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, "utf8")
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as Line);
}

describe.skipIf(SKIP)("a libtorrent swarm over the UDP tracker: exact credit, one snatch", () => {
  let logs = "";
  let work = "";
  let procs: Processes;
  let server: Awaited<ReturnType<typeof startTestServer>>;
  const members = { alice: { id: 0, passkey: "" }, bob: { id: 0, passkey: "" } };
  let torrentId = 0;
  let hash: Uint8Array = new Uint8Array();
  let data: Uint8Array = new Uint8Array();
  const peers: Record<"seed" | "get", { proc: Subprocess | null; log: string; stop: string }> = {
    seed: { proc: null, log: "", stop: "" },
    get: { proc: null, log: "", stop: "" },
  };

  beforeAll(async () => {
    logs = artifactsDir("udp");
    procs = new Processes(logs);
    work = mkdtempSync(join(tmpdir(), "fw-e2e-udp-"));
    server = await startTestServer({
      FAIRYWREN_UDP_PORT: "0",
      FAIRYWREN_ANNOUNCE_INTERVAL: "10",
      FAIRYWREN_MIN_ANNOUNCE_INTERVAL: "1",
      FAIRYWREN_LOG_LEVEL: "warn",
    });
    const sql = server.running.db.sql;
    for (const name of ["alice", "bob"] as const) {
      const { user } = await createUser(sql, { name, passwordHash: "x" });
      await server.running.sync.user(user.id);
      members[name] = { id: user.id, passkey: user.passkey };
    }
    for (const dir of ["seed", "get", "made"]) mkdirSync(join(work, dir));
    const file = join(work, "seed", "udp.bin");
    data = randomFile(file, SIZE);
    // The site's copy: the announce URL in it is replaced in every member's download.
    const made = await makeTorrent(
      file,
      "http://example.invalid/announce",
      join(work, "made", "udp.torrent"),
    );
    hash = infoHash(made);
    const [row] = await sql`
      insert into torrents (info_hash, title, size, files, metainfo)
      values (${Buffer.from(hash)}, 'udp.bin', ${SIZE}, '[]', ${Buffer.from(made)})
      returning id
    `;
    torrentId = row!.id as number;
    await server.running.sync.torrent(torrentId);
  }, 60_000);

  afterAll(async () => {
    await procs?.dispose();
    await server?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  }, 60_000);

  test("the site's .torrent lists the UDP tracker after the HTTP one, on the same host", async () => {
    const udpPort = server.running.udpPort!;
    for (const name of ["alice", "bob"] as const) {
      const key = await rssKey(server.running.db.sql, members[name].id);
      const response = await fetch(`${server.web}/rss/${key}/download/${torrentId}`);
      expect(response.status).toBe(200);
      const bytes = new Uint8Array(await response.arrayBuffer());
      const top = decodeStrict(bytes) as Map<string, unknown>;
      const text = (value: unknown) => Buffer.from(value as Uint8Array).toString();
      const passkey = members[name].passkey;
      const http = `http://127.0.0.1:${server.running.trackerPort}/${passkey}/announce`;
      const udp = `udp://127.0.0.1:${udpPort}/${passkey}/announce`;
      expect(text(top.get("announce"))).toBe(http);
      const tiers = (top.get("announce-list") as unknown[][]).map((tier) => tier.map(text));
      expect(tiers).toEqual([[http], [udp]]);
      writeFileSync(join(work, "made", `${name}.torrent`), bytes);
    }
  });

  test("alice seeds and bob downloads, over UDP only", async () => {
    const [seedPort, getPort] = (await freePorts(2)) as [number, number];
    const start = (role: "seed" | "get", name: "alice" | "bob", address: string, port: number) => {
      const peer = peers[role];
      peer.stop = join(work, `${role}.stop`);
      peer.log = join(logs, `${role}.stdout.log`);
      peer.proc = procs.spawn(
        role,
        [
          PYTHON,
          SCRIPT,
          join(work, "made", `${name}.torrent`),
          join(work, role),
          address,
          String(port),
          peer.stop,
        ],
        { cwd: work, env: childEnv(join(work, "seed")) },
      );
    };
    start("seed", "alice", SEED_ADDRESS, seedPort);
    await waitFor("alice's seeder in the swarm", 30_000, () => {
      if (peers.seed.proc!.exitCode !== null) throw new Error("the seeder exited");
      const last = lines(peers.seed.log)
        .filter((l) => "progress" in l)
        .at(-1);
      return last?.seeding === true && lines(peers.seed.log).some((l) => l.alert === "tracker_reply_alert");
    });
    start("get", "bob", GET_ADDRESS, getPort);
    await waitFor(
      "bob's download",
      90_000,
      () => {
        if (peers.get.proc!.exitCode !== null) throw new Error("the leecher exited");
        return (
          lines(peers.get.log)
            .filter((l) => "progress" in l)
            .at(-1)?.progress === 1
        );
      },
      250,
    );
    expect(readFileSync(join(work, "get", "udp.bin")).equals(Buffer.from(data))).toBe(true);
    // Every tracker either client used was the UDP one; none refused them.
    for (const peer of [peers.seed, peers.get]) {
      const all = lines(peer.log);
      const urls = (all.find((l) => "udp" in l)?.udp ?? []) as string[];
      expect(urls.length).toBe(1);
      expect(urls[0]).toStartWith("udp://");
      expect(all.filter((l) => l.alert === "tracker_error_alert")).toEqual([]);
    }
  }, 150_000);

  test("Transmission sends no URL data: its UDP announces are refused with the reason to use the HTTP URL", async () => {
    if (!Bun.which("transmission-cli")) return;
    const metrics = `http://127.0.0.1:${server.running.metricsPort}/metrics`;
    const refused = async () => {
      const text = await (await fetch(metrics)).text();
      const line = text.split("\n").find((l) => l.includes('outcome="udp_needs_passkey"'));
      return line ? Number(line.split(" ").at(-1)) : 0;
    };
    const before = await refused();
    const udp = `udp://127.0.0.1:${server.running.udpPort}/${members.bob.passkey}/announce`;
    mkdirSync(join(work, "tr"), { recursive: true });
    const torrent = join(work, "made", "transmission.torrent");
    await makeTorrent(join(work, "seed", "udp.bin"), udp, torrent);
    const [port] = (await freePorts(1)) as [number];
    const proc = procs.spawn(
      "transmission",
      transmissionCommand({ torrent, dir: join(work, "tr"), configDir: join(work, "tr-config"), port }),
      { cwd: work, env: childEnv(join(work, "seed")) },
    );
    await waitFor("Transmission's refused UDP announce", 30_000, async () => {
      if (proc.exitCode !== null) throw new Error("transmission-cli exited");
      return (await refused()) > before;
    });
    await procs.stop(proc, "SIGKILL", 5000);
  }, 60_000);

  test("both leave; each member is credited exactly what the clients moved, the torrent one snatch", async () => {
    // What the clients counted once nothing moves any more.
    await waitFor("the seeder's final upload count", 15_000, () => {
      const last = lines(peers.seed.log)
        .filter((l) => "uploaded" in l)
        .at(-1);
      return (last?.uploaded as number) >= SIZE;
    });
    for (const role of ["get", "seed"] as const) {
      writeFileSync(peers[role].stop, "");
      expect(await exitWithin(peers[role].proc!, 30_000)).toBe(0);
    }
    const seedFinal = lines(peers.seed.log).find((l) => l.final === true)!;
    const getFinal = lines(peers.get.log).find((l) => l.final === true)!;
    expect([seedFinal.uploaded, getFinal.downloaded]).toEqual([SIZE, SIZE]);
    expect([seedFinal.stopped_answered, getFinal.stopped_answered]).toEqual([true, true]);

    // The swarm is empty and the snatch counted, as a UDP scrape from alice's address shows.
    const client = await udpClient("127.0.0.1", server.running.udpPort!, SEED_ADDRESS);
    try {
      const id = await connectId(client);
      const reply = readReply((await client.ask(scrapePacket(id, 1, [hash])))!);
      expect(reply).toEqual({ action: 2, tid: 1, counts: [{ seeders: 0, completed: 1, leechers: 0 }] });
    } finally {
      client.close();
    }

    const sql = server.running.db.sql;
    const rows = await waitFor("the credit in the database", 20_000, async () => {
      const stats = await sql<{ member: string; up: number; down: number; done: boolean }[]>`
        select u.name as member, s.uploaded as up, s.downloaded as down, s.completed_at is not null as done
        from user_torrent_stats s join users u on u.id = s.user_id
        order by u.name`;
      return stats.length === 2 && stats.every((s) => s.up + s.down === SIZE) && stats;
    });
    expect([...rows]).toEqual([
      { member: "alice", up: SIZE, down: 0, done: false },
      { member: "bob", up: 0, down: SIZE, done: true },
    ]);
    const [torrent] = await sql`select snatches from torrents where id = ${torrentId}`;
    expect(torrent!.snatches).toBe(1);
    const [suspicious] = await sql`select count(*)::int as n from suspicious_transfers`;
    expect(suspicious!.n).toBe(0);
  }, 90_000);
});
