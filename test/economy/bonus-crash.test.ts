// kill -9 of a real process in the middle of crediting an hour: nothing of it stays, and after a
// restart the hour is credited exactly once, however often the job runs.
import { afterAll, expect, test } from "bun:test";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { loadConfig } from "../../src/config.ts";
import { openDatabase } from "../../src/db/client.ts";
import { migrate } from "../../src/db/migrate.ts";
import { createUser } from "../../src/db/queries/users.ts";
import { runBonusHour } from "../../src/web/economy/service.ts";
import { freshServerDatabase } from "../helpers/server.ts";
import { history, torrent } from "./fixtures.ts";

const CHILD = join(import.meta.dir, "bonus-child.ts");
const NOW = Date.UTC(2030, 0, 1, 12, 5);
const HOUR = new Date(Date.UTC(2030, 0, 1, 11, 0));
const children: Subprocess[] = [];

afterAll(() => {
  for (const child of children) child.kill("SIGKILL");
});

test("an hour interrupted by kill -9 is credited once after the restart", async () => {
  const fresh = await freshServerDatabase();
  const env = { FAIRYWREN_LOG_LEVEL: "error", ...fresh.env };
  const config = loadConfig({ env });
  const open = () => openDatabase(config.webapi.postgresql, config.dataDir);

  let db = await open();
  await db.longWork(migrate);
  const members: number[] = [];
  for (const name of ["ann", "ben", "cid"]) {
    const { user } = await createUser(db.sql, { name, passwordHash: "x", roles: [] });
    members.push(user.id);
    const t = await torrent(db.sql, { size: 2 ** 30, createdAt: new Date(Date.UTC(2029, 0, 1)), seeders: 1 });
    await history(db.sql, user.id, t, {
      seeding: true,
      last_announce_at: new Date(NOW - 20 * 60_000),
      completed_at: new Date(NOW - 2 * 3_600_000),
    });
  }
  // The embedded database takes one process at a time: the child opens it after this one closed it.
  await db.close();

  const child = Bun.spawn([process.execPath, CHILD, String(NOW)], {
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

  db = await open();
  try {
    const left = await db.sql`
      select 1 from bonus_ledger where hour = ${HOUR} union all select 1 from bonus_hours where hour = ${HOUR}
    `;
    expect(left.length).toBe(0);
    const first = await runBonusHour(db.sql, config, new Date(NOW));
    expect(first).toMatchObject({ done: "earned", members: 3 });
    expect(await runBonusHour(db.sql, config, new Date(NOW + 30 * 60_000))).toEqual({ done: "already" });
    const rows = await db.sql<{ userId: number; n: number }[]>`
      select user_id, count(*)::int as n from bonus_ledger where hour = ${HOUR} group by user_id order by user_id
    `;
    expect(rows.map((r) => [r.userId, r.n])).toEqual(members.map((id) => [id, 1]));
  } finally {
    await db.close();
    await fresh.drop();
  }
});
