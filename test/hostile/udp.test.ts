// The UDP tracker of the real running process over real UDP sockets, IPv4 and IPv6 (the tracker
// listens on "::", both families): connect, announce and scrape as a client does them, error packets
// with the HTTP tracker's own failure reasons, forged connection ids, truncated datagrams, wrong
// actions, garbage and oversized datagrams, and a flood from one address. Nothing may crash it, no
// unverified address gets a reply larger than its request, and the swarm stays as it was.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createUser } from "../../src/db/queries/users.ts";
import { serve } from "../../src/server.ts";
import { announceQuery, bytes20 } from "../helpers/announce.ts";
import { freshServerDatabase, startTestServer, testConfig } from "../helpers/server.ts";
import {
  announcePacket,
  connectId,
  connectPacket,
  readReply,
  scrapePacket,
  type UdpClient,
  type UdpReply,
  udpClient,
} from "../helpers/udp.ts";
import { decodeReply, failureReason } from "./bencode.ts";
import { type Rng, seeded } from "./fuzz.ts";

/** Packets a second answered per address on this server: small, so the flood test is quick. */
const RATE = 40;
const HASH = bytes20(0x51, 0xc3);
const UNKNOWN = bytes20(0x52, 0xc3);

let server: Awaited<ReturnType<typeof startTestServer>>;
let passkey: string;
let udpPort: number;
/** Clients on their own loopback addresses, so one's rate is not another's. */
let v4: UdpClient;
let v6: UdpClient | null = null;

/** The HTTP tracker's failure reason for the same announce, for comparison. */
async function httpReason(key: string, infoHash = HASH): Promise<string | null> {
  const response = await fetch(
    `${server.tracker}/${key}/announce?${announceQuery({ infoHash, peerId: bytes20(0x77, 0x2d) })}`,
  );
  return failureReason(decodeReply(new Uint8Array(await response.arrayBuffer())));
}

async function ask(client: UdpClient, packet: Uint8Array): Promise<UdpReply | null> {
  const reply = await client.ask(packet);
  return reply ? readReply(reply) : null;
}

async function announce(
  client: UdpClient,
  peer: number,
  fields: Partial<Parameters<typeof announcePacket>[0]> = {},
): Promise<UdpReply | null> {
  const connectionId = await connectId(client);
  return ask(
    client,
    announcePacket({
      connectionId,
      tid: 0x0a0b0c0d,
      infoHash: HASH,
      peerId: bytes20(peer, 0x2d),
      urlData: `/${passkey}/announce`,
      left: 1000,
      port: 40_000 + peer,
      ...fields,
    }),
  );
}

/** Seeders, completed and leechers of the test torrent, by UDP scrape from `client`. */
async function udpCounts(client: UdpClient): Promise<string> {
  const connectionId = await connectId(client);
  const reply = await ask(client, scrapePacket(connectionId, 3, [HASH]));
  if (reply?.action !== 2) throw new Error(`no scrape reply: ${JSON.stringify(reply)}`);
  const [c] = reply.counts;
  return `${c!.seeders}/${c!.leechers}/${c!.completed}`;
}

beforeAll(async () => {
  server = await startTestServer({
    FAIRYWREN_TRACKER_HOST: "::",
    FAIRYWREN_UDP_PORT: "0",
    FAIRYWREN_UDP_RATE: String(RATE),
    FAIRYWREN_MIN_ANNOUNCE_INTERVAL: "0",
    FAIRYWREN_LOG_LEVEL: "error",
  });
  udpPort = server.running.udpPort!;
  const sql = server.running.db.sql;
  const { user } = await createUser(sql, { name: "udp_peer", passwordHash: "x" });
  await server.running.sync.user(user.id);
  passkey = user.passkey;
  const [row] = await sql`
    insert into torrents (info_hash, title, size, files, metainfo)
    values (${Buffer.from(HASH)}, 'Over UDP', 1000, '[]', ${Buffer.from("de")})
    returning id
  `;
  await server.running.sync.torrent(row!.id);
  v4 = await udpClient("127.0.0.1", udpPort);
  // IPv6 where the machine has ::1.
  v6 = await udpClient("::1", udpPort).catch(() => null);
});
afterAll(async () => {
  v4?.close();
  v6?.close();
  await server?.stop();
});

describe("start-up", () => {
  test("a second server on the same UDP port refuses to start and says why", async () => {
    const db = await freshServerDatabase();
    try {
      const config = testConfig({
        ...db.env,
        FAIRYWREN_TRACKER_HOST: "::",
        FAIRYWREN_UDP_PORT: String(udpPort),
      });
      const error = await serve(config).then(
        async (running) => {
          await running.stop();
          return null;
        },
        (e: Error) => e,
      );
      expect(error?.message).toContain(`the UDP tracker port ${udpPort} on :: is already in use`);
    } finally {
      await db.drop();
    }
  }, 60_000);
});

