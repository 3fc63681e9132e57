import { describe, expect, test } from "bun:test";
import { ClientError } from "../../../src/tracker/protocol/errors.ts";
import {
  type AnnounceEvent,
  type AnnounceRequest,
  EVENT_COMPLETED,
  EVENT_NONE,
  EVENT_STARTED,
  EVENT_STOPPED,
  MAX_QUERY_LENGTH,
  type ParseFailure,
  parseAnnounce,
  parseScrape,
} from "../../../src/tracker/protocol/query.ts";

const LIMITS = { numwantDefault: 50, numwantMax: 200 };

function bytes(...values: number[]): Uint8Array {
  return Uint8Array.from(values);
}

function ascii(text: string): Uint8Array {
  return Uint8Array.from(text, (c) => c.charCodeAt(0));
}

function ok(result: AnnounceRequest | ParseFailure): AnnounceRequest {
  if ("error" in result) throw new Error(`expected a request, got: ${result.error.message}`);
  return result;
}

function failed(result: unknown): string {
  if (result && typeof result === "object" && "error" in result && result.error instanceof ClientError) {
    // The failure carries the error the tracker sends: its body is the bencoded message.
    expect(result.error.code).toBe("malformed");
    expect(new TextDecoder().decode(result.error.body)).toContain(result.error.message);
    return result.error.message;
  }
  throw new Error(`expected a failure, got: ${JSON.stringify(result)}`);
}

// The BEP 3 example hash: escapes mixed with raw unreserved characters.
const HASH_A = "%124Vx%9A%BC%DE%F1%23Eg%89%AB%CD%EF%124Vx%9A";
const HASH_A_BYTES = bytes(
  0x12,
  0x34,
  0x56,
  0x78,
  0x9a,
  0xbc,
  0xde,
  0xf1,
  0x23,
  0x45,
  0x67,
  0x89,
  0xab,
  0xcd,
  0xef,
  0x12,
  0x34,
  0x56,
  0x78,
  0x9a,
);
// Raw "+", escaped "+" in both cases, unreserved and sub-delim characters sent raw, 0x00, 0x80, 0xff.
const HASH_B = "+%2b%2B-._~%ff%FFaZ09%00%80%7f%7F!*(";
const HASH_B_BYTES = bytes(
  0x2b,
  0x2b,
  0x2b,
  0x2d,
  0x2e,
  0x5f,
  0x7e,
  0xff,
  0xff,
  0x61,
  0x5a,
  0x30,
  0x39,
  0x00,
  0x80,
  0x7f,
  0x7f,
  0x21,
  0x2a,
  0x28,
);
const PEER = "-qB4650-abcdefghijkl";
// UTF-8 euro sign (e2 82 ac) escaped in lowercase inside an otherwise raw id.
const PEER_ESCAPED = "-TR4050-%e2%82%acxyz0123ab";

function announce(extra = "", hash = HASH_A, peer = PEER): string {
  return `info_hash=${hash}&peer_id=${peer}&port=6881&uploaded=0&downloaded=0&left=1000${extra}`;
}

