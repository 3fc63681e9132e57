// The UDP front end over the real tracker, datagram in and datagram out, without a socket: the
// connection ids, the passkey from BEP 41 URL data, the shared refusals, the reply bounds and the
// per-address rate. The same front end over real sockets is in test/hostile/udp.test.ts.
import { describe, expect, test } from "bun:test";
import { CLIENT_ERRORS } from "../../src/tracker/protocol/errors.ts";
import { Tracker } from "../../src/tracker/tracker.ts";
import { CONNECTION_WINDOW_SECONDS, createUdpHandler } from "../../src/tracker/udp.ts";
import { bytes20 } from "../helpers/announce.ts";
import { testPolicy } from "../helpers/policy.ts";
import { announcePacket, connectPacket, readReply, scrapePacket, type UdpReply } from "../helpers/udp.ts";

const T0 = 1_800_000_000;
const ALICE = "a".repeat(32);
const CAROL = "c".repeat(32);
const HASH = bytes20(1);
const OTHER = bytes20(2);

function hex(b: Uint8Array): string {
  return Buffer.from(b).toString("hex");
}

/** The passkey of one of the many members who fill a swarm (each may have only three peers in it). */
function member(i: number): string {
  return `m${i}`.padEnd(32, "x");
}

function setup(rate = 0, pathDepth = 0) {
  const tracker = new Tracker(testPolicy({ minAnnounceIntervalSeconds: 0, numwantMax: 1000 }), () => 0);
  tracker.load(
    [
      { id: 1, passkey: ALICE, disabled: false },
      { id: 3, passkey: CAROL, disabled: true },
      ...Array.from({ length: 500 }, (_, i) => ({ id: 100 + i, passkey: member(i), disabled: false })),
    ],
    [{ id: 10, infoHash: hex(HASH), infoHashV2: null, snatches: 4 }],
  );
  const clock = { now: T0, ms: 0 };
  const handle = createUdpHandler(tracker, {
    pathDepth,
    packetsPerSecond: rate,
    now: () => clock.now,
    nowMs: () => clock.ms,
  });
  return { tracker, clock, handle };
}

type Handle = ReturnType<typeof setup>["handle"];

function ask(handle: Handle, packet: Uint8Array, address = "10.0.0.1", port = 6881): UdpReply | null {
  const reply = handle(packet, address, port);
  return reply ? readReply(reply) : null;
}

function connect(handle: Handle, address = "10.0.0.1", port = 6881): Uint8Array {
  const reply = ask(handle, connectPacket(99), address, port);
  if (reply?.action !== 0) throw new Error("no connection id");
  return reply.connectionId;
}

function announce(
  handle: Handle,
  fields: Partial<Parameters<typeof announcePacket>[0]> & { peer: number },
  address = "10.0.0.1",
  port = 6881,
): UdpReply | null {
  const connectionId = connect(handle, address, port);
  return ask(
    handle,
    announcePacket({
      connectionId,
      tid: 5,
      infoHash: HASH,
      peerId: bytes20(fields.peer, 0x2d),
      urlData: `/${ALICE}/announce`,
      left: 100,
      port,
      ...fields,
    }),
    address,
    port,
  );
}

