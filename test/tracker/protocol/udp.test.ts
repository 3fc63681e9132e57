import { describe, expect, test } from "bun:test";
import {
  announceReply,
  connectReply,
  errorReply,
  isConnect,
  parseUdpAnnounce,
  parseUdpScrape,
  readHeader,
  scrapeReply,
} from "../../../src/tracker/protocol/udp.ts";
import { bytes20 } from "../../helpers/announce.ts";
import { announcePacket, connectPacket, readReply, scrapePacket, urlDataOptions } from "../../helpers/udp.ts";

const LIMITS = { numwantDefault: 50, numwantMax: 100 };
const CID = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]);
const HASH = bytes20(0x11);
const PEER = bytes20(0x22, 0x2d);
const PATH = `/${"a".repeat(32)}/announce`;

function parsed(packet: Uint8Array, maxPeers = 200) {
  const result = parseUdpAnnounce(packet, LIMITS, maxPeers);
  if ("error" in result) throw new Error(result.error.message);
  return result;
}

function refusal(packet: Uint8Array): string {
  const result = parseUdpAnnounce(packet, LIMITS, 200);
  if (!("error" in result)) throw new Error("parsed");
  return result.error.message;
}

describe("header", () => {
  test("a connect request is recognised by its magic number and action 0", () => {
    const header = readHeader(connectPacket(0xdeadbeef))!;
    expect(header.transactionId).toBe(0xdeadbeef);
    expect(isConnect(header)).toBe(true);
  });

  test("action 0 without the magic number is not a connect", () => {
    const packet = connectPacket(1);
    packet[7] = 0; // magic's last byte
    expect(isConnect(readHeader(packet)!)).toBe(false);
  });

  test("fewer than 16 bytes carry no header", () => {
    expect(readHeader(new Uint8Array(15))).toBeNull();
    expect(readHeader(new Uint8Array(0))).toBeNull();
  });
});

describe("announce packets", () => {
  test("every field is read from its offset, big-endian", () => {
    const { request, urlData } = parsed(
      announcePacket({
        connectionId: CID,
        tid: 9,
        infoHash: HASH,
        peerId: PEER,
        downloaded: 2 ** 40 + 5,
        left: 123_456_789,
        uploaded: 2 ** 33,
        event: 0,
        numwant: 30,
        port: 51413,
        urlData: PATH,
      }),
    );
    expect([...request.infoHash]).toEqual([...HASH]);
    expect([...request.peerId]).toEqual([...PEER]);
    expect(request.downloaded).toBe(2 ** 40 + 5);
    expect(request.left).toBe(123_456_789);
    expect(request.uploaded).toBe(2 ** 33);
    expect(request.port).toBe(51413);
    expect(request.numwant).toBe(30);
    expect(request.compact).toBe(true);
    expect(urlData).toBe(PATH);
  });

  test.each([
    // BEP 15 numbers events differently from the HTTP order: 1 completed, 2 started.
    [0, 0],
    [1, 2],
    [2, 1],
    [3, 3],
  ])("UDP event %i is the tracker's event %i", (udp, mine) => {
    const { request } = parsed(
      announcePacket({ connectionId: CID, tid: 1, infoHash: HASH, peerId: PEER, event: udp }),
    );
    expect(request.event as number).toBe(mine);
  });

  test("numwant -1 takes the default; larger asks are clamped to the policy and to the reply bound", () => {
    const base = { connectionId: CID, tid: 1, infoHash: HASH, peerId: PEER };
    expect(parsed(announcePacket({ ...base, numwant: -1 })).request.numwant).toBe(50);
    expect(parsed(announcePacket({ ...base, numwant: 5000 })).request.numwant).toBe(100);
    expect(parsed(announcePacket({ ...base, numwant: 5000 }), 40).request.numwant).toBe(40);
    expect(parsed(announcePacket({ ...base, numwant: 0 })).request.numwant).toBe(0);
  });

  test("no options: no URL data", () => {
    expect(
      parsed(announcePacket({ connectionId: CID, tid: 1, infoHash: HASH, peerId: PEER })).urlData,
    ).toBeNull();
  });

  test("URL data is concatenated across options, NOPs skipped, and stops at EndOfOptions", () => {
    const path = `/${"b".repeat(32)}/announce?x=1`;
    const bytes = new TextEncoder().encode(path);
    const options = new Uint8Array([
      2,
      10,
      ...bytes.subarray(0, 10),
      1,
      1,
      2,
      bytes.length - 10,
      ...bytes.subarray(10),
      0,
      // After EndOfOptions: ignored, even another URLData.
      2,
      3,
      0x41,
      0x41,
      0x41,
    ]);
    expect(
      parsed(announcePacket({ connectionId: CID, tid: 1, infoHash: HASH, peerId: PEER, options })).urlData,
    ).toBe(path);
  });

  test("URL data longer than one option (255 bytes) is joined", () => {
    const long = `/${"c".repeat(300)}`;
    const options = urlDataOptions(long);
    expect(options[1]).toBe(255);
    expect(
      parsed(announcePacket({ connectionId: CID, tid: 1, infoHash: HASH, peerId: PEER, options })).urlData,
    ).toBe(long);
  });

  test("an option of an unknown type with a length is skipped", () => {
    const options = new Uint8Array([7, 2, 0xff, 0xff, ...urlDataOptions(PATH)]);
    expect(
      parsed(announcePacket({ connectionId: CID, tid: 1, infoHash: HASH, peerId: PEER, options })).urlData,
    ).toBe(PATH);
  });

  test("bytes above 0x7f in URL data are kept one character each", () => {
    const options = new Uint8Array([2, 3, 0x2f, 0xe9, 0x41]);
    const data = parsed(announcePacket({ connectionId: CID, tid: 1, infoHash: HASH, peerId: PEER, options }))
      .urlData!;
    expect([...data].map((c) => c.charCodeAt(0))).toEqual([0x2f, 0xe9, 0x41]);
  });

  const base = { connectionId: CID, tid: 1, infoHash: HASH, peerId: PEER };
  test.each([
    // One byte short of the fixed part.
    ["short", announcePacket(base).subarray(0, 97), "at least 98 bytes"],
    // A URLData whose length runs past the end of the packet.
    ["option past the end", announcePacket({ ...base, options: new Uint8Array([2, 40, 0x2f]) }), "cut short"],
    // A URLData type byte with no length byte after it.
    ["option without length", announcePacket({ ...base, options: new Uint8Array([2]) }), "cut short"],
    // More URL data than any passkey path needs.
    ["URL data too long", announcePacket({ ...base, urlData: "/".repeat(1100) }), "longer than 1024"],
    // Event numbers stop at 3.
    ["event 4", announcePacket({ ...base, event: 4 }), "event must be"],
    // Port 0 is no port.
    ["port 0", announcePacket({ ...base, port: 0 }), "port must be"],
  ])("%s is malformed", (_name, packet, reason) => {
    const message = refusal(packet);
    expect(message.startsWith("Malformed request: ")).toBe(true);
    expect(message).toContain(reason);
  });

  test.each([
    ["downloaded", 56],
    ["left", 64],
    ["uploaded", 72],
  ])("%s above 2^53 - 1 (or negative as int64) is malformed", (name, offset) => {
    const packet = announcePacket(base);
    packet[offset] = 0x80;
    expect(refusal(packet)).toContain(`${name} must be a whole number`);
    const big = announcePacket(base);
    new DataView(big.buffer).setBigUint64(offset, 2n ** 53n);
    expect(refusal(big)).toContain(name);
    const edge = announcePacket(base);
    new DataView(edge.buffer).setBigUint64(offset, 2n ** 53n - 1n);
    expect(parsed(edge).request[name as "left"]).toBe(2 ** 53 - 1);
  });
});