describe("parseAnnounce", () => {
  test("decodes a full qBittorrent-style announce", () => {
    const query =
      `info_hash=${HASH_A}&peer_id=${PEER}&port=51413&uploaded=1024&downloaded=2048&left=4096` +
      "&corrupt=0&key=7A1B2C3D&event=started&numwant=120&compact=1&no_peer_id=1" +
      "&supportcrypto=1&redundant=0&ip=10.0.0.1";
    expect(ok(parseAnnounce(query, LIMITS))).toEqual({
      infoHash: HASH_A_BYTES,
      peerId: ascii(PEER),
      port: 51413,
      uploaded: 1024,
      downloaded: 2048,
      left: 4096,
      event: EVENT_STARTED,
      compact: true,
      noPeerId: true,
      numwant: 120,
      key: "7A1B2C3D",
    });
  });

  test("keeps + as byte 0x2B and decodes upper and lower case escapes", () => {
    const request = ok(parseAnnounce(announce("", HASH_B, PEER_ESCAPED), LIMITS));
    expect(request.infoHash).toEqual(HASH_B_BYTES);
    expect(request.peerId).toEqual(
      Uint8Array.from([...ascii("-TR4050-"), 0xe2, 0x82, 0xac, ...ascii("xyz0123ab")]),
    );
  });

  test("applies defaults when optional parameters are absent", () => {
    const request = ok(parseAnnounce(announce(), LIMITS));
    expect(request.event).toBe(EVENT_NONE);
    expect(request.compact).toBe(true);
    expect(request.noPeerId).toBe(false);
    expect(request.numwant).toBe(50);
    expect(request.key).toBeNull();
    expect(request.left).toBe(1000);
  });

  test("reads compact=0, no_peer_id=0 and an empty key", () => {
    const request = ok(parseAnnounce(announce("&compact=0&no_peer_id=0&key="), LIMITS));
    expect(request.compact).toBe(false);
    expect(request.noPeerId).toBe(false);
    expect(request.key).toBeNull();
  });

  test("maps every event spelling", () => {
    const cases: Array<[string, AnnounceEvent]> = [
      ["&event=started", EVENT_STARTED],
      ["&event=completed", EVENT_COMPLETED],
      ["&event=stopped", EVENT_STOPPED],
      ["&event=empty", EVENT_NONE],
      ["&event=paused", EVENT_NONE],
      ["&event=", EVENT_NONE],
      ["&event", EVENT_NONE],
    ];
    for (const [extra, event] of cases) {
      expect([extra, ok(parseAnnounce(announce(extra), LIMITS)).event]).toEqual([extra, event]);
    }
  });

  test("first occurrence of a repeated parameter wins", () => {
    const query = `${announce("&event=stopped")}&port=1&left=5&event=started&info_hash=${HASH_B}`;
    const request = ok(parseAnnounce(query, LIMITS));
    expect(request.port).toBe(6881);
    expect(request.left).toBe(1000);
    expect(request.event).toBe(EVENT_STOPPED);
    expect(request.infoHash).toEqual(HASH_A_BYTES);
  });

  test("parameter order, empty pairs and unknown names do not matter", () => {
    const query =
      `&&left=7&ip=1.2.3.4&&port=80&foo&info_hash=${HASH_A}` + `&downloaded=3&peer_id=${PEER}&uploaded=9&`;
    const request = ok(parseAnnounce(query, LIMITS));
    expect([request.left, request.port, request.downloaded, request.uploaded]).toEqual([7, 80, 3, 9]);
  });

  test("accepts counters up to Number.MAX_SAFE_INTEGER and ports 1 and 65535", () => {
    const max = String(Number.MAX_SAFE_INTEGER);
    const query = `info_hash=${HASH_A}&peer_id=${PEER}&port=1&uploaded=${max}&downloaded=0007&left=0`;
    const request = ok(parseAnnounce(query, LIMITS));
    expect([request.port, request.uploaded, request.downloaded, request.left]).toEqual([
      1,
      Number.MAX_SAFE_INTEGER,
      7,
      0,
    ]);
    expect(ok(parseAnnounce(query.replace("port=1", "port=65535"), LIMITS)).port).toBe(65535);
  });

  test("numwant is defaulted, kept and clamped", () => {
    expect(ok(parseAnnounce(announce(), LIMITS)).numwant).toBe(50);
    expect(ok(parseAnnounce(announce("&numwant=0"), LIMITS)).numwant).toBe(0);
    expect(ok(parseAnnounce(announce("&numwant=30"), LIMITS)).numwant).toBe(30);
    expect(ok(parseAnnounce(announce("&numwant=200"), LIMITS)).numwant).toBe(200);
    expect(ok(parseAnnounce(announce("&numwant=201"), LIMITS)).numwant).toBe(200);
    expect(ok(parseAnnounce(announce("&numwant=99999999999999999999"), LIMITS)).numwant).toBe(200);
    // A default above the maximum is clamped too.
    expect(ok(parseAnnounce(announce(), { numwantDefault: 500, numwantMax: 80 })).numwant).toBe(80);
  });

  test("key of 255 characters is kept as sent", () => {
    const key = "%AB".repeat(85);
    expect(ok(parseAnnounce(announce(`&key=${key}`), LIMITS)).key).toBe(key);
  });

  const M = "Malformed request: ";
  const invalid: Array<[string, string, string]> = [
    // No info_hash at all.
    [
      "missing info_hash",
      `peer_id=${PEER}&port=1&uploaded=0&downloaded=0&left=0`,
      `${M}info_hash is missing.`,
    ],
    // 19 bytes: the BEP 3 hash without its last byte.
    ["19-byte info_hash", announce("", HASH_A.slice(0, -3)), `${M}info_hash must be 20 bytes.`],
    // 21 bytes: one raw byte too many.
    ["21-byte info_hash", announce("", `${HASH_A}x`), `${M}info_hash must be 20 bytes.`],
    // 21 bytes, mostly escaped, still within the 60-character fast bound.
    ["21 escaped bytes", announce("", `${"%00".repeat(19)}ab`), `${M}info_hash must be 20 bytes.`],
    // Empty value.
    ["empty info_hash", announce("", ""), `${M}info_hash must be 20 bytes.`],
    // "%G1" is not a hex escape.
    ["bad escape", announce("", `%G1${HASH_A.slice(3)}`), `${M}info_hash is not properly percent-encoded.`],
    // Escape cut short by the end of the value.
    [
      "truncated escape",
      announce("", `${"a".repeat(19)}%4`),
      `${M}info_hash is not properly percent-encoded.`,
    ],
    // A raw non-ASCII character never reaches us from a correct client.
    ["raw non-ASCII", announce("", `${"a".repeat(19)}é`), `${M}info_hash is not properly percent-encoded.`],
    // Missing peer_id.
    [
      "missing peer_id",
      `info_hash=${HASH_A}&port=1&uploaded=0&downloaded=0&left=0`,
      `${M}peer_id is missing.`,
    ],
    // peer_id of 19 bytes.
    ["19-byte peer_id", announce("", HASH_A, PEER.slice(1)), `${M}peer_id must be 20 bytes.`],
    // peer_id with a bad escape.
    [
      "bad peer_id escape",
      announce("", HASH_A, `${PEER.slice(3)}%zz`),
      `${M}peer_id is not properly percent-encoded.`,
    ],
    // Port 0 cannot be connected to.
    ["port 0", announce().replace("port=6881", "port=0"), `${M}port must be a whole number from 1 to 65535.`],
    // Above the 16-bit range.
    [
      "port 70000",
      announce().replace("port=6881", "port=70000"),
      `${M}port must be a whole number from 1 to 65535.`,
    ],
    // Not a number.
    [
      "port text",
      announce().replace("port=6881", "port=http"),
      `${M}port must be a whole number from 1 to 65535.`,
    ],
    // Missing port.
    ["missing port", announce().replace("&port=6881", ""), `${M}port is missing.`],
    // Missing uploaded: accounting needs it even on stopped.
    ["missing uploaded", announce("&event=stopped").replace("&uploaded=0", ""), `${M}uploaded is missing.`],
    // Not a number.
    [
      "non-numeric uploaded",
      announce().replace("uploaded=0", "uploaded=12ab"),
      `${M}uploaded must be a whole number of bytes, 0 or more.`,
    ],
    // Above Number.MAX_SAFE_INTEGER.
    [
      "uploaded too big",
      announce().replace("uploaded=0", "uploaded=9007199254740992"),
      `${M}uploaded must be a whole number of bytes, 0 or more.`,
    ],
    // A decimal point.
    [
      "fractional downloaded",
      announce().replace("downloaded=0", "downloaded=1.5"),
      `${M}downloaded must be a whole number of bytes, 0 or more.`,
    ],
    // Missing downloaded.
    ["missing downloaded", announce().replace("&downloaded=0", ""), `${M}downloaded is missing.`],
    // Negative left.
    [
      "negative left",
      announce().replace("left=1000", "left=-1"),
      `${M}left must be a whole number of bytes, 0 or more.`,
    ],
    // An explicit plus sign.
    [
      "signed left",
      announce().replace("left=1000", "left=+1"),
      `${M}left must be a whole number of bytes, 0 or more.`,
    ],
    // Empty left.
    [
      "empty left",
      announce().replace("left=1000", "left="),
      `${M}left must be a whole number of bytes, 0 or more.`,
    ],
    // Missing left.
    ["missing left", announce().replace("&left=1000", ""), `${M}left is missing.`],
    // An event no BEP defines.
    [
      "unknown event",
      announce("&event=begun"),
      `${M}event must be started, completed, stopped, paused or empty.`,
    ],
    // Events are case-sensitive.
    [
      "uppercase event",
      announce("&event=STARTED"),
      `${M}event must be started, completed, stopped, paused or empty.`,
    ],
    // Not a number.
    ["numwant garbage", announce("&numwant=lots"), `${M}numwant must be a whole number, 0 or more.`],
    // Negative.
    ["negative numwant", announce("&numwant=-1"), `${M}numwant must be a whole number, 0 or more.`],
    // One character over the key limit.
    ["key too long", announce(`&key=${"k".repeat(256)}`), `${M}key must be at most 255 characters.`],
    // More than 8 KiB, even if everything else is fine.
    [
      "query too long",
      announce(`&pad=${"x".repeat(MAX_QUERY_LENGTH)}`),
      `${M}the query string is longer than 8192 characters.`,
    ],
  ];

  test.each(invalid)("rejects %s", (_name, query, message) => {
    expect(failed(parseAnnounce(query, LIMITS))).toBe(message);
  });

  test("a query of exactly 8192 characters is accepted", () => {
    const base = announce("&pad=");
    const query = base + "x".repeat(MAX_QUERY_LENGTH - base.length);
    expect(query.length).toBe(MAX_QUERY_LENGTH);
    expect(ok(parseAnnounce(query, LIMITS)).left).toBe(1000);
  });

  test("each call returns fresh byte arrays", () => {
    const first = ok(parseAnnounce(announce(), LIMITS));
    const second = ok(parseAnnounce(announce("", HASH_B), LIMITS));
    expect(first.infoHash).toEqual(HASH_A_BYTES);
    expect(second.infoHash).toEqual(HASH_B_BYTES);
  });
});