describe("connection ids", () => {
  test("a connect reply echoes the transaction id; the id works for announce", () => {
    const { handle } = setup();
    const reply = ask(handle, connectPacket(0xabcdef01));
    expect(reply).toMatchObject({ action: 0, tid: 0xabcdef01 });
    expect(announce(handle, { peer: 1 })).toMatchObject({ action: 1, tid: 5, leechers: 1, seeders: 0 });
  });

  test("an id is bound to the address and port it was given to", () => {
    const { handle } = setup();
    const id = connect(handle, "10.0.0.1", 6881);
    const packet = announcePacket({
      connectionId: id,
      tid: 5,
      infoHash: HASH,
      peerId: bytes20(1),
      urlData: `/${ALICE}/announce`,
    });
    expect(ask(handle, packet, "10.0.0.1", 6881)?.action).toBe(1);
    expect(ask(handle, packet, "10.0.0.2", 6881)).toEqual({
      action: 3,
      tid: 5,
      message: CLIENT_ERRORS.udpConnection.message,
    });
    expect(ask(handle, packet, "10.0.0.1", 6882)?.action).toBe(3);
  });

  test("an id is accepted through the next window and refused after it", () => {
    const { handle, clock } = setup();
    clock.now = T0 - (T0 % CONNECTION_WINDOW_SECONDS);
    const id = connect(handle);
    const packet = announcePacket({
      connectionId: id,
      tid: 5,
      infoHash: HASH,
      peerId: bytes20(1),
      urlData: `/${ALICE}/announce`,
    });
    clock.now += 2 * CONNECTION_WINDOW_SECONDS - 1;
    expect(ask(handle, packet)?.action).toBe(1);
    clock.now += 1;
    expect(ask(handle, packet)).toMatchObject({ action: 3, message: CLIENT_ERRORS.udpConnection.message });
  });

  test("a forged id is refused, and nothing changes", () => {
    const { handle, tracker } = setup();
    const forged = new Uint8Array(8).fill(0x5a);
    const packet = announcePacket({
      connectionId: forged,
      tid: 5,
      infoHash: HASH,
      peerId: bytes20(1),
      urlData: `/${ALICE}/announce`,
    });
    expect(ask(handle, packet)?.action).toBe(3);
    expect(tracker.swarms.size).toBe(0);
  });

  test("to an unverified address, no reply is larger than its request: a short scrape gets none", () => {
    const { handle } = setup();
    const forged = new Uint8Array(8);
    const short = scrapePacket(forged, 1, [HASH]);
    expect(handle(short, "10.0.0.1", 6881)).toBeNull();
    const long = announcePacket({ connectionId: forged, tid: 1, infoHash: HASH, peerId: bytes20(1) });
    expect(handle(long, "10.0.0.1", 6881)!.length).toBeLessThanOrEqual(long.length);
  });

  test("a connect without the magic number, and datagrams under 16 bytes, get nothing", () => {
    const { handle } = setup();
    const packet = connectPacket(1);
    packet[2] = 0;
    expect(handle(packet, "10.0.0.1", 6881)).toBeNull();
    expect(handle(new Uint8Array(15), "10.0.0.1", 6881)).toBeNull();
  });
});

describe("announce under the HTTP tracker's policy", () => {
  test.each([
    // No URL data: the client cannot send its passkey over UDP.
    ["no URL data", { urlData: undefined }, CLIENT_ERRORS.udpNeedsPasskey.message],
    // A passkey no member has.
    ["unknown passkey", { urlData: `/${"f".repeat(32)}/announce` }, CLIENT_ERRORS.unknownPasskey.message],
    // A passkey of the wrong length.
    ["short passkey", { urlData: "/abc/announce" }, CLIENT_ERRORS.unknownPasskey.message],
    // A path that is not an announce.
    ["not an announce path", { urlData: `/${ALICE}/scrape` }, CLIENT_ERRORS.notFound.message],
    // Carol is disabled.
    ["disabled account", { urlData: `/${CAROL}/announce` }, CLIENT_ERRORS.disabledAccount.message],
    // Not a torrent of the site.
    ["unregistered torrent", { infoHash: OTHER }, CLIENT_ERRORS.unregisteredTorrent.message],
  ])("%s: the HTTP tracker's failure reason", (_name, fields, message) => {
    const { handle, tracker } = setup();
    expect(announce(handle, { peer: 1, ...fields })).toEqual({ action: 3, tid: 5, message });
    expect(tracker.swarms.size).toBe(0);
  });

  test("the query after the path in the URL data is ignored; the passkey is read as over HTTP", () => {
    const { handle } = setup();
    expect(announce(handle, { peer: 1, urlData: `/${ALICE}/announce?pk=zzz` })?.action).toBe(1);
  });

  test("the reverse proxy's leading segments are skipped as over HTTP (pathDepth)", () => {
    const { handle } = setup(0, 1);
    expect(announce(handle, { peer: 1, urlData: `/tracker/${ALICE}/announce` })?.action).toBe(1);
    expect(announce(handle, { peer: 2, urlData: `/${ALICE}/announce` })).toMatchObject({ action: 3 });
  });

  test("IPv4 requesters get 6-byte peers of IPv4, IPv6 requesters 18-byte peers of IPv6", () => {
    const { handle } = setup();
    const as = (i: number) => `/${member(i)}/announce`;
    announce(handle, { peer: 1, urlData: as(1) }, "10.0.0.1", 1001);
    announce(handle, { peer: 2, urlData: as(2) }, "2001:db8::2", 1002);
    const v4 = announce(handle, { peer: 3, urlData: as(3) }, "10.0.0.3", 1003);
    const v6 = announce(handle, { peer: 4, urlData: as(4) }, "2001:db8::4", 1004);
    if (v4?.action !== 1 || v6?.action !== 1) throw new Error("no announce reply");
    expect(v4.peers.length).toBe(6);
    expect([...v4.peers]).toEqual([10, 0, 0, 1, 1001 >> 8, 1001 & 0xff]);
    expect(v6.peers.length).toBe(18);
    expect([...v6.peers.subarray(0, 4)]).toEqual([0x20, 0x01, 0x0d, 0xb8]);
    expect(v6.peers[15]).toBe(2);
    expect(v6.leechers).toBe(4);
  });

  test("an IPv4-mapped source (a dual-stack socket) is an IPv4 peer", () => {
    const { handle } = setup();
    announce(handle, { peer: 1 }, "::ffff:10.0.0.1", 1001);
    const reply = announce(handle, { peer: 2 }, "10.0.0.2", 1002);
    if (reply?.action !== 1) throw new Error("no announce reply");
    expect([...reply.peers]).toEqual([10, 0, 0, 1, 1001 >> 8, 1001 & 0xff]);
  });

  test("the reply never exceeds one frame: peers are bounded whatever numwant asks", () => {
    const { handle } = setup();
    for (let i = 0; i < 400; i++)
      announce(
        handle,
        { peer: i, urlData: `/${member(i)}/announce`, left: 0 },
        `10.1.${i >> 8}.${i & 0xff}`,
        1000 + i,
      );
    const v4 = announce(handle, { peer: 251, numwant: 100_000 }, "10.9.9.9");
    if (v4?.action !== 1) throw new Error("no announce reply");
    expect(v4.peers.length % 6).toBe(0);
    expect(20 + v4.peers.length).toBeLessThanOrEqual(1440);
    expect(v4.peers.length / 6).toBeGreaterThan(100);
  });

  test("a stopped announce removes the peer and lists no one", () => {
    const { handle, tracker } = setup();
    announce(handle, { peer: 1 });
    expect(tracker.swarms.size).toBe(1);
    const reply = announce(handle, { peer: 1, event: 3 });
    expect(reply).toMatchObject({ action: 1, leechers: 0, seeders: 0, peers: new Uint8Array(0) });
    expect(tracker.swarms.size).toBe(0);
  });

  test("an unknown action with a valid id gets an error naming the actions", () => {
    const { handle } = setup();
    const id = connect(handle);
    const packet = scrapePacket(id, 8, [HASH]);
    packet[11] = 9;
    expect(ask(handle, packet)).toEqual({
      action: 3,
      tid: 8,
      message: CLIENT_ERRORS.udpUnknownAction.message,
    });
  });
});

