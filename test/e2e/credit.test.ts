// qBittorrent (libtorrent-rasterbar) and rtorrent (libtorrent-rakshasa) from Debian through a real
// Fairywren on loopback: each seeds one torrent to the other and downloads the other's, then both
// leave. Each member must be credited exactly what the clients moved (payload bytes, as both
// clients count them), each torrent must get exactly one snatch (rtorrent never sends
// `completed`), and nothing may be recorded as suspicious. Every client has its own loopback
// address, as rtorrent keeps one connection per address. Logs stay in artifacts/e2e/credit/.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { createUser } from "../../src/db/queries/users.ts";
import { escapeBytes } from "../helpers/announce.ts";
import { decodeStrict } from "../helpers/bdecode.ts";
import { startTestServer } from "../helpers/server.ts";
import { describeUnless, needsPrograms } from "../helpers/skip.ts";
import {
  artifactsDir,
  childEnv,
  exitWithin,
  freePorts,
  IN_CI,
  infoHash,
  MORE_CLIENT_TOOLS,
  makeTorrent,
  missingTools,
  Processes,
  qbittorrentApi,
  qbittorrentProfile,
  randomFile,
  requireTools,
  rtorrentCall,
  rtorrentConfig,
  versionLine,
  waitFor,
} from "./support.ts";

const describeWithClients = describeUnless(
  missingTools(MORE_CLIENT_TOOLS).length === 0 || IN_CI,
  needsPrograms(missingTools(MORE_CLIENT_TOOLS)),
);
const SIZE = 4 * 1024 * 1024;
const QB_ADDRESS = "127.0.0.2";
const RT_ADDRESS = "127.0.0.3";