describe("parseScrape", () => {
  const hashC = "%00".repeat(20);

  test("decodes several info hashes in order, ignoring other parameters", () => {
    const query = `info_hash=${HASH_A}&passkey=x&info_hash=${HASH_B}&info_hash=${hashC}`;
    const result = parseScrape(query, 10);
    expect(result).toEqual({ infoHashes: [HASH_A_BYTES, HASH_B_BYTES, new Uint8Array(20)] });
  });

  test("allows zero hashes", () => {
    expect(parseScrape("", 10)).toEqual({ infoHashes: [] });
    expect(parseScrape("foo=bar", 10)).toEqual({ infoHashes: [] });
  });

  test("allows exactly maxHashes and rejects one more", () => {
    const three = `info_hash=${HASH_A}&info_hash=${HASH_B}&info_hash=${hashC}`;
    expect(parseScrape(three, 3)).toEqual({ infoHashes: [HASH_A_BYTES, HASH_B_BYTES, new Uint8Array(20)] });
    expect(failed(parseScrape(three, 2))).toBe(
      "Malformed request: too many info_hash values: ask for at most 2 torrents per scrape.",
    );
  });

  test("rejects a hash of the wrong length or encoding", () => {
    expect(failed(parseScrape(`info_hash=${HASH_A}&info_hash=abc`, 10))).toBe(
      "Malformed request: every info_hash must be 20 bytes.",
    );
    expect(failed(parseScrape(`info_hash=${"%0".repeat(20)}`, 10))).toBe(
      "Malformed request: an info_hash is not properly percent-encoded.",
    );
  });
});

describe("escapes in byte values, through the parsers", () => {
  test("bad, truncated and non-ASCII escapes are malformed, never decoded", () => {
    for (const hash of ["%G1".padEnd(22, "a"), `${"a".repeat(19)}%4`, "é".repeat(20), `${"a".repeat(18)}%4`])
      expect(failed(parseScrape(`info_hash=${hash}`, 10))).toStartWith("Malformed request:");
  });
});