describe("scrape", () => {
  test("needs an announce with a passkey from the address first", () => {
    const { handle } = setup();
    const id = connect(handle);
    expect(ask(handle, scrapePacket(id, 3, [HASH]))).toEqual({
      action: 3,
      tid: 3,
      message: CLIENT_ERRORS.udpScrapeNeedsAnnounce.message,
    });
  });

  test("counts in the order asked, zeros for an unregistered hash", () => {
    const { handle } = setup();
    announce(handle, { peer: 1, left: 0 });
    announce(handle, { peer: 2 });
    const id = connect(handle);
    expect(ask(handle, scrapePacket(id, 3, [OTHER, HASH]))).toEqual({
      action: 2,
      tid: 3,
      counts: [
        { seeders: 0, completed: 0, leechers: 0 },
        { seeders: 1, completed: 4, leechers: 1 },
      ],
    });
  });

  test("a member disabled since their announce is refused as over HTTP", () => {
    const { handle, tracker } = setup();
    announce(handle, { peer: 1 });
    tracker.upsertUser({ id: 1, passkey: ALICE, disabled: true });
    const id = connect(handle);
    expect(ask(handle, scrapePacket(id, 3, [HASH]))).toMatchObject({
      action: 3,
      message: CLIENT_ERRORS.disabledAccount.message,
    });
  });
});

describe("rate per address", () => {
  test("a flood from one address is answered up to twice the rate, then dropped; others are not affected", () => {
    const { handle, clock } = setup(10);
    let answered = 0;
    for (let i = 0; i < 100; i++) if (handle(connectPacket(i), "10.0.0.66", 6881)) answered++;
    expect(answered).toBe(20);
    expect(handle(connectPacket(1), "10.0.0.67", 6881)).not.toBeNull();
    // A second later, ten more tokens.
    clock.ms += 1000;
    answered = 0;
    for (let i = 0; i < 100; i++) if (handle(connectPacket(i), "10.0.0.66", 6881)) answered++;
    expect(answered).toBe(10);
  });

  test("memory stays bounded under packets from many addresses", () => {
    const { handle } = setup(10);
    for (let i = 0; i < 70_000; i++)
      handle(connectPacket(i), `10.${(i >> 16) & 0xff}.${(i >> 8) & 0xff}.${i & 0xff}`, 6881);
    // The first address was forgotten to make room: it starts again with a full bucket.
    let answered = 0;
    for (let i = 0; i < 30; i++) if (handle(connectPacket(i), "10.0.0.0", 6881)) answered++;
    expect(answered).toBe(20);
  });
});
