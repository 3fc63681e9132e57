// Restarts lose nothing: the tracker's peers (their last counters, their swarm membership, the
// grace store) are saved with each credit batch and restored before the tracker listens again, so
// the first announce after a restart (SIGTERM, or kill -9) is credited its full delta, nothing is
// credited twice, and a peer that never said `stopped` expires on time, its history row with it.
// Real server processes over real sockets, in one process and with `--only tracker`.
import { afterAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { connect, openDatabase, type Sql } from "../../src/db/client.ts";
import { migrate } from "../../src/db/migrate.ts";
import { createUser } from "../../src/db/queries/users.ts";
import { announceQuery, bytes20, escapeBytes } from "../helpers/announce.ts";
import { freePort } from "../helpers/ports.ts";
import { freshServerDatabase } from "../helpers/server.ts";

const MAIN = join(import.meta.dir, "../../src/main.ts");
const HASH = bytes20(0x51);

type Mode = "one process" | "--only tracker";
const MODES: Mode[] = process.env.DATABASE_URL ? ["one process", "--only tracker"] : ["one process"];

/** A Fairywren on a fresh database, started and stopped as real processes. */
async function site(extraEnv: Record<string, string> = {}) {
  const db = await freshServerDatabase();
  const webPort = await freePort();
  const trackerPort = await freePort();
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "",
    ...db.env,
    FAIRYWREN_WEB_HOST: "127.0.0.1",
    FAIRYWREN_TRACKER_HOST: "127.0.0.1",
    FAIRYWREN_WEB_PORT: String(webPort),
    FAIRYWREN_TRACKER_PORT: String(trackerPort),
    FAIRYWREN_METRICS: "false",
    FAIRYWREN_FLUSH_INTERVAL_MS: "200",
    FAIRYWREN_MIN_ANNOUNCE_INTERVAL: "0",
    FAIRYWREN_LOG_LEVEL: "error",
    ...extraEnv,
  };
  const open = async (): Promise<{ sql: Sql; close(): Promise<void> }> => {
    if (db.env.DATABASE_URL) {
      const sql = connect(db.env.DATABASE_URL, 1);
      return { sql, close: () => sql.end() };
    }
    // The embedded database serves one process: only while the server is down.
    return openDatabase(null, db.env.FAIRYWREN_DATA_DIR!);
  };
  const setup = await open();
  await migrate(setup.sql);
  const seeder = (await createUser(setup.sql, { name: "seedy", passwordHash: "x" })).user;
  const leecher = (await createUser(setup.sql, { name: "leechy", passwordHash: "x" })).user;
  const [torrent] = await setup.sql<{ id: number }[]>`
    insert into torrents (info_hash, title, size, files, metainfo)
    values (${Buffer.from(HASH)}, 'Restart test', 1000000000, '[]', ${Buffer.from("de")})
    returning id
  `;
  await setup.close();
  const processes: Subprocess[] = [];
  return {
    db,
    seeder,
    leecher,
    torrentId: torrent!.id,
    processes,
    open,
    async start(mode: Mode): Promise<Subprocess> {
      const args = mode === "--only tracker" ? ["serve", "--only", "tracker"] : [];
      const proc = Bun.spawn([process.execPath, MAIN, ...args], { env, stdout: "ignore", stderr: "pipe" });
      processes.push(proc);
      const deadline = Date.now() + 30_000;
      while (Date.now() < deadline) {
        try {
          if ((await fetch(`http://127.0.0.1:${trackerPort}/health`)).ok) return proc;
        } catch {}
        if (proc.exitCode !== null) break;
        await Bun.sleep(50);
      }
      throw new Error(`the server did not start: ${await new Response(proc.stderr).text()}`);
    },
    async announce(
      passkey: string,
      p: { peer: number; uploaded?: number; downloaded?: number; left: number; event?: string },
    ) {
      const q = announceQuery({
        infoHash: HASH,
        peerId: bytes20(p.peer),
        uploaded: p.uploaded ?? 0,
        downloaded: p.downloaded ?? 0,
        left: p.left,
        event: p.event,
      });
      const reply = await (await fetch(`http://127.0.0.1:${trackerPort}/${passkey}/announce?${q}`)).text();
      expect(reply).toContain("8:intervali");
      return reply;
    },
    async scrape(passkey: string): Promise<{ complete: number; incomplete: number }> {
      const text = await (
        await fetch(`http://127.0.0.1:${trackerPort}/${passkey}/scrape?info_hash=${escapeBytes(HASH)}`)
      ).text();
      return {
        complete: Number(/8:completei(\d+)e/.exec(text)?.[1] ?? -1),
        incomplete: Number(/10:incompletei(\d+)e/.exec(text)?.[1] ?? -1),
      };
    },
  };
}

type Site = Awaited<ReturnType<typeof site>>;

async function stop(proc: Subprocess): Promise<void> {
  proc.kill("SIGTERM");
  expect(await proc.exited).toBe(0);
}

/** Credit and history as written: per member, total up and down, and the history row. */
async function written(s: Site) {
  const { sql, close } = await s.open();
  try {
    const users = await sql<{ id: number; uploaded: number; downloaded: number }[]>`
      select id, uploaded, downloaded from users where id in (${s.seeder.id}, ${s.leecher.id})
    `;
    const stats = await sql<
      { userId: number; uploaded: number; downloaded: number; seeding: boolean; leeching: boolean }[]
    >`
      select user_id, uploaded, downloaded, seeding, leeching from user_torrent_stats where torrent_id = ${s.torrentId}
    `;
    const by = <T extends { id?: number; userId?: number }>(rows: T[], id: number) =>
      rows.find((r) => (r.id ?? r.userId) === id);
    return {
      seeder: { user: by(users, s.seeder.id)!, stats: by(stats, s.seeder.id) },
      leecher: { user: by(users, s.leecher.id)!, stats: by(stats, s.leecher.id) },
    };
  } finally {
    await close();
  }
}

