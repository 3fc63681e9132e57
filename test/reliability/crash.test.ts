// kill -9 of the real process while credit is being written: at most the last window is lost, and
// nothing is ever counted twice. Then SIGTERM: pending credit is written and the process exits 0.
import { afterAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { connect, openDatabase } from "../../src/db/client.ts";
import { migrate } from "../../src/db/migrate.ts";
import { createUser } from "../../src/db/queries/users.ts";
import { announceQuery, bytes20 } from "../helpers/announce.ts";
import { freePort } from "../helpers/ports.ts";
import { freshServerDatabase } from "../helpers/server.ts";

const MAIN = join(import.meta.dir, "../../src/main.ts");
const STEP = 1000;
/** Credit not yet written when the process dies: the tracker batches each second, the web writes every 200 ms. */
const WINDOW_MS = 2500;

describe("crash safety", () => {
  const processes: Subprocess[] = [];
  afterAll(() => {
    for (const p of processes) p.kill("SIGKILL");
  });

  test("kill -9 during flushes loses at most the last window and double-counts nothing", async () => {
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
      // One seeder alone reports its upload: the write path is under test, not the swarm balance.
      FAIRYWREN_UPLOAD_NEEDS_LEECHER: "false",
      // Lone simulated seeders, as for the swarm balance: byte conservation (its own tests) would credit none.
      FAIRYWREN_BYTE_CONSERVATION: "false",
      FAIRYWREN_LOG_LEVEL: "error",
    };
    // The member and torrent exist before the first start (the embedded database is free then).
    const setup = db.env.DATABASE_URL
      ? { sql: connect(db.env.DATABASE_URL, 1), close: async () => {} }
      : await openDatabase(null, db.env.FAIRYWREN_DATA_DIR!);
    await migrate(setup.sql);
    const { user } = await createUser(setup.sql, { name: "crashy", passwordHash: "x" });
    await setup.sql`
      insert into torrents (info_hash, title, size, files, metainfo)
      values (${Buffer.from(bytes20(0x44))}, 'Crash test', 1, '[]', ${Buffer.from("de")})
    `;
    if ("end" in setup.sql && db.env.DATABASE_URL) await setup.sql.end();
    await setup.close();

    const start = async () => {
      const proc = Bun.spawn([process.execPath, MAIN], { env, stdout: "ignore", stderr: "pipe" });
      processes.push(proc);
      const deadline = Date.now() + 20_000;
      while (Date.now() < deadline) {
        try {
          if ((await fetch(`http://127.0.0.1:${trackerPort}/health`)).ok) return proc;
        } catch {}
        await Bun.sleep(50);
      }
      throw new Error(`the server did not start: ${await new Response(proc.stderr).text()}`);
    };

    let uploaded = 0;
    let credited = 0;
    let allowedLoss = 0;
    const creditedAt: number[] = [];
    // The very first announce only sets the baseline; after a restart the peer is restored with the
    // baseline saved with the last credit written, so its next announce is credited.
    let fresh = true;
    for (let cycle = 0; cycle < 3; cycle++) {
      const proc = await start();
      const runFor = 1500 + Math.floor(Math.random() * 1500);
      const until = Date.now() + runFor;
      while (Date.now() < until) {
        uploaded += STEP;
        const q = announceQuery({ infoHash: bytes20(0x44), peerId: bytes20(7), uploaded, left: 0 });
        const reply = await (
          await fetch(`http://127.0.0.1:${trackerPort}/${user.passkey}/announce?${q}`)
        ).text();
        expect(reply).toContain("8:intervali");
        if (!fresh) {
          credited += STEP;
          creditedAt.push(Date.now());
        }
        fresh = false;
        await Bun.sleep(20);
      }
      proc.kill("SIGKILL");
      await proc.exited;
      const killedAt = Date.now();
      allowedLoss += creditedAt.filter((t) => t > killedAt - WINDOW_MS).length * STEP;
    }
    // A last run ends with SIGTERM, which must write everything and exit 0 within 10 s.
    const proc = await start();
    uploaded += STEP;
    credited += STEP;
    await fetch(
      `http://127.0.0.1:${trackerPort}/${user.passkey}/announce?${announceQuery({ infoHash: bytes20(0x44), peerId: bytes20(7), uploaded, left: 0 })}`,
    );
    for (let i = 0; i < 5; i++) {
      uploaded += STEP;
      credited += STEP;
      await fetch(
        `http://127.0.0.1:${trackerPort}/${user.passkey}/announce?${announceQuery({ infoHash: bytes20(0x44), peerId: bytes20(7), uploaded, left: 0 })}`,
      );
    }
    const stopping = Date.now();
    proc.kill("SIGTERM");
    expect(await proc.exited).toBe(0);
    expect(Date.now() - stopping).toBeLessThan(10_000);

    const check = db.env.DATABASE_URL
      ? { sql: connect(db.env.DATABASE_URL, 1), close: async () => {} }
      : await openDatabase(null, db.env.FAIRYWREN_DATA_DIR!);
    const [row] = await check.sql`select uploaded from users where id = ${user.id}`;
    const [stat] = await check.sql`select uploaded from user_torrent_stats where user_id = ${user.id}`;
    if (db.env.DATABASE_URL) await check.sql.end();
    await check.close();
    await db.drop();
    const written = row!.uploaded as number;
    // Never more than was credited; at most the last window of each crash missing.
    expect(written).toBeLessThanOrEqual(credited);
    expect(written).toBeGreaterThanOrEqual(credited - allowedLoss);
    expect(stat!.uploaded).toBe(written);
  }, 120_000);
});
