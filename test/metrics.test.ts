import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createUser } from "../src/db/queries/users.ts";
import { announceQuery, bytes20 } from "./helpers/announce.ts";
import { startTestServer } from "./helpers/server.ts";

let server: Awaited<ReturnType<typeof startTestServer>>;
let admin: string;

beforeAll(async () => {
  server = await startTestServer();
  admin = `http://127.0.0.1:${server.running.metricsPort}`;
});
afterAll(async () => {
  await server?.stop();
});

async function metric(name: string): Promise<number | null> {
  const text = await (await fetch(`${admin}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith(`${name} `));
  return line ? Number(line.split(" ")[1]) : null;
}

describe("operations endpoints", () => {
  test("/healthz and /readyz answer on the admin address", async () => {
    expect(server.running.metricsPort).toBeGreaterThan(0);
    expect(await (await fetch(`${admin}/healthz`)).json()).toEqual({ status: "ok" });
    const ready = await fetch(`${admin}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: "ready" });
  });

  test("/metrics counts announces by outcome, peers and web requests", async () => {
    const sql = server.running.db.sql;
    const { user } = await createUser(sql, { name: "metered", passwordHash: "x" });
    await server.running.sync.user(user.id);
    const [row] = await sql`
      insert into torrents (info_hash, title, size, files, metainfo)
      values (${Buffer.from(bytes20(5))}, 'm', 1, '[]', ${Buffer.from("de")}) returning id
    `;
    await server.running.sync.torrent(row!.id);
    for (const n of [1, 2, 3])
      await fetch(
        `${server.tracker}/${user.passkey}/announce?${announceQuery({ infoHash: bytes20(5), peerId: bytes20(n) })}`,
      );
    await fetch(
      `${server.tracker}/${"0".repeat(32)}/announce?${announceQuery({ infoHash: bytes20(5), peerId: bytes20(9) })}`,
    );
    await fetch(`${server.web}/login`);
    // The tracker reports every 2 s.
    const deadline = Date.now() + 5000;
    while (
      Date.now() < deadline &&
      (await metric('fairywren_tracker_requests_total{kind="announce",outcome="ok"}')) !== 3
    )
      await Bun.sleep(200);
    expect(await metric('fairywren_tracker_requests_total{kind="announce",outcome="ok"}')).toBe(3);
    expect(await metric('fairywren_tracker_requests_total{kind="announce",outcome="unknown_passkey"}')).toBe(
      1,
    );
    expect(await metric("fairywren_peers")).toBe(3);
    expect(await metric("fairywren_torrents")).toBe(1);
    expect(await metric('fairywren_tracker_request_seconds_count{kind="announce"}')).toBe(4);
    expect(
      await metric('fairywren_web_request_seconds_count{method="GET",status="2xx"}'),
    ).toBeGreaterThanOrEqual(1);
    expect(await metric("fairywren_stats_queue_batches")).toBe(0);
    expect(await metric("fairywren_stats_dead_letters_total")).toBe(0);
    expect((await metric("process_resident_memory_bytes"))!).toBeGreaterThan(10_000_000);
    const text = await (await fetch(`${admin}/metrics`)).text();
    expect(text).toContain("# TYPE fairywren_tracker_request_seconds histogram");
    expect(text).not.toContain(user.passkey);
  });

  test("/metrics shows upload credited against the download that backs it", async () => {
    const sql = server.running.db.sql;
    const seeder = (await createUser(sql, { name: "seeds", passwordHash: "x" })).user;
    const leecher = (await createUser(sql, { name: "leeches", passwordHash: "x" })).user;
    for (const u of [seeder, leecher]) await server.running.sync.user(u.id);
    const hash = bytes20(6);
    const [row] = await sql`
      insert into torrents (info_hash, title, size, files, metainfo)
      values (${Buffer.from(hash)}, 'c', 1000000, '[]', ${Buffer.from("de")}) returning id
    `;
    await server.running.sync.torrent(row!.id);
    const say = (
      who: { passkey: string },
      peer: number,
      p: { uploaded?: number; downloaded?: number; left?: number; event?: string },
    ) =>
      fetch(
        `${server.tracker}/${who.passkey}/announce?${announceQuery({ infoHash: hash, peerId: bytes20(0x60 + peer), ...p })}`,
      );
    await say(seeder, 1, { left: 0, event: "started" });
    await say(leecher, 2, { left: 1_000_000, event: "started" });
    await say(leecher, 2, { left: 0, downloaded: 1_000_000, event: "completed" });
    // The seeder's claim comes after the download, and every peer has announced since: settled
    // within a second, without waiting for the hold.
    await say(seeder, 1, { left: 0, uploaded: 1_000_000, event: "stopped" });
    const deadline = Date.now() + 8000;
    while (
      Date.now() < deadline &&
      (await metric("fairywren_conservation_credited_upload_bytes_total")) !== 1_000_000
    )
      await Bun.sleep(200);
    expect(await metric("fairywren_conservation_credited_upload_bytes_total")).toBe(1_000_000);
    expect(await metric("fairywren_conservation_reported_download_bytes_total")).toBe(1_000_000);
    expect(await metric("fairywren_conservation_expired_upload_bytes_total")).toBe(0);
    expect(await metric("fairywren_conservation_over_size_download_bytes_total")).toBe(0);
  });
});