describe("restarts lose nothing", () => {
  const all: Site[] = [];
  afterAll(async () => {
    for (const s of all) {
      for (const p of s.processes) p.kill("SIGKILL");
      await s.db.drop().catch(() => {});
    }
  });

  for (const mode of MODES)
    test(`${mode}: the first announce after a SIGTERM restart is credited its full delta`, async () => {
      const s = await site();
      all.push(s);
      let proc = await s.start(mode);
      // A leecher and a seeder of two members: their first announces set the baselines.
      await s.announce(s.leecher.passkey, { peer: 1, left: 1_000_000_000, event: "started" });
      await s.announce(s.seeder.passkey, { peer: 2, left: 0, event: "started" });
      await stop(proc);

      proc = await s.start(mode);
      // The swarm is back before any announce: counts come from the restored peers.
      expect(await s.scrape(s.leecher.passkey)).toEqual({ complete: 1, incomplete: 1 });
      // The transfer that happened across the restart is credited in full on both sides.
      await s.announce(s.leecher.passkey, { peer: 1, downloaded: 5_000_000, left: 995_000_000 });
      await s.announce(s.seeder.passkey, { peer: 2, uploaded: 5_000_000, left: 0 });
      await stop(proc);

      const w = await written(s);
      expect(w.leecher.user.downloaded).toBe(5_000_000);
      expect(w.seeder.user.uploaded).toBe(5_000_000);
      expect(w.leecher.stats?.leeching).toBe(true);
      expect(w.seeder.stats?.seeding).toBe(true);
    }, 120_000);

  for (const mode of MODES)
    test(`${mode}: kill -9 mid-swarm credits nothing twice and loses at most one flush window`, async () => {
      const s = await site();
      all.push(s);
      const STEP = 100_000;
      let total = 0;
      // Credited, per announce, after the very first one (the baseline).
      let claimed = 0;
      let first = true;
      let lostAtMost = 0;
      for (let cycle = 0; cycle < 3; cycle++) {
        const proc = await s.start(mode);
        const until = Date.now() + 1500 + Math.floor(Math.random() * 1000);
        const at: number[] = [];
        while (Date.now() < until) {
          total += STEP;
          await s.announce(s.leecher.passkey, { peer: 1, downloaded: total, left: 1e9 });
          await s.announce(s.seeder.passkey, { peer: 2, uploaded: total, left: 0 });
          if (!first) {
            claimed += STEP;
            at.push(Date.now());
          }
          first = false;
          await Bun.sleep(20);
        }
        proc.kill("SIGKILL");
        await proc.exited;
        // What the tracker had not handed over and written yet: one flush window (the tracker
        // batches each second, the writer writes every 200 ms).
        lostAtMost += at.filter((t) => t > Date.now() - 2500).length * STEP;
      }
      // After the last crash, the next announce is credited from the baseline saved with the last
      // credit written: what the crash did not write is credited now, once.
      const proc = await s.start(mode);
      total += STEP;
      claimed += STEP;
      await s.announce(s.leecher.passkey, { peer: 1, downloaded: total, left: 1e9 });
      await s.announce(s.seeder.passkey, { peer: 2, uploaded: total, left: 0 });
      await stop(proc);
      const w = await written(s);
      for (const [got, history] of [
        [w.seeder.user.uploaded, w.seeder.stats?.uploaded],
        [w.leecher.user.downloaded, w.leecher.stats?.downloaded],
      ] as const) {
        expect(got).toBeLessThanOrEqual(claimed);
        expect(got).toBeGreaterThanOrEqual(claimed - lostAtMost);
        expect(history).toBe(got);
      }
      // The download side resumes from the last baseline written and loses nothing. Upload claims
      // waiting for the download that backs them (byte conservation) are saved with the same
      // batches and restored with the peers, so the seeder is credited exactly what the leecher
      // downloaded.
      expect(w.leecher.user.downloaded).toBe(claimed);
      expect(w.seeder.user.uploaded).toBe(w.leecher.user.downloaded);
    }, 120_000);

  for (const mode of MODES)
    test(`${mode}: a peer that never sent stopped expires on time across a restart, its history row too`, async () => {
      // Peers are dropped after 4 s of silence and their counters kept 60 s.
      const s = await site({ FAIRYWREN_PEER_TIMEOUT: "4" });
      all.push(s);
      let proc = await s.start(mode);
      await s.announce(s.seeder.passkey, { peer: 2, left: 0, event: "started" });
      await Bun.sleep(600);
      // Like Transmission on Ctrl-C: the client goes without a word; then the server restarts.
      await stop(proc);
      proc = await s.start(mode);
      expect(await s.scrape(s.seeder.passkey)).toEqual({ complete: 1, incomplete: 0 });
      // The reaper runs every second at this timeout: 4 s after its last announce, plus a run.
      const deadline = Date.now() + 15_000;
      let counts = await s.scrape(s.seeder.passkey);
      while (counts.complete !== 0 && Date.now() < deadline) {
        await Bun.sleep(250);
        counts = await s.scrape(s.seeder.passkey);
      }
      expect(counts).toEqual({ complete: 0, incomplete: 0 });
      await Bun.sleep(800);
      await stop(proc);
      const w = await written(s);
      expect(w.seeder.stats?.seeding).toBe(false);
    }, 120_000);
});
