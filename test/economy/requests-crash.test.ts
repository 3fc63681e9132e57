// kill -9 of a real process in the middle of paying out a bounty: inside the expiry's refunds, and
// inside an accepted fill's award. Nothing of either stays; after the restart each is done exactly
// once however often it runs, and every point put on a bounty is accounted for.
import { afterAll, expect, test } from "bun:test";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { loadConfig } from "../../src/config.ts";
import { openDatabase } from "../../src/db/client.ts";
import { migrate } from "../../src/db/migrate.ts";
import { acceptFill, contribute, fillRequest, insertRequest } from "../../src/db/queries/requests.ts";
import { createUser } from "../../src/db/queries/users.ts";
import { runRequestExpiry } from "../../src/web/requests/service.ts";
import { freshServerDatabase } from "../helpers/server.ts";
import { torrent } from "./fixtures.ts";

const CHILD = join(import.meta.dir, "requests-child.ts");
const NOW = Date.UTC(2030, 0, 1, 12, 0);
const DAY = 86_400_000;
const children: Subprocess[] = [];

afterAll(() => {
  for (const child of children) child.kill("SIGKILL");
});

/** Starts the child, waits until it is inside its transaction, and kills it with SIGKILL. */
async function killInside(env: Record<string, string>, args: string[]) {
  const child = Bun.spawn([process.execPath, CHILD, ...args], {
    env: { ...process.env, ...env },
    stdout: "pipe",
    stderr: "inherit",
  });
  children.push(child);
  const reader = child.stdout.getReader();
  let out = "";
  const deadline = Date.now() + 30_000;
  while (!out.includes("inside") && Date.now() < deadline) {
    const { value, done } = await reader.read();
    if (done) break;
    out += new TextDecoder().decode(value);
  }
  expect(out).toContain("inside");
  child.kill("SIGKILL");
  expect(await child.exited).not.toBe(0);
}

test("refunds and an award interrupted by kill -9 are paid once after the restart", async () => {
  const fresh = await freshServerDatabase();
  const env = { FAIRYWREN_LOG_LEVEL: "error", ...fresh.env };
  const config = loadConfig({ env });
  const open = () => openDatabase(config.webapi.postgresql, config.dataDir);

  let db = await open();
  await db.longWork(migrate);
  const members: Record<string, number> = {};
  for (const name of ["ann", "ben", "cid", "dee"]) {
    const { user } = await createUser(db.sql, { name, passwordHash: "x", roles: [] });
    members[name] = user.id;
    await db.sql`
      insert into bonus_ledger (user_id, hour, millipoints, reason)
      values (${user.id}, ${new Date(Date.UTC(2029, 0, 1))}, 100000, 'seeding')
    `;
  }
  const request = async (who: string, millipoints: number) => {
    const made = await insertRequest(db.sql, {
      requesterId: members[who]!,
      title: `Wanted by ${who}`,
      description: "",
      categoryId: null,
      tags: [],
      millipoints,
      now: new Date(NOW),
      expireDays: 30,
    });
    if (!made.ok) throw new Error("request not made");
    return made.requestId;
  };
  // Two requests that will expire, with contributions from others; one filled and waiting.
  const first = await request("ann", 20_000);
  const second = await request("ben", 10_000);
  expect(
    (
      await contribute(db.sql, {
        requestId: first,
        userId: members.cid!,
        millipoints: 7000,
        now: new Date(NOW),
      })
    ).ok,
  ).toBe(true);
  expect(
    (
      await contribute(db.sql, {
        requestId: second,
        userId: members.dee!,
        millipoints: 3000,
        now: new Date(NOW),
      })
    ).ok,
  ).toBe(true);
  const filled = await request("cid", 40_000);
  expect(
    (
      await contribute(db.sql, {
        requestId: filled,
        userId: members.ann!,
        millipoints: 5000,
        now: new Date(NOW),
      })
    ).ok,
  ).toBe(true);
  const t = await torrent(db.sql, { size: 1000 });
  expect(
    await fillRequest(db.sql, {
      requestId: filled,
      torrentId: t,
      fillerId: members.dee!,
      now: new Date(NOW),
    }),
  ).toBe(true);
  // The waiting fill is moved past the expiry date's reach: only the other two expire.
  await db.sql`update requests set expires_at = ${new Date(NOW + 365 * DAY)} where id = ${filled}`;
  const balances = async () =>
    Object.fromEntries(
      (
        await db.sql<{ userId: number; total: string }[]>`
          select user_id, sum(millipoints)::text as total from bonus_ledger group by user_id
        `
      ).map((r) => [Object.keys(members).find((k) => members[k] === r.userId)!, Number(r.total)]),
    );
  const start = await balances();
  expect(start).toEqual({ ann: 75_000, ben: 90_000, cid: 53_000, dee: 97_000 });
  // The embedded database takes one process at a time: the child opens it after this one closed it.
  await db.close();

  const due = NOW + 31 * DAY;
  await killInside(env, ["expire", String(due)]);
  db = await open();
  try {
    // Nothing of the killed run stayed: still open, no refund.
    const [left] = await db.sql`
      select (select count(*)::int from bonus_ledger where reason = 'request_refund') as refunds,
        (select count(*)::int from requests where status = 'expired') as expired
    `;
    expect(left).toEqual({ refunds: 0, expired: 0 });
    expect(await balances()).toEqual(start);
  } finally {
    await db.close();
  }

  await killInside(env, ["accept", String(filled)]);
  db = await open();
  try {
    const [left] = await db.sql`
      select (select count(*)::int from bonus_ledger where reason = 'request_award') as awards,
        (select status from requests where id = ${filled}) as status
    `;
    expect(left).toEqual({ awards: 0, status: "pending" });
    expect(await balances()).toEqual(start);

    // After the restart: the expiry runs (twice), the accept runs (twice); each pays once.
    expect(await runRequestExpiry(db.sql, config, new Date(due))).toEqual({
      requests: 2,
      refunds: 4,
      millipoints: 40_000,
    });
    expect((await runRequestExpiry(db.sql, config, new Date(due + DAY))).requests).toBe(0);
    expect(await acceptFill(db.sql, filled, new Date(due))).toMatchObject({ ok: true, millipoints: 45_000 });
    expect(await acceptFill(db.sql, filled, new Date(due))).toEqual({ ok: false, reason: "state" });
    expect(await balances()).toEqual({ ann: 95_000, ben: 100_000, cid: 60_000, dee: 145_000 });
    // Every point is where the ledger says: the sum is what was granted.
    const [sum] = await db.sql<{ total: string }[]>`select sum(millipoints)::text as total from bonus_ledger`;
    expect(Number(sum!.total)).toBe(400_000);
  } finally {
    await db.close();
    await fresh.drop();
  }
}, 180_000);
