// SIGTERM of the real process while its PostgreSQL is unreachable (the connection goes through a
// TCP forwarder that is taken down): the credit it could not write is saved in the data folder
// and written, exactly once, by the next start. If it cannot even be saved, the process says so
// and does not claim to have stopped cleanly.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { copyFileSync, existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { spillPath } from "../../src/bridge/spill.ts";
import { connect, type Sql } from "../../src/db/client.ts";
import { migrate } from "../../src/db/migrate.ts";
import { createUser } from "../../src/db/queries/users.ts";
import { announceQuery, bytes20 } from "../helpers/announce.ts";
import { SERVER_URL } from "../helpers/database.ts";
import { freePort } from "../helpers/ports.ts";
import { freshServerDatabase } from "../helpers/server.ts";
import { describeUnless, NEEDS_POSTGRES } from "../helpers/skip.ts";
import { TcpProxy } from "../helpers/tcp-proxy.ts";

const MAIN = join(import.meta.dir, "../../src/main.ts");
const HASH = bytes20(0x66);

/** The `msg` of every JSON log line in a stream's text. */
function messages(text: string): string[] {
  return text
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => (JSON.parse(line) as { msg: string }).msg);
}

describeUnless(Boolean(SERVER_URL), NEEDS_POSTGRES)("SIGTERM with the database unreachable", () => {
  const processes: Subprocess[] = [];
  let proxy: TcpProxy;
  let db: Awaited<ReturnType<typeof freshServerDatabase>>;
  let direct: Sql;
  let env: Record<string, string>;
  let trackerPort = 0;
  let seeder: { id: number; passkey: string };
  let leecher: { id: number; passkey: string };

  beforeAll(async () => {
    const target = new URL(SERVER_URL!);
    proxy = new TcpProxy(target.hostname, Number(target.port || 5432));
    await proxy.up();
    db = await freshServerDatabase();
    direct = connect(db.env.DATABASE_URL!, 1);
    await migrate(direct);
    seeder = (await createUser(direct, { name: "seeder", passwordHash: "x" })).user;
    leecher = (await createUser(direct, { name: "leecher", passwordHash: "x" })).user;
    await direct`
      insert into torrents (info_hash, title, size, files, metainfo)
      values (${Buffer.from(HASH)}, 'Shutdown test', 1, '[]', ${Buffer.from("de")})
    `;
    const viaProxy = new URL(db.env.DATABASE_URL!);
    viaProxy.port = String(proxy.port);
    trackerPort = await freePort();
    env = {
      PATH: process.env.PATH ?? "",
      FAIRYWREN_DATA_DIR: db.env.FAIRYWREN_DATA_DIR!,
      DATABASE_URL: viaProxy.toString(),
      FAIRYWREN_WEB_HOST: "127.0.0.1",
      FAIRYWREN_TRACKER_HOST: "127.0.0.1",
      FAIRYWREN_WEB_PORT: String(await freePort()),
      FAIRYWREN_TRACKER_PORT: String(trackerPort),
      FAIRYWREN_METRICS: "false",
      FAIRYWREN_FLUSH_INTERVAL_MS: "200",
      FAIRYWREN_MIN_ANNOUNCE_INTERVAL: "0",
      // Simulated seeders with nobody reporting their download: byte conservation (its own tests)
      // would credit none of what this test saves and replays.
      FAIRYWREN_BYTE_CONSERVATION: "false",
      FAIRYWREN_LOG_LEVEL: "info",
    };
  });
  afterAll(async () => {
    for (const p of processes) p.kill("SIGKILL");
    await proxy?.up().catch(() => {});
    await direct?.end();
    await db?.drop();
  });

  async function start(): Promise<Subprocess<"ignore", "pipe", "pipe">> {
    const proc = Bun.spawn([process.execPath, MAIN], { env, stdout: "pipe", stderr: "pipe" });
    processes.push(proc);
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      try {
        if ((await fetch(`http://127.0.0.1:${trackerPort}/health`)).ok) return proc;
      } catch {}
      await Bun.sleep(50);
    }
    throw new Error(`the server did not start: ${await new Response(proc.stderr).text()}`);
  }

  /** SIGTERM, then the exit code and the log messages of both streams. */
  async function stop(proc: Subprocess<"ignore", "pipe", "pipe">) {
    proc.kill("SIGTERM");
    const [code, out, err] = await Promise.all([
      proc.exited,
      new Response(proc.stdout).text(),
      new Response(proc.stderr).text(),
    ]);
    return { code, logged: [...messages(out), ...messages(err)] };
  }

  async function announce(who: { passkey: string }, peer: number, up: number, down: number, left: number) {
    const q = announceQuery({
      infoHash: HASH,
      peerId: bytes20(peer),
      uploaded: up,
      downloaded: down,
      left,
    });
    const body = await (await fetch(`http://127.0.0.1:${trackerPort}/${who.passkey}/announce?${q}`)).text();
    expect(body).toContain("8:interval");
  }

  /** Announces that credit `bytes` to the seeder (uploaded) and the leecher (downloaded). */
  async function transfer(bytes: number) {
    await announce(leecher, 2, 0, 0, 1_000_000);
    await announce(seeder, 1, 0, 0, 0);
    // Real transfers take time; the credit comes with the next announces.
    await Bun.sleep(1100);
    await proxy.down();
    await announce(seeder, 1, bytes, 0, 0);
    await announce(leecher, 2, 0, bytes, 1_000_000 - bytes);
  }

  async function credited() {
    const rows = await direct`
      select id, uploaded, downloaded from users where id in (${seeder.id}, ${leecher.id}) order by id
    `;
    return rows.map((r) => [r.uploaded, r.downloaded]);
  }

  async function waitFor(ok: () => Promise<boolean>, what: string) {
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      if (await ok()) return;
      await Bun.sleep(100);
    }
    throw new Error(`timed out waiting for ${what}`);
  }

  test("pending credit is saved, replayed once at the next start, and a second replay changes nothing", async () => {
    const file = spillPath(env.FAIRYWREN_DATA_DIR!);
    const first = await start();
    await transfer(5000);
    const stopped = await stop(first);
    expect(stopped.code).toBe(0);
    expect(stopped.logged).toContain(
      "database unreachable at shutdown: pending credit saved for the next start",
    );
    expect(stopped.logged).toContain("stopped");
    expect(existsSync(file)).toBe(true);
    expect(await credited()).toEqual([
      [0, 0],
      [0, 0],
    ]);
    const copy = `${file}.copy`;
    copyFileSync(file, copy);

    await proxy.up();
    const second = await start();
    const expected = [
      [5000, 0],
      [0, 5000],
    ];
    await waitFor(
      async () => JSON.stringify(await credited()) === JSON.stringify(expected) && !existsSync(file),
      "the saved credit",
    );
    const again = await stop(second);
    expect(again.code).toBe(0);
    expect(again.logged).toContain("credit saved at the last stop is written");
    expect(again.logged).toContain("stopped");
    expect(existsSync(file)).toBe(false);

    // The same file once more, as if the process had died before it could remove it.
    copyFileSync(copy, file);
    const third = await start();
    await waitFor(async () => !existsSync(file), "the replay");
    expect((await stop(third)).code).toBe(0);
    expect(await credited()).toEqual(expected);
  }, 120_000);

  test("credit that can be neither written nor saved: an error, exit 1, and no 'stopped'", async () => {
    const proc = await start();
    // A folder where the spill file's temporary copy must go: saving fails.
    mkdirSync(`${spillPath(env.FAIRYWREN_DATA_DIR!)}.${proc.pid}.tmp`);
    await transfer(700);
    const stopped = await stop(proc);
    expect(stopped.code).toBe(1);
    expect(stopped.logged).toContain("pending credit could not be written or saved: it is lost");
    expect(stopped.logged).not.toContain("stopped");
    await proxy.up();
  }, 60_000);
});