describe("a client's exchange", () => {
  test("the server reports its UDP port, and it differs from the HTTP one", () => {
    expect(udpPort).toBeGreaterThan(0);
    expect(udpPort).not.toBe(server.running.trackerPort);
  });

  test("connect, announce as a leecher, announce as a seeder: the seeder is given the leecher", async () => {
    const leecher = await announce(v4, 1);
    expect(leecher).toMatchObject({ action: 1, tid: 0x0a0b0c0d, leechers: 1, seeders: 0 });
    const seeder = await announce(v4, 2, { left: 0 });
    if (seeder?.action !== 1) throw new Error(JSON.stringify(seeder));
    expect(seeder.leechers).toBe(1);
    expect(seeder.seeders).toBe(1);
    expect(seeder.interval).toBeGreaterThan(0);
    expect([...seeder.peers]).toEqual([127, 0, 0, 1, (40_001 >> 8) & 0xff, 40_001 & 0xff]);
    expect(await udpCounts(v4)).toBe("1/1/0");
  });

  test("the same announce over HTTP and UDP reaches one swarm", async () => {
    const response = await fetch(
      `${server.tracker}/${passkey}/scrape?info_hash=${[...HASH].map((b) => `%${b.toString(16).padStart(2, "0")}`).join("")}`,
    );
    const files = decodeReply(new Uint8Array(await response.arrayBuffer())).get("files") as Map<
      string,
      Map<string, number>
    >;
    const entry = [...files.values()][0]!;
    expect([entry.get("complete"), entry.get("incomplete")]).toEqual([1, 1]);
  });

  test("a stopped announce leaves the swarm", async () => {
    expect(await announce(v4, 2, { left: 0, event: 3 })).toMatchObject({
      action: 1,
      peers: new Uint8Array(0),
    });
    expect(await udpCounts(v4)).toBe("0/1/0");
  });

  test("IPv6: an announce from ::1 is given 18-byte peers, IPv6 only", async () => {
    if (!v6) return;
    const first = await announce(v6, 3);
    expect(first).toMatchObject({ action: 1 });
    const second = await announce(v6, 4, { left: 0 });
    if (second?.action !== 1) throw new Error(JSON.stringify(second));
    expect(second.peers.length).toBe(18);
    expect([...second.peers.subarray(0, 16)]).toEqual([...new Uint8Array(15), 1]);
    expect((second.peers[16]! << 8) | second.peers[17]!).toBe(40_003);
    // Both families are one swarm: the IPv4 leecher counts too.
    expect([second.seeders, second.leechers]).toEqual([1, 2]);
    for (const peer of [3, 4]) expect(await announce(v6, peer, { event: 3 })).toMatchObject({ action: 1 });
    expect(await udpCounts(v6)).toBe("0/1/0");
  });
});

describe("error packets carry the HTTP tracker's failure reasons", () => {
  test.each([
    ["unknown passkey", () => "0".repeat(32), HASH],
    ["unregistered torrent", () => passkey, UNKNOWN],
  ])("%s", async (_name, key, infoHash) => {
    const reply = await announce(v4, 9, { urlData: `/${key()}/announce`, infoHash });
    const reason = await httpReason(key(), infoHash);
    expect(reason).not.toBeNull();
    expect(reply).toEqual({ action: 3, tid: 0x0a0b0c0d, message: reason! });
  });

  test("no URL data: the reason says to use the HTTP URL", async () => {
    const reply = await announce(v4, 9, { urlData: undefined });
    if (reply?.action !== 3) throw new Error(JSON.stringify(reply));
    expect(reply.message).toContain("HTTP announce URL");
  });

  test("a malformed announce names what is wrong, as over HTTP", async () => {
    const reply = await announce(v4, 9, { event: 7 });
    if (reply?.action !== 3) throw new Error(JSON.stringify(reply));
    expect(reply.message).toStartWith("Malformed request: event");
  });
});

