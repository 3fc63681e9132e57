// The tracker over real sockets, in the real process layout (web side + Worker), with the real
// database behind it (embedded, or PostgreSQL when DATABASE_URL is set).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import bencode from "bencode";
import { createUser } from "../../src/db/queries/users.ts";
import { announceQuery, bytes20, escapeBytes } from "../helpers/announce.ts";
import { startTestServer } from "../helpers/server.ts";

let server: Awaited<ReturnType<typeof startTestServer>>;
let alice: { id: number; passkey: string };
let bob: { id: number; passkey: string };
const HASH = bytes20(0x11, 0xfe);
const HASH2 = bytes20(0x12, 0x2b);
let torrentId = 0;

type Decoded = Record<string, unknown>;

async function get(
  path: string,
  init?: RequestInit,
): Promise<{ status: number; body: Decoded; raw: Buffer }> {
  const response = await fetch(`${server.tracker}${path}`, init);
  const raw = Buffer.from(await response.arrayBuffer());
  return { status: response.status, body: bencode.decode(raw) as Decoded, raw };
}
function reason(body: Decoded): string {
  return Buffer.from((body["failure reason"] as Uint8Array | undefined) ?? []).toString();
}
async function addTorrent(hash: Uint8Array, title: string): Promise<number> {
  const [row] = await server.running.db.sql`
    insert into torrents (info_hash, title, size, files, metainfo)
    values (${Buffer.from(hash)}, ${title}, 10000, '[]', ${Buffer.from("de")})
    returning id
  `;
  await server.running.sync.torrent(row!.id);
  return row!.id;
}
async function until<T>(probe: () => Promise<T>, ok: (value: T) => boolean, ms = 3000): Promise<T> {
  const end = Date.now() + ms;
  let value = await probe();
  while (!ok(value) && Date.now() < end) {
    await Bun.sleep(25);
    value = await probe();
  }
  return value;
}

beforeAll(async () => {
  // A reported download is shared among upload claims after 1 s (byte conservation).
  server = await startTestServer({
    FAIRYWREN_TRACKER_HOST: "::",
    FAIRYWREN_MIN_ANNOUNCE_INTERVAL: "0",
    FAIRYWREN_CLAIM_HOLD: "1",
  });
  const sql = server.running.db.sql;
  for (const name of ["alice", "bob"]) {
    const { user } = await createUser(sql, { name, passwordHash: "x" });
    await server.running.sync.user(user.id);
  }
  const rows = await sql`select id, passkey from users order by id`;
  alice = rows[0] as typeof alice;
  bob = rows[1] as typeof bob;
  torrentId = await addTorrent(HASH, "First");
  await addTorrent(HASH2, "Second");
});
afterAll(async () => {
  await server?.stop();
});

describe("refusals over HTTP", () => {
  test("unknown passkey, unregistered torrent, malformed request: bencoded reasons with HTTP 200", async () => {
    const q = announceQuery({ infoHash: HASH, peerId: bytes20(1) });
    const unknown = await get(`/${"0".repeat(32)}/announce?${q}`);
    expect(unknown.status).toBe(200);
    expect(reason(unknown.body)).toContain("Unknown passkey");
    const short = await get(`/abc/announce?${q}`);
    expect(reason(short.body)).toContain("Unknown passkey");
    const unregistered = await get(
      `/${alice.passkey}/announce?${announceQuery({ infoHash: bytes20(99), peerId: bytes20(1) })}`,
    );
    expect(reason(unregistered.body)).toContain("not registered");
    const malformed = await get(`/${alice.passkey}/announce?info_hash=%zz&peer_id=x`);
    expect(reason(malformed.body)).toContain("info_hash");
  });

  test("other methods and paths get a bencoded reason, never a crash", async () => {
    const post = await get(`/${alice.passkey}/announce`, { method: "POST", body: "x" });
    expect(post.status).toBe(405);
    expect(reason(post.body)).toContain("GET");
    const nowhere = await get("/x/y/z");
    expect(nowhere.status).toBe(404);
    expect(reason(nowhere.body)).toContain("announce URL");
    expect((await fetch(`${server.tracker}/health`)).status).toBe(200);
  });
});