describeWithClients("qBittorrent and rtorrent through Fairywren: exact credit, one snatch each", () => {
  let logs = "";
  let work = "";
  let procs: Processes;
  let server: Awaited<ReturnType<typeof startTestServer>>;
  let qb: ReturnType<typeof qbittorrentApi>;
  let qbProc: Subprocess;
  let rtProc: Subprocess;
  let rtSocket = "";
  const members = { alice: { id: 0, passkey: "" }, bob: { id: 0, passkey: "" } };
  /** qb.bin is seeded by qBittorrent (alice) and fetched by rtorrent (bob); rt.bin the other way. */
  const torrents: Record<"qb" | "rt", { id: number; hash: Uint8Array; data: Uint8Array }> = {
    qb: { id: 0, hash: new Uint8Array(), data: new Uint8Array() },
    rt: { id: 0, hash: new Uint8Array(), data: new Uint8Array() },
  };

  /** complete / incomplete / downloaded of a torrent, from a scrape. */
  async function scrape(hash: Uint8Array): Promise<[number, number, number]> {
    const response = await fetch(
      `${server.tracker}/${members.alice.passkey}/scrape?info_hash=${escapeBytes(hash)}`,
    );
    const reply = decodeStrict(new Uint8Array(await response.arrayBuffer())) as Map<string, unknown>;
    const entry = [...(reply.get("files") as Map<string, Map<string, number>>).values()][0]!;
    return [entry.get("complete")!, entry.get("incomplete")!, entry.get("downloaded")!];
  }

  beforeAll(async () => {
    logs = artifactsDir("credit");
    procs = new Processes(logs);
    work = mkdtempSync(join(tmpdir(), "fw-e2e-credit-"));
    requireTools(MORE_CLIENT_TOOLS);
    server = await startTestServer({ FAIRYWREN_LOG_LEVEL: "warn" });
    const sql = server.running.db.sql;
    for (const name of ["alice", "bob"] as const) {
      const { user } = await createUser(sql, { name, passwordHash: "x" });
      await server.running.sync.user(user.id);
      members[name] = { id: user.id, passkey: user.passkey };
    }
    for (const dir of ["home", "qb-seed", "qb-get", "rt-seed", "rt-get", "made"]) mkdirSync(join(work, dir));
    // One .torrent per member for each payload (their passkey in the URL), same info, same hash.
    for (const [key, seedDir] of [
      ["qb", "qb-seed"],
      ["rt", "rt-seed"],
    ] as const) {
      const file = join(work, seedDir, `${key}.bin`);
      torrents[key].data = randomFile(file, SIZE);
      for (const name of ["alice", "bob"] as const) {
        const url = `${server.tracker}/${members[name].passkey}/announce`;
        const bytes = await makeTorrent(file, url, join(work, "made", `${key}-${name}.torrent`));
        torrents[key].hash = infoHash(bytes);
      }
      const [row] = await sql`
        insert into torrents (info_hash, title, size, files, metainfo)
        values (${Buffer.from(torrents[key].hash)}, ${`${key}.bin`}, ${SIZE}, '[]', ${Buffer.from("de")})
        returning id
      `;
      torrents[key].id = row!.id as number;
      await server.running.sync.torrent(torrents[key].id);
    }
  }, 60_000);

  afterAll(async () => {
    await procs?.dispose();
    await server?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  }, 60_000);

  test("both clients seed one torrent and download the other", async () => {
    const [qbPeer, qbWeb, rtPeer] = (await freePorts(3)) as [number, number, number];
    const profile = join(work, "qb-profile");
    qbittorrentProfile(profile, {
      address: QB_ADDRESS,
      peerPort: qbPeer,
      webPort: qbWeb,
      saveDir: join(work, "qb-get"),
    });
    qbProc = procs.spawn("qbittorrent", ["qbittorrent-nox", `--profile=${profile}`], {
      cwd: work,
      env: childEnv(join(work, "home")),
    });
    qb = qbittorrentApi(qbWeb);
    const qbVersion = await waitFor("qBittorrent's WebUI", 20_000, async () => {
      if (qbProc.exitCode !== null) throw new Error(`qbittorrent-nox exited with ${qbProc.exitCode}`);
      return qb.version();
    });
    rtSocket = join(work, "rt", "rpc.socket");
    const rc = rtorrentConfig(join(work, "rt"), {
      address: RT_ADDRESS,
      port: rtPeer,
      socket: rtSocket,
      downloadDir: join(work, "rt-get"),
    });
    rtProc = procs.spawn("rtorrent", ["rtorrent", "-n", "-o", `import=${rc}`], {
      cwd: work,
      env: childEnv(join(work, "home"), { TERM: "dumb" }),
    });
    await waitFor("rtorrent's XML-RPC socket", 20_000, async () => {
      if (rtProc.exitCode !== null) throw new Error(`rtorrent exited with ${rtProc.exitCode}`);
      return (await rtorrentCall(rtSocket, "system.client_version")) !== "";
    });
    const rtVersion = await versionLine(["rtorrent", "-h"]);

    // Seeds first: each checks the data it was given, then announces as a seeder.
    await qb.add(join(work, "made", "qb-alice.torrent"), join(work, "qb-seed"));
    await rtorrentCall(
      rtSocket,
      "load.start",
      "",
      join(work, "made", "rt-bob.torrent"),
      `d.directory.set=${join(work, "rt-seed")}`,
    );
    await waitFor("both seeders in their swarms", 30_000, async () => {
      const [a, b] = await Promise.all([scrape(torrents.qb.hash), scrape(torrents.rt.hash)]);
      return a[0] === 1 && b[0] === 1;
    });
    await qb.add(join(work, "made", "rt-alice.torrent"), join(work, "qb-get"));
    await rtorrentCall(rtSocket, "load.start", "", join(work, "made", "qb-bob.torrent"));

    const rtHash = Buffer.from(torrents.qb.hash).toString("hex").toUpperCase();
    await waitFor(
      "both downloads",
      60_000,
      async () => {
        if (qbProc.exitCode !== null || rtProc.exitCode !== null) throw new Error("a client exited");
        const qbDone = (await qb.torrents()).find((t) => t.name === "rt.bin")?.progress === 1;
        const rtDone = (await rtorrentCall(rtSocket, "d.complete", rtHash)) === "1";
        return qbDone && rtDone;
      },
      250,
    );
    expect(readFileSync(join(work, "qb-get", "rt.bin")).equals(Buffer.from(torrents.rt.data))).toBe(true);
    expect(readFileSync(join(work, "rt-get", "qb.bin")).equals(Buffer.from(torrents.qb.data))).toBe(true);
    expect(qbVersion).toMatch(/^v\d/);
    expect(rtVersion).toContain("BitTorrent client");
  }, 120_000);

  test("both leave; each member is credited exactly what the clients moved, each torrent one snatch", async () => {
    // What the clients counted, once nothing moves any more (both torrents complete on both sides);
    // qBittorrent refreshes its figures every second or two after the transfer.
    const [qbSeeded, qbFetched] = await waitFor("qBittorrent's final counters", 15_000, async () => {
      const listed = await qb.torrents();
      const seeded = listed.find((t) => t.name === "qb.bin")!;
      const fetched = listed.find((t) => t.name === "rt.bin")!;
      return seeded.uploaded >= SIZE && fetched.downloaded >= SIZE && [seeded, fetched];
    });
    const rtSeed = Buffer.from(torrents.rt.hash).toString("hex").toUpperCase();
    const rtGet = Buffer.from(torrents.qb.hash).toString("hex").toUpperCase();
    const rtUp = Number(await rtorrentCall(rtSocket, "d.up.total", rtSeed));
    const rtDown = Number(await rtorrentCall(rtSocket, "d.down.total", rtGet));
    expect([qbSeeded.uploaded, qbFetched.downloaded, rtUp, rtDown]).toEqual([SIZE, SIZE, SIZE, SIZE]);

    // rtorrent leaves first: its `stopped` with left=0 is its completion of qb.bin.
    await rtorrentCall(rtSocket, "system.shutdown.normal");
    expect(await exitWithin(rtProc, 30_000)).toBe(0);
    await qb.pauseAll();
    await waitFor("both swarms to empty", 30_000, async () => {
      const [a, b] = await Promise.all([scrape(torrents.qb.hash), scrape(torrents.rt.hash)]);
      return a[0] + a[1] + b[0] + b[1] === 0 && [a, b];
    });
    await qb.shutdown();
    await exitWithin(qbProc, 20_000);
    expect(await scrape(torrents.qb.hash)).toEqual([0, 0, 1]);
    expect(await scrape(torrents.rt.hash)).toEqual([0, 0, 1]);

    const sql = server.running.db.sql;
    const rows = await waitFor("the credit in the database", 20_000, async () => {
      const stats = await sql<{ member: string; torrent: string; up: number; down: number; done: boolean }[]>`
        select u.name as member, t.title as torrent, s.uploaded as up, s.downloaded as down,
          s.completed_at is not null as done
        from user_torrent_stats s join users u on u.id = s.user_id join torrents t on t.id = s.torrent_id
        order by u.name, t.title`;
      return stats.length === 4 && stats.every((s) => s.up + s.down === SIZE) && stats;
    });
    expect([...rows]).toEqual([
      { member: "alice", torrent: "qb.bin", up: SIZE, down: 0, done: false },
      { member: "alice", torrent: "rt.bin", up: 0, down: SIZE, done: true },
      { member: "bob", torrent: "qb.bin", up: 0, down: SIZE, done: true },
      { member: "bob", torrent: "rt.bin", up: SIZE, down: 0, done: false },
    ]);
    const users = await sql`select name, uploaded, downloaded from users order by name`;
    expect([...users]).toEqual([
      { name: "alice", uploaded: SIZE, downloaded: SIZE },
      { name: "bob", uploaded: SIZE, downloaded: SIZE },
    ]);
    const snatches = await sql`select title, snatches from torrents order by title`;
    expect([...snatches]).toEqual([
      { title: "qb.bin", snatches: 1 },
      { title: "rt.bin", snatches: 1 },
    ]);
    // Honest clients trip none of the plausibility rules.
    const [suspicious] = await sql`select count(*)::int as n from suspicious_transfers`;
    expect(suspicious!.n).toBe(0);
  }, 90_000);
});
