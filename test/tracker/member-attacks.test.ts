// One member against the rules or against another member, over real sockets against the real
// process layout (web side, tracker Worker, database): each of these passed the old tracker. A
// paused member downloading through a seeder's peer, a peer_id squatter blocking its owner and
// wiping their kept counters, a flood of suspicious records, seed time cut to a short interval.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import bencode from "bencode";
import { createUser } from "../../src/db/queries/users.ts";
import type { Running } from "../../src/server.ts";
import { announceQuery, bytes20, escapeBytes } from "../helpers/announce.ts";
import { startTestServer } from "../helpers/server.ts";

type Decoded = Record<string, unknown>;
type Server = { running: Running; tracker: string; web: string };
type Member = { id: number; passkey: string };

const PAUSED =
  "New downloads are paused: you have too many hit-and-runs. Seed what you owe (see your hit-and-runs page on the site) and they resume within the hour.";

async function until<T>(what: string, probe: () => Promise<T>, ok: (value: T) => boolean, ms = 8000) {
  const end = Date.now() + ms;
  let value = await probe();
  while (!ok(value)) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(value)}`);
    await Bun.sleep(25);
    value = await probe();
  }
  return value;
}

async function member(running: Running, name: string): Promise<Member> {
  const { user } = await createUser(running.db.sql, { name, passwordHash: "x" });
  await running.sync.user(user.id);
  return { id: user.id, passkey: user.passkey };
}

async function torrent(running: Running, hash: Uint8Array): Promise<number> {
  const [row] = await running.db.sql`
    insert into torrents (info_hash, title, size, files, metainfo)
    values (${Buffer.from(hash)}, ${`Torrent ${hash[0]}`}, 1000, '[]', ${Buffer.from("de")})
    returning id
  `;
  await running.sync.torrent(row!.id);
  return row!.id as number;
}

/** Announces over HTTP and decodes the reply, a failure reason included. */
async function raw(server: Server, who: Member, p: Parameters<typeof announceQuery>[0]): Promise<Decoded> {
  const response = await fetch(`${server.tracker}/${who.passkey}/announce?${announceQuery(p)}`);
  return bencode.decode(Buffer.from(await response.arrayBuffer())) as Decoded;
}

/** Announces over HTTP and decodes the reply (a failure reason throws). */
async function announce(
  server: Server,
  who: Member,
  p: Parameters<typeof announceQuery>[0],
): Promise<Decoded> {
  const body = await raw(server, who, p);
  if (body["failure reason"]) throw new Error(Buffer.from(body["failure reason"] as Uint8Array).toString());
  return body;
}

function failure(body: Decoded): string | null {
  const reason = body["failure reason"];
  return reason ? Buffer.from(reason as Uint8Array).toString() : null;
}

async function scrape(server: Server, who: Member, hash: Uint8Array): Promise<Decoded> {
  const response = await fetch(`${server.tracker}/${who.passkey}/scrape?info_hash=${escapeBytes(hash)}`);
  const files = (bencode.decode(Buffer.from(await response.arrayBuffer())) as Decoded).files as Record<
    string,
    Decoded
  >;
  return Object.values(files)[0] ?? {};
}

async function totals(server: Server, who: Member): Promise<{ uploaded: number; downloaded: number }> {
  const [row] = await server.running.db.sql`select uploaded, downloaded from users where id = ${who.id}`;
  return { uploaded: Number(row!.uploaded), downloaded: Number(row!.downloaded) };
}

/** Leeches then stops on `hash` as `who`, then waits for that credit: every batch sent before is written too. */
async function flushed(server: Server, who: Member, hash: Uint8Array): Promise<void> {
  const before = (await totals(server, who)).downloaded;
  const peerId = bytes20(0xee, 0x2d);
  await announce(server, who, { infoHash: hash, peerId, left: 100, event: "started" });
  await announce(server, who, { infoHash: hash, peerId, left: 100, downloaded: 7, event: "stopped" });
  await until(
    "the marker credit",
    () => totals(server, who),
    (t) => t.downloaded === before + 7,
  );
}

describe("with no min interval and a short peer timeout", () => {
  let server: Server & { stop(): Promise<void> };
  let alice: Member;
  let bob: Member;
  let mallory: Member;
  let carol: Member;
  const H = [0x51, 0x52, 0x53, 0x54, 0x55, 0x56].map((n) => bytes20(n, n));
  const MARK = H[5]!;

  beforeAll(async () => {
    server = await startTestServer({
      FAIRYWREN_MIN_ANNOUNCE_INTERVAL: "0",
      FAIRYWREN_PEER_TIMEOUT: "3",
      // These rules are about whose peer is whose; upload backed by download has its own tests
      // (attacks.test.ts), so a lone seeder's claim here is credited as before conservation.
      FAIRYWREN_BYTE_CONSERVATION: "false",
      FAIRYWREN_LOG_LEVEL: "error",
    });
    alice = await member(server.running, "alice");
    bob = await member(server.running, "bob");
    mallory = await member(server.running, "mallory");
    carol = await member(server.running, "carol");
    for (const hash of H) await torrent(server.running, hash);
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
  });

  test("a paused member is refused on every announce with left > 0, a seeder turned leecher included", async () => {
    const paused = await member(server.running, "paused");
    const running = bytes20(0x91, 0x2d);
    const seeding = bytes20(0x92, 0x2d);
    // A download running when the pause comes, and a peer that joined as a seeder.
    await announce(server, paused, { infoHash: H[0]!, peerId: running, left: 1000, event: "started" });
    await server.running.db.sql`update users set downloads_paused = true where id = ${paused.id}`;
    await server.running.sync.user(paused.id);
    await until(
      "the pause at the tracker",
      async () =>
        failure(await raw(server, paused, { infoHash: H[1]!, peerId: bytes20(0x93, 0x2d), left: 1000 })),
      (reason) => reason === PAUSED,
    );
    await announce(server, paused, { infoHash: H[0]!, peerId: seeding, left: 0, event: "started" });
    // Re-announcing that peer with left = size: refused, and out of the swarm.
    expect(failure(await raw(server, paused, { infoHash: H[0]!, peerId: seeding, left: 1000 }))).toBe(PAUSED);
    // The download that was running is refused at its next announce, and leaves the swarm.
    expect(failure(await raw(server, paused, { infoHash: H[0]!, peerId: running, left: 500 }))).toBe(PAUSED);
    expect(await scrape(server, paused, H[0]!)).toMatchObject({ complete: 0, incomplete: 0 });
    // Seeding goes on: a seeder re-announcing with left = 0 is answered.
    await announce(server, paused, { infoHash: H[0]!, peerId: seeding, left: 0, event: "started" });
    expect(failure(await raw(server, paused, { infoHash: H[0]!, peerId: seeding, left: 0 }))).toBeNull();
    expect(await scrape(server, paused, H[0]!)).toMatchObject({ complete: 1, incomplete: 0 });
  });

  test("compact=0 replies carry no peer ids; a squatter with another member's peer_id disturbs nothing", async () => {
    const victim = bytes20(0xa5, 0x2d);
    const leecher = bytes20(0xb5, 0x2d);
    await announce(server, alice, {
      infoHash: H[2]!,
      peerId: victim,
      left: 0,
      uploaded: 100,
      event: "started",
    });
    await announce(server, bob, { infoHash: H[2]!, peerId: leecher, left: 1000, event: "started" });
    // Mallory asks for the dictionary model: addresses and ports, no peer ids.
    const dict = await announce(server, mallory, {
      infoHash: H[2]!,
      peerId: bytes20(0xc5, 0x2d),
      left: 1000,
      compact: 0,
      event: "started",
    });
    const peers = dict.peers as Decoded[];
    expect(peers.length).toBe(2);
    for (const peer of peers) expect(Object.keys(peer).sort()).toEqual(["ip", "port"]);
    // While alice's peer is in the swarm, her peer_id announced by mallory is mallory's own peer.
    await announce(server, mallory, { infoHash: H[2]!, peerId: victim, left: 1000, event: "started" });
    await announce(server, alice, { infoHash: H[2]!, peerId: victim, left: 0, uploaded: 100 });
    const before = (await totals(server, alice)).uploaded;
    await until(
      "the reaper to drop every peer",
      () => scrape(server, alice, H[2]!),
      (s) => s.complete === 0 && s.incomplete === 0,
    );
    // Alice's kept counters are in the grace store; mallory announces her peer_id again.
    await announce(server, mallory, {
      infoHash: H[2]!,
      peerId: victim,
      left: 0,
      uploaded: 0,
      event: "started",
    });
    await announce(server, bob, { infoHash: H[2]!, peerId: leecher, left: 1000, event: "started" });
    // Alice comes back with 5 GB uploaded meanwhile: not refused, credited all of it.
    await announce(server, alice, { infoHash: H[2]!, peerId: victim, left: 0, uploaded: 100 + 5e9 });
    const after = await until(
      "alice's upload credit",
      () => totals(server, alice),
      (t) => t.uploaded > before,
    );
    expect(after.uploaded - before).toBe(5e9);
    await flushed(server, carol, MARK);
    expect((await totals(server, mallory)).uploaded).toBe(0);
  });
  test("a flood of started(up=1000) + stopped(up=0) pairs is one record with a repeat count", async () => {
    const flooder = await member(server.running, "flooder");
    const peerId = bytes20(0xf0, 0x2d);
    const pairs = 300;
    for (let i = 0; i < pairs; i++) {
      await announce(server, flooder, { infoHash: H[3]!, peerId, left: 0, uploaded: 1000, event: "started" });
      await announce(server, flooder, { infoHash: H[3]!, peerId, left: 0, uploaded: 0, event: "stopped" });
    }
    await until(
      "every record counted",
      async () =>
        (
          await server.running.db.sql`select records::int from suspicious_tally where user_id = ${flooder.id}`
        )[0]?.records,
      (n) => n === pairs,
      20_000,
    );
    const rows = await server.running.db.sql`
      select repeats::int, claimed_up, reasons from suspicious_transfers where user_id = ${flooder.id}`;
    // One row an hour: two if the flood straddled the turn of an hour.
    expect(rows.length).toBeLessThanOrEqual(2);
    expect(rows.reduce((n, r) => n + r.repeats, 0)).toBe(pairs);
    expect(rows.reduce((n, r) => n + Number(r.claimedUp), 0)).toBe(-1000 * pairs);
    expect(rows[0]!.reasons).toEqual(["backwards"]);
  }, 60_000);
});

describe("with an interval below what clients honour", () => {
  let server: Server & { stop(): Promise<void> };
  let alice: Member;
  let bob: Member;
  const H = bytes20(0x61, 0x61);
  const MARK = bytes20(0x62, 0x62);

  beforeAll(async () => {
    server = await startTestServer({
      FAIRYWREN_ANNOUNCE_INTERVAL: "10",
      FAIRYWREN_MIN_ANNOUNCE_INTERVAL: "0",
      FAIRYWREN_LOG_LEVEL: "error",
    });
    alice = await member(server.running, "alice");
    bob = await member(server.running, "bob");
    await torrent(server.running, H);
    await torrent(server.running, MARK);
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
  });

  test("a seeder re-announcing after 12 s at a 10 s interval earns all 12 s of seed time", async () => {
    const peerId = bytes20(0xa6, 0x2d);
    await announce(server, alice, { infoHash: H, peerId, left: 0, event: "started" });
    const started = Date.now();
    // As qBittorrent does at its 300 s floor, here 12 s past an interval of 10 s.
    await Bun.sleep(12_200);
    await announce(server, alice, { infoHash: H, peerId, left: 0 });
    const seconds = Math.floor((Date.now() - started) / 1000);
    await flushed(server, bob, MARK);
    const [row] = await server.running.db.sql`
      select seed_seconds from user_torrent_stats where user_id = ${alice.id}`;
    expect(Number(row!.seedSeconds)).toBeGreaterThanOrEqual(12);
    expect(Number(row!.seedSeconds)).toBeLessThanOrEqual(seconds + 1);
  }, 60_000);
});