describe("announce and scrape", () => {
  test("peers find each other over IPv4 and IPv6; compact=0 gives addresses without peer ids", async () => {
    const seed = await get(
      `/${alice.passkey}/announce?${announceQuery({ infoHash: HASH, peerId: bytes20(1), port: 5001, left: 0, event: "started" })}`,
    );
    expect(seed.body.complete).toBe(1);
    expect((seed.body.peers as Uint8Array).length).toBe(0);
    // Bob connects over IPv6 loopback: his address goes out in peers6.
    const v6 = `http://[::1]:${server.running.trackerPort}`;
    const response = await fetch(
      `${v6}/${bob.passkey}/announce?${announceQuery({ infoHash: HASH, peerId: bytes20(2), port: 5002, event: "started" })}`,
    );
    const leech = bencode.decode(Buffer.from(await response.arrayBuffer())) as Decoded;
    expect(leech.complete).toBe(1);
    expect(leech.incomplete).toBe(1);
    expect(Buffer.from(leech.peers as Uint8Array)).toEqual(
      Buffer.from([127, 0, 0, 1, 5001 >> 8, 5001 & 255]),
    );
    // Alice, a seeder, gets Bob the leecher in peers6.
    const again = await get(
      `/${alice.passkey}/announce?${announceQuery({ infoHash: HASH, peerId: bytes20(1), port: 5001, left: 0 })}`,
    );
    const peers6 = Buffer.from(again.body.peers6 as Uint8Array);
    expect(peers6.length).toBe(18);
    expect(peers6.subarray(0, 16)).toEqual(Buffer.from([...new Array(15).fill(0), 1]));
    expect(peers6.readUInt16BE(16)).toBe(5002);
    const dict = await get(
      `/${bob.passkey}/announce?${announceQuery({ infoHash: HASH, peerId: bytes20(3), port: 5003, compact: 0 })}`,
    );
    const peers = dict.body.peers as Decoded[];
    const alicePeer = peers.find((p) => (p.port as number) === 5001)!;
    expect(alicePeer["peer id"]).toBeUndefined();
    expect(Buffer.from(alicePeer.ip as Uint8Array).toString()).toBe("127.0.0.1");
  });

  test("scrape of several hashes", async () => {
    const scrape = await get(
      `/${bob.passkey}/scrape?info_hash=${escapeBytes(HASH)}&info_hash=${escapeBytes(HASH2)}`,
    );
    const files = scrape.body.files as Record<string, Decoded>;
    expect(Object.keys(files)).toHaveLength(2);
    // The bencode package gives keys that are valid UTF-8 as text and the others as hex.
    const entry = (hash: Uint8Array) =>
      files[Buffer.from(hash).toString("hex")] ?? files[Buffer.from(hash).toString()];
    expect(entry(HASH)!.complete).toBe(1);
    expect(entry(HASH2)).toEqual({ complete: 0, incomplete: 0, downloaded: 0 });
  });

  test("credit after two announces reaches the database after a flush; counts reach the web side", async () => {
    const q = (uploaded: number, downloaded: number, left: number, event?: string) =>
      `/${bob.passkey}/announce?${announceQuery({ infoHash: HASH2, peerId: bytes20(7), uploaded, downloaded, left, event })}`;
    // Alice leeches meanwhile and reports what bob uploaded: his upload had somewhere to go
    // (byte conservation credits it against her download).
    const alicePeer = (event: string, downloaded = 0) =>
      `/${alice.passkey}/announce?${announceQuery({ infoHash: HASH2, peerId: bytes20(8), downloaded, event })}`;
    await get(alicePeer("started"));
    await get(q(1000, 2000, 7000, "started"));
    await get(q(4000, 9000, 0, "completed"));
    await get(alicePeer("stopped", 3000));
    const sql = server.running.db.sql;
    const stats = await until(
      async () =>
        (
          await sql`select uploaded, downloaded, completed_at from user_torrent_stats where user_id = ${bob.id}`
        )[0],
      (row) => row?.uploaded === 3000,
    );
    expect(stats?.downloaded).toBe(7000);
    expect(stats?.completedAt).toBeInstanceOf(Date);
    const [user] = await sql`select uploaded, downloaded from users where id = ${bob.id}`;
    expect(user).toEqual({ uploaded: 3000, downloaded: 7000 });
    const [torrent] = await sql`
        select t.snatches, c.seeders from torrents t join torrent_counts c on c.torrent_id = t.id
        where t.info_hash = ${Buffer.from(HASH2)}
      `;
    expect(torrent!.snatches).toBe(1);
    const counts = await until(
      async () => server.running.counts.get(torrentId + 1),
      (c) => c?.snatches === 1,
    );
    expect(counts).toEqual({ seeders: 1, leechers: 0, snatches: 1 });
  });

  test("a member disabled on the web side is refused within 1 s", async () => {
    const sql = server.running.db.sql;
    await sql`update users set disabled = true where id = ${bob.id}`;
    const started = Date.now();
    await server.running.sync.user(bob.id);
    const refused = await until(
      () =>
        get(`/${bob.passkey}/announce?${announceQuery({ infoHash: HASH, peerId: bytes20(2), port: 5002 })}`),
      (r) => reason(r.body).includes("disabled"),
      1000,
    );
    expect(reason(refused.body)).toContain("account is disabled");
    expect(Date.now() - started).toBeLessThan(1000);
    await sql`update users set disabled = false where id = ${bob.id}`;
    await server.running.sync.user(bob.id);
  });

  test("stopped removes the peer from the swarm", async () => {
    const stopped = await get(
      `/${alice.passkey}/announce?${announceQuery({ infoHash: HASH, peerId: bytes20(1), port: 5001, left: 0, event: "stopped" })}`,
    );
    expect(stopped.body.complete).toBe(0);
  });
});
