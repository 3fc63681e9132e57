// A server restart in the middle of a real-client swarm loses no byte: aria2c seeds to another
// aria2c, rate-limited so that the download spans the restart; the server process is stopped
// (SIGTERM) mid-download while the clients go on moving data between them, and started again.
// The peers saved with the credit are restored before the tracker listens, so each client's first
// announce after the restart is credited from its last baseline; under byte conservation (on, the
// default) the seeder's upload claims still waiting for the leecher's download are saved with them
// and restored too: the seeder is credited exactly what the leecher downloaded, and both exactly
// the payload. Logs stay in artifacts/e2e/restart/.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { connect, openDatabase, type Sql } from "../../src/db/client.ts";
import { migrate } from "../../src/db/migrate.ts";
import { createUser } from "../../src/db/queries/users.ts";
import { escapeBytes } from "../helpers/announce.ts";
import { decodeStrict } from "../helpers/bdecode.ts";
import { freshServerDatabase } from "../helpers/server.ts";
import { describeUnless, needsPrograms } from "../helpers/skip.ts";
import {
  aria2Command,
  artifactsDir,
  childEnv,
  freePorts,
  IN_CI,
  infoHash,
  makeTorrent,
  missingTools,
  Processes,
  ROOT,
  randomFile,
  requireTools,
  waitFor,
} from "./support.ts";

const TOOLS = ["aria2c", "mktorrent"] as const;
const describeWithClients = describeUnless(
  missingTools(TOOLS).length === 0 || IN_CI,
  needsPrograms(missingTools(TOOLS)),
);
const SIZE = 4 * 1024 * 1024;
const MAIN = join(ROOT, "src", "main.ts");

