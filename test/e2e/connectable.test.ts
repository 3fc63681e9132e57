// Connectable seeders end to end: the server runs with its prober on, a real BitTorrent client
// (aria2c) seeds a torrent through the tracker, and two more members announce as seeders: one at a
// port where nothing listens, one at a port that answers the handshake for another torrent. The
// prober finds aria2c connectable and the other two not (the API's peer list says so), and the
// seeding bonus for the hour pays aria2c's member alone, all three having completed the torrent.
// Logs stay in artifacts/e2e/connectable/.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TCPSocketListener } from "bun";
import { handshake } from "../../src/bridge/prober.ts";
import { connect, openDatabase, type Sql } from "../../src/db/client.ts";
import { migrate } from "../../src/db/migrate.ts";
import { earnHour } from "../../src/db/queries/economy.ts";
import { createToken } from "../../src/db/queries/tokens.ts";
import { createUser } from "../../src/db/queries/users.ts";
import { announceQuery } from "../helpers/announce.ts";
import { freshServerDatabase } from "../helpers/server.ts";
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
const SKIP = missingTools(TOOLS).length > 0 && !IN_CI;
const SIZE = 1024 * 1024;
const MAIN = join(ROOT, "src", "main.ts");
const HOUR = 3_600_000;

describe.skipIf(SKIP)("connectable seeders, probed by the server", () => {
  let work = "";
  let procs: Processes;
  let db: Awaited<ReturnType<typeof freshServerDatabase>>;
  let env: Record<string, string> = {};
  let web = "";
  let tracker = "";
  let hash: Uint8Array = new Uint8Array();
  let torrentId = 0;
  let token = "";
  let wrongHash: TCPSocketListener<undefined> | null = null;
  const members = {
    alice: { id: 0, passkey: "" },
    bob: { id: 0, passkey: "" },
    carol: { id: 0, passkey: "" },
  };

  const open = async (): Promise<{ sql: Sql; close(): Promise<void> }> => {
    if (db.env.DATABASE_URL) {
      const sql = connect(db.env.DATABASE_URL, 1);
      return { sql, close: () => sql.end() };
    }
    return openDatabase(null, db.env.FAIRYWREN_DATA_DIR!);
  };

  beforeAll(async () => {
    procs = new Processes(artifactsDir("connectable"));
    work = mkdtempSync(join(tmpdir(), "fw-e2e-connectable-"));
    requireTools(TOOLS);
    db = await freshServerDatabase();
    const [webPort, trackerPort] = (await freePorts(2)) as [number, number];
    web = `http://127.0.0.1:${webPort}`;
    tracker = `http://127.0.0.1:${trackerPort}`;
    env = childEnv(join(work, "home"), {
      ...db.env,
      FAIRYWREN_WEB_HOST: "127.0.0.1",
      FAIRYWREN_TRACKER_HOST: "127.0.0.1",
      FAIRYWREN_WEB_PORT: String(webPort),
      FAIRYWREN_TRACKER_PORT: String(trackerPort),
      FAIRYWREN_METRICS: "false",
      FAIRYWREN_FLUSH_INTERVAL_MS: "200",
      FAIRYWREN_ANNOUNCE_INTERVAL: "10",
      FAIRYWREN_MIN_ANNOUNCE_INTERVAL: "1",
      FAIRYWREN_CONNECTABLE_PROBES: "2",
      FAIRYWREN_LOG_LEVEL: "info",
    });
    for (const dir of ["home", "seed", "made"]) mkdirSync(join(work, dir));
    const setup = await open();
    await migrate(setup.sql);
    for (const name of ["alice", "bob", "carol"] as const) {
      const { user } = await createUser(setup.sql, { name, passwordHash: "x" });
      members[name] = { id: user.id, passkey: user.passkey };
    }
    token = (await createToken(setup.sql, members.alice.id, "probe check"))!.token;
    const file = join(work, "seed", "payload.bin");
    randomFile(file, SIZE);
    const bytes = await makeTorrent(
      file,
      `${tracker}/${members.alice.passkey}/announce`,
      join(work, "made", "alice.torrent"),
    );
    hash = infoHash(bytes);
    const [row] = await setup.sql<{ id: number }[]>`
      insert into torrents (info_hash, title, size, files, metainfo)
      values (${Buffer.from(hash)}, 'payload.bin', ${SIZE}, '[]', ${Buffer.from("de")})
      returning id
    `;
    torrentId = row!.id;
    await setup.close();
  }, 120_000);

  afterAll(async () => {
    wrongHash?.stop(true);
    await procs?.dispose();
    await db?.drop();
    if (work) rmSync(work, { recursive: true, force: true });
  }, 60_000);

  test("aria2c's seeder is connectable, the others are not, and only its member earns the bonus", async () => {
    const server = procs.spawn("fairywren", [process.execPath, MAIN], { cwd: work, env });
    await waitFor("the server to answer", 60_000, async () => {
      if (server.exitCode !== null) throw new Error(`the server exited with ${server.exitCode}`);
      return (await fetch(`${tracker}/health`)).ok;
    });
    const [seedPort, deadPort] = (await freePorts(2)) as [number, number];
    procs.spawn(
      "aria2c-alice",
      aria2Command({
        torrent: join(work, "made", "alice.torrent"),
        dir: join(work, "seed"),
        port: seedPort,
        log: join(artifactsDir("connectable"), "aria2c-alice.log"),
        seedMinutes: 10,
      }),
      { cwd: work, env: childEnv(join(work, "home")) },
    );
    // Carol's "client" answers every handshake, but for another torrent.
    const other = new Uint8Array(20).fill(7);
    wrongHash = Bun.listen({
      hostname: "127.0.0.1",
      port: 0,
      socket: {
        data(socket) {
          socket.write(handshake(other, new TextEncoder().encode("-XX0001-000000000000")));
        },
      },
    });
    const announce = async (name: "bob" | "carol", port: number) => {
      const peerId = new TextEncoder().encode(`-TR4000-${name.padEnd(12, "0")}`);
      const query = announceQuery({ infoHash: hash, peerId, port, left: 0, event: "started" });
      const response = await fetch(`${tracker}/${members[name].passkey}/announce?${query}`);
      expect(response.status).toBe(200);
    };
    await announce("bob", deadPort);
    await announce("carol", wrongHash.port);

    type Peers = { seeders: { member: { name: string } | null; connectable: string }[] };
    const states = await waitFor("every seeder probed", 90_000, async () => {
      const response = await fetch(`${web}/api/v1/torrents/${torrentId}/peers`, {
        headers: { authorization: `Bearer ${token}` },
      });
      if (!response.ok) return null;
      const body = (await response.json()) as Peers;
      const seen = Object.fromEntries(body.seeders.map((p) => [p.member?.name, p.connectable]));
      return Object.keys(seen).length === 3 && !Object.values(seen).includes("unknown") ? seen : null;
    });
    expect(states).toEqual({ alice: "yes", bob: "no", carol: "no" });
    // Stopped before the client, so that its peer stays saved as the hour's end finds it.
    expect(await procs.stop(server, "SIGTERM", 15_000)).toBe(0);

    const check = await open();
    try {
      // All three completed it here: the evidence of having the files is not what tells them apart.
      await check.sql`update user_torrent_stats set completed_at = now() where torrent_id = ${torrentId}`;
      const seeding = await check.sql<{ userId: number }[]>`
        select user_id as "userId" from user_torrent_stats where torrent_id = ${torrentId} and seeding order by user_id
      `;
      expect(seeding.length).toBe(3);
      const hour = new Date(Math.floor(Date.now() / HOUR) * HOUR);
      expect(await earnHour(check.sql, { pointsPerHour: 1, activeSeconds: 2 * 3600 }, hour)).toMatchObject({
        done: "earned",
        members: 1,
      });
      const earned = await check.sql<{ userId: number }[]>`
        select user_id as "userId" from bonus_ledger where reason = 'seeding'
      `;
      expect(earned.map((r) => Number(r.userId))).toEqual([members.alice.id]);
    } finally {
      await check.close();
    }
  }, 240_000);
});