describe("scrape packets", () => {
  test("hashes in the order sent", () => {
    const hashes = [bytes20(1), bytes20(2), bytes20(1)];
    const result = parseUdpScrape(scrapePacket(CID, 1, hashes), 74);
    expect(Array.isArray(result)).toBe(true);
    expect((result as Uint8Array[]).map((h) => h[1])).toEqual([1, 2, 1]);
  });

  test.each([
    // Header only: no hash at all.
    ["no hash", scrapePacket(CID, 1, []), "at least one info_hash"],
    // A hash cut short.
    ["partial hash", scrapePacket(CID, 1, [bytes20(1)]).subarray(0, 30), "20 bytes"],
    // 75 hashes, one more than a packet may carry.
    [
      "75 hashes",
      scrapePacket(
        CID,
        1,
        Array.from({ length: 75 }, (_, i) => bytes20(i)),
      ),
      "at most 74",
    ],
  ])("%s is malformed", (_name, packet, reason) => {
    const result = parseUdpScrape(packet, 74);
    expect("error" in result).toBe(true);
    expect((result as { error: { message: string } }).error.message).toContain(reason);
  });
});

describe("replies", () => {
  test("connect reply: action 0, the transaction id, the connection id", () => {
    const bytes = connectReply(0x01020304, CID);
    expect([...bytes]).toEqual([0, 0, 0, 0, 1, 2, 3, 4, 1, 2, 3, 4, 5, 6, 7, 8]);
  });

  test("announce reply: interval, leechers, seeders, then the peers", () => {
    const peers = new Uint8Array([10, 0, 0, 1, 0x1a, 0xe1]);
    const bytes = announceReply(5, { interval: 1800, leechers: 3, seeders: 7, peers });
    expect([...bytes]).toEqual([
      0, 0, 0, 1, 0, 0, 0, 5, 0, 0, 0x07, 0x08, 0, 0, 0, 3, 0, 0, 0, 7, 10, 0, 0, 1, 0x1a, 0xe1,
    ]);
    const read = readReply(bytes);
    expect(read).toMatchObject({ action: 1, tid: 5, interval: 1800, leechers: 3, seeders: 7 });
  });

  test("scrape reply: seeders, completed, leechers per hash, in order", () => {
    const bytes = scrapeReply(2, [
      { seeders: 1, completed: 2, leechers: 3 },
      { seeders: 0, completed: 0, leechers: 0 },
    ]);
    expect(bytes.length).toBe(8 + 24);
    expect(readReply(bytes)).toEqual({
      action: 2,
      tid: 2,
      counts: [
        { seeders: 1, completed: 2, leechers: 3 },
        { seeders: 0, completed: 0, leechers: 0 },
      ],
    });
  });

  test("error reply: action 3 and the message in UTF-8", () => {
    const bytes = errorReply(4, "Unknown passkey — again");
    expect([...bytes.subarray(0, 8)]).toEqual([0, 0, 0, 3, 0, 0, 0, 4]);
    expect(readReply(bytes)).toEqual({ action: 3, tid: 4, message: "Unknown passkey — again" });
  });
});
