// A database that stops answering without resetting its connections (a network that drops every
// packet, a hung server), against a real PostgreSQL: the connection goes through a forwarder that
// keeps every socket open and lets nothing through. Queries must end in errors the site reads as
// "unavailable", pages must answer before the web server's 10 s idle timeout would cut the
// visitor off, the tracker keeps answering, and everything works again once the network is back.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { connect, isDatabaseUnavailable, openDatabase } from "../../src/db/client.ts";
import { createUser } from "../../src/db/queries/users.ts";
import { hashPassword, resolvePepper } from "../../src/shared/secrets.ts";
import { announceQuery, bytes20 } from "../helpers/announce.ts";
import { SERVER_URL } from "../helpers/database.ts";
import { freshServerDatabase, startTestServer } from "../helpers/server.ts";
import { describeUnless, NEEDS_POSTGRES } from "../helpers/skip.ts";
import { TcpProxy } from "../helpers/tcp-proxy.ts";

/** The error a query ends with (or a failure of the test when it succeeds). */
async function failure(query: Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await query;
  } catch (error) {
    return error as Error & { code?: string };
  }
  throw new Error("the query succeeded");
}

describeUnless(Boolean(SERVER_URL), NEEDS_POSTGRES)("a database that stops answering", () => {
  let proxy: TcpProxy;
  let database: Awaited<ReturnType<typeof freshServerDatabase>>;
  let viaProxy: string;

  beforeAll(async () => {
    const target = new URL(SERVER_URL!);
    proxy = new TcpProxy(target.hostname, Number(target.port || 5432));
    await proxy.up();
    database = await freshServerDatabase();
    const url = new URL(database.env.DATABASE_URL!);
    url.port = String(proxy.port);
    viaProxy = url.toString();
  });
  afterAll(async () => {
    await proxy?.down();
    await database?.drop();
  });

  test("queries end in errors that mean 'unavailable', and the client works again afterwards", async () => {
    const sql = connect(viaProxy);
    try {
      expect([...(await sql`select 1 as n`)]).toEqual([{ n: 1 }]);
      // A statement that runs too long is ended by the server.
      const slow = await failure(sql`select pg_sleep(30)`);
      expect(slow.code).toBe("57014");
      expect(isDatabaseUnavailable(slow)).toBe(true);

      proxy.blackhole();
      // On the connection already open: sent, never answered, closed by the client's watch.
      const silent = await failure(sql`select 2`);
      expect(silent.code).toBe("CONNECTION_CLOSED");
      expect(isDatabaseUnavailable(silent)).toBe(true);
      // On a new connection: the log-in is never answered.
      const unreachable = await failure(sql`select 3`);
      expect(unreachable.code).toBe("CONNECT_TIMEOUT");
      expect(isDatabaseUnavailable(unreachable)).toBe(true);

      await proxy.up();
      expect([...(await sql`select 4 as n`)]).toEqual([{ n: 4 }]);
    } finally {
      await sql.end({ timeout: 1 });
    }
  }, 45_000);

  test("long work (migrations) runs on a connection without the statement timeout", async () => {
    const db = await openDatabase(viaProxy, database.env.FAIRYWREN_DATA_DIR!);
    try {
      const [page] = await db.sql`show statement_timeout`;
      const [long] = await db.longWork((sql) => sql`show statement_timeout`);
      expect([page!.statementTimeout, long!.statementTimeout]).toEqual(["4s", "0"]);
    } finally {
      await db.close();
    }
  });

  test("pages answer 503 'temporarily unavailable' meanwhile, announces are answered, credit arrives after", async () => {
    const server = await startTestServer({
      ...database.env,
      DATABASE_URL: viaProxy,
      FAIRYWREN_MIN_ANNOUNCE_INTERVAL: "0",
      // One seeder alone reports its upload: the outage is under test, not the swarm balance.
      FAIRYWREN_UPLOAD_NEEDS_LEECHER: "false",
      // Lone simulated seeders, as for the swarm balance: byte conservation (its own tests) would credit none.
      FAIRYWREN_BYTE_CONSERVATION: "false",
      FAIRYWREN_LOG_LEVEL: "error",
    });
    try {
      const sql = server.running.db.sql;
      const pepper = resolvePepper(server.config.salt, server.config.dataDir);
      const { user } = await createUser(sql, {
        name: "patient",
        passwordHash: await hashPassword("password123", pepper),
      });
      await server.running.sync.user(user.id);
      const [row] = await sql`
        insert into torrents (info_hash, title, size, files, metainfo)
        values (${Buffer.from(bytes20(0x44))}, 'Silence test', 1, '[]', ${Buffer.from("de")}) returning id
      `;
      await server.running.sync.torrent(row!.id);
      const login = await fetch(`${server.web}/login`, {
        method: "POST",
        body: new URLSearchParams({ name: "patient", password: "password123" }),
        redirect: "manual",
      });
      expect(login.status).toBe(303);
      const cookie = login.headers.get("set-cookie")!.split(";")[0]!;
      const announce = async (uploaded: number) => {
        const q = announceQuery({ infoHash: bytes20(0x44), peerId: bytes20(7), uploaded, left: 0 });
        return (await fetch(`${server.tracker}/${user.passkey}/announce?${q}`)).text();
      };
      expect(await announce(0)).toContain("8:completei1e");
      expect((await fetch(`${server.web}/torrents`, { headers: { cookie } })).status).toBe(200);

      proxy.blackhole();
      const started = performance.now();
      const [page, api, account] = await Promise.all([
        fetch(`${server.web}/torrents`, { headers: { cookie } }),
        fetch(`${server.web}/api/v1/me`, { headers: { cookie } }),
        fetch(`${server.web}/account`, { headers: { cookie } }),
      ]);
      const seconds = ((performance.now() - started) / 1000).toFixed(1);
      console.log(`pages answered ${seconds} s after the database went silent`);
      expect(page.status).toBe(503);
      expect(await page.text()).toContain("Temporarily unavailable");
      expect(account.status).toBe(503);
      expect(api.status).toBe(503);
      expect(((await api.json()) as { error: { code: string } }).error.code).toBe("unavailable");
      // The tracker answers from memory; its credit waits in the queue.
      let uploaded = 0;
      for (let i = 0; i < 5; i++) {
        uploaded += 1000;
        const reply = await announce(uploaded);
        expect(reply).not.toContain("failure reason");
      }

      await proxy.up();
      const deadline = Date.now() + 45_000;
      let total = -1;
      let status = 0;
      while (Date.now() < deadline) {
        status = (await fetch(`${server.web}/torrents`, { headers: { cookie } })).status;
        const [me] = await sql`select uploaded from users where id = ${user.id}`.catch(() => [null]);
        total = me?.uploaded ?? -1;
        if (status === 200 && total === uploaded && server.running.stats.pending.batches === 0) break;
        await Bun.sleep(250);
      }
      expect({ status, total }).toEqual({ status: 200, total: uploaded });
    } finally {
      await proxy.up();
      await server.stop();
    }
  }, 90_000);
});