describe("hostile datagrams", () => {
  test("a forged connection id: an error no larger than the request, or nothing; nothing changes", async () => {
    const forged = new Uint8Array(8).fill(0x42);
    const packet = announcePacket({
      connectionId: forged,
      tid: 1,
      infoHash: HASH,
      peerId: bytes20(20, 0x2d),
      urlData: `/${passkey}/announce`,
    });
    const reply = await v4.ask(packet);
    expect(reply).not.toBeNull();
    expect(reply!.length).toBeLessThanOrEqual(packet.length);
    expect(readReply(reply!)).toMatchObject({
      action: 3,
      message: "Connection id expired or unknown: connect again.",
    });
    // A short scrape with a forged id would be answered with more than it sent: no answer.
    expect(await v4.ask(scrapePacket(forged, 2, [HASH]), 300)).toBeNull();
    expect(await udpCounts(v4)).toBe("0/1/0");
  });

  test("a connection id given to another port of the same address is refused", async () => {
    const other = await udpClient("127.0.0.1", udpPort);
    try {
      const id = await connectId(other);
      const reply = await ask(
        v4,
        announcePacket({
          connectionId: id,
          tid: 1,
          infoHash: HASH,
          peerId: bytes20(21),
          urlData: `/${passkey}/announce`,
        }),
      );
      expect(reply).toMatchObject({ action: 3 });
    } finally {
      other.close();
    }
  });

  test("truncated datagrams: under 16 bytes nothing; a short announce with a valid id, a named error", async () => {
    for (const length of [0, 1, 8, 15])
      expect(await v4.ask(connectPacket(1).subarray(0, length), 200)).toBeNull();
    const id = await connectId(v4);
    const full = announcePacket({
      connectionId: id,
      tid: 4,
      infoHash: HASH,
      peerId: bytes20(22),
      urlData: `/${passkey}/announce`,
    });
    const reply = await ask(v4, full.subarray(0, 60));
    expect(reply).toEqual({
      action: 3,
      tid: 4,
      message: "Malformed request: an announce must be at least 98 bytes.",
    });
  });

  test("wrong actions: a connect without the magic number gets nothing; action 9 an error", async () => {
    const bad = connectPacket(5);
    bad[3] = 0xff;
    expect(await v4.ask(bad, 300)).toBeNull();
    const id = await connectId(v4);
    const packet = scrapePacket(id, 6, [HASH]);
    packet[11] = 9;
    expect(await ask(v4, packet)).toMatchObject({
      action: 3,
      tid: 6,
      message: expect.stringContaining("action"),
    });
  });

  test("75 hashes in one scrape: refused with the limit named", async () => {
    const id = await connectId(v4);
    const reply = await ask(
      v4,
      scrapePacket(
        id,
        7,
        Array.from({ length: 75 }, (_, i) => bytes20(i)),
      ),
    );
    expect(reply).toMatchObject({ action: 3, message: expect.stringContaining("at most 74") });
  });

  test(
    "garbage and oversized datagrams from another address: only BEP 15 replies, and the tracker keeps answering",
    seeded("udp garbage", async ({ rng, note }) => {
      const junk = await udpClient("127.0.0.1", udpPort, "127.0.0.4");
      try {
        const id = await connectId(junk);
        const problems: string[] = [];
        for (let i = 0; i < 30; i++) {
          const packet = garbage(rng, id);
          note(packet);
          const reply = await junk.ask(packet, 100);
          if (!reply) continue;
          try {
            const read = readReply(reply);
            // Only a verified address (its id) may get more bytes back than it sent.
            if (reply.length > packet.length && !startsWithId(packet, id)) problems.push("amplified reply");
            if (read.action === 1 || read.action === 2) continue;
          } catch (error) {
            problems.push((error as Error).message);
          }
        }
        // The largest datagram the tracker can be sent.
        junk.send(new Uint8Array(65_000).fill(0xff));
        expect(problems).toEqual([]);
        expect(await connectId(junk)).toHaveLength(8);
      } finally {
        junk.close();
      }
      expect(await announce(v4, 1)).toMatchObject({ action: 1 });
    }),
  );

  test("clients gone before their reply (ICMP port unreachable): the tracker keeps answering", async () => {
    for (let i = 0; i < 10; i++) {
      const gone = await udpClient("127.0.0.1", udpPort, "127.0.0.5");
      gone.send(connectPacket(i));
      gone.close();
    }
    await Bun.sleep(200);
    expect(await udpCounts(v4)).toBe("0/1/0");
  });

  test("a flood from one address is answered up to its rate and then dropped; other addresses are served", async () => {
    const flood = await udpClient("127.0.0.1", udpPort, "127.0.0.2");
    try {
      for (let i = 0; i < 1000; i++) flood.send(connectPacket(i));
      // Replies to what was admitted arrive within moments; nothing more comes afterwards.
      let answered = 0;
      for (let quiet = 0; quiet < 5; ) {
        await Bun.sleep(100);
        const got = flood.drain().length;
        answered += got;
        quiet = got === 0 ? quiet + 1 : 0;
      }
      expect(answered).toBeGreaterThanOrEqual(RATE);
      expect(answered).toBeLessThan(1000 / 2);
      expect(await udpCounts(v4)).toBe("0/1/0");
    } finally {
      flood.close();
    }
  });
});

function startsWithId(packet: Uint8Array, id: Uint8Array): boolean {
  if (packet.length < 8) return false;
  for (let i = 0; i < 8; i++) if (packet[i] !== id[i]) return false;
  return true;
}

/** A random datagram: pure noise, a valid header with a random body, or a valid id with junk options. */
function garbage(rng: Rng, id: Uint8Array): Uint8Array {
  const kind = rng.int(3);
  const length = rng.pick([1, 15, 16, 17, 97, 98, 99, 200, 1400, 9000]);
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = rng.int(256);
  if (kind >= 1 && length >= 16) {
    bytes.set(id, 0);
    bytes[8] = 0;
    bytes[9] = 0;
    bytes[10] = 0;
    bytes[11] = rng.int(4);
  }
  if (kind === 2 && length >= 98) {
    bytes[11] = 1;
    bytes.set(HASH, 16);
  }
  return bytes;
}