describeWithClients("a server restart in the middle of a real-client swarm", () => {
  let logs = "";
  let work = "";
  let procs: Processes;
  let db: Awaited<ReturnType<typeof freshServerDatabase>>;
  let env: Record<string, string> = {};
  let tracker = "";
  let server: Subprocess | null = null;
  let hash: Uint8Array = new Uint8Array();
  let payload: Uint8Array = new Uint8Array();
  let torrentId = 0;
  const members = { alice: { id: 0, passkey: "" }, bob: { id: 0, passkey: "" } };

  const open = async (): Promise<{ sql: Sql; close(): Promise<void> }> => {
    if (db.env.DATABASE_URL) {
      const sql = connect(db.env.DATABASE_URL, 1);
      return { sql, close: () => sql.end() };
    }
    return openDatabase(null, db.env.FAIRYWREN_DATA_DIR!);
  };

  async function scrape(): Promise<{ complete: number; incomplete: number }> {
    const response = await fetch(`${tracker}/${members.alice.passkey}/scrape?info_hash=${escapeBytes(hash)}`);
    const reply = decodeStrict(new Uint8Array(await response.arrayBuffer())) as Map<string, unknown>;
    const entry = [...(reply.get("files") as Map<string, Map<string, number>>).values()][0];
    return { complete: entry?.get("complete") ?? 0, incomplete: entry?.get("incomplete") ?? 0 };
  }

  async function startServer(name: string): Promise<Subprocess> {
    const proc = procs.spawn(name, [process.execPath, MAIN], { cwd: work, env });
    await waitFor(`${name} to answer`, 30_000, async () => {
      if (proc.exitCode !== null) throw new Error(`${name} exited with ${proc.exitCode}`);
      return (await fetch(`${tracker}/health`)).ok;
    });
    return proc;
  }

  beforeAll(async () => {
    logs = artifactsDir("restart");
    procs = new Processes(logs);
    work = mkdtempSync(join(tmpdir(), "fw-e2e-restart-"));
    requireTools(TOOLS);
    db = await freshServerDatabase();
    const [webPort, trackerPort] = (await freePorts(2)) as [number, number];
    tracker = `http://127.0.0.1:${trackerPort}`;
    env = childEnv(join(work, "home"), {
      ...db.env,
      FAIRYWREN_WEB_HOST: "127.0.0.1",
      FAIRYWREN_TRACKER_HOST: "127.0.0.1",
      FAIRYWREN_WEB_PORT: String(webPort),
      FAIRYWREN_TRACKER_PORT: String(trackerPort),
      FAIRYWREN_METRICS: "false",
      FAIRYWREN_FLUSH_INTERVAL_MS: "200",
      // aria2 re-announces as often as `min interval` allows.
      FAIRYWREN_ANNOUNCE_INTERVAL: "10",
      FAIRYWREN_MIN_ANNOUNCE_INTERVAL: "1",
      FAIRYWREN_LOG_LEVEL: "info",
    });
    for (const dir of ["home", "seed", "get", "made"]) mkdirSync(join(work, dir));
    const setup = await open();
    await migrate(setup.sql);
    for (const name of ["alice", "bob"] as const) {
      const { user } = await createUser(setup.sql, { name, passwordHash: "x" });
      members[name] = { id: user.id, passkey: user.passkey };
    }
    const file = join(work, "seed", "payload.bin");
    payload = randomFile(file, SIZE);
    for (const name of ["alice", "bob"] as const) {
      const bytes = await makeTorrent(
        file,
        `${tracker}/${members[name].passkey}/announce`,
        join(work, "made", `${name}.torrent`),
      );
      hash = infoHash(bytes);
    }
    const [row] = await setup.sql<{ id: number }[]>`
      insert into torrents (info_hash, title, size, files, metainfo)
      values (${Buffer.from(hash)}, 'payload.bin', ${SIZE}, '[]', ${Buffer.from("de")})
      returning id
    `;
    torrentId = row!.id;
    await setup.close();
  }, 120_000);

  afterAll(async () => {
    await procs?.dispose();
    await db?.drop();
    if (work) rmSync(work, { recursive: true, force: true });
  }, 60_000);

  test("the seeder is credited exactly what the leecher downloaded, across the restart", async () => {
    server = await startServer("fairywren-1");
    const [seedPort, leechPort] = (await freePorts(2)) as [number, number];
    const seeder = procs.spawn(
      "aria2c-alice",
      aria2Command({
        torrent: join(work, "made", "alice.torrent"),
        dir: join(work, "seed"),
        port: seedPort,
        log: join(logs, "aria2c-alice.log"),
        seedMinutes: 10,
      }),
      { cwd: work, env: childEnv(join(work, "home")) },
    );
    await waitFor("alice's client as the seeder", 30_000, async () => (await scrape()).complete === 1);
    // 4 MiB at 256 KiB/s: 16 s, so the restart falls in the middle of it.
    const leecher = procs.spawn(
      "aria2c-bob",
      aria2Command({
        torrent: join(work, "made", "bob.torrent"),
        dir: join(work, "get"),
        port: leechPort,
        log: join(logs, "aria2c-bob.log"),
        seedMinutes: 10,
        downloadLimit: "256K",
      }),
      { cwd: work, env: childEnv(join(work, "home")) },
    );
    await waitFor("bob's client as a leecher", 30_000, async () => (await scrape()).incomplete === 1);
    // Some of the payload moves and is reported before the restart.
    await Bun.sleep(4000);
    expect(await procs.stop(server, "SIGTERM", 15_000)).toBe(0);
    // The clients keep moving data while the tracker is away.
    await Bun.sleep(2000);
    server = await startServer("fairywren-2");
    // Both peers are back in the swarm before either announces again.
    expect(await scrape()).toEqual({ complete: 1, incomplete: 1 });
    await waitFor("bob's client to finish and announce as a seeder", 60_000, async () => {
      if (leecher.exitCode !== null || seeder.exitCode !== null) throw new Error("a client exited");
      return (await scrape()).complete === 2;
    });
    expect(readFileSync(join(work, "get", "payload.bin")).equals(Buffer.from(payload))).toBe(true);
    // A graceful stop (SIGINT) sends each client's final counters with `stopped`.
    await procs.stop(leecher, "SIGINT", 15_000);
    await procs.stop(seeder, "SIGINT", 15_000);
    await waitFor("both clients to leave", 15_000, async () => {
      const counts = await scrape();
      return counts.complete + counts.incomplete === 0;
    });
    expect(await procs.stop(server, "SIGTERM", 15_000)).toBe(0);
    server = null;

    const check = await open();
    try {
      const users = await check.sql<{ id: number; uploaded: number; downloaded: number }[]>`
        select id, uploaded, downloaded from users order by id
      `;
      const stats = await check.sql<{ userId: number; uploaded: number; downloaded: number }[]>`
        select user_id, uploaded, downloaded from user_torrent_stats where torrent_id = ${torrentId} order by user_id
      `;
      const alice = users.find((u) => u.id === members.alice.id)!;
      const bob = users.find((u) => u.id === members.bob.id)!;
      expect(bob.downloaded).toBe(SIZE);
      expect(alice.uploaded).toBe(bob.downloaded);
      expect(stats.map((s) => [s.userId, s.uploaded, s.downloaded])).toEqual([
        [members.alice.id, SIZE, 0],
        [members.bob.id, 0, SIZE],
      ]);
    } finally {
      await check.close();
    }
  }, 180_000);
});
