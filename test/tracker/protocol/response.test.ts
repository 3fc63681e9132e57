import { describe, expect, test } from "bun:test";
import bencode from "bencode";
import {
  announceResponse,
  announceResponseDict,
  scrapeResponse,
} from "../../../src/tracker/protocol/response.ts";
import { compareBytes, dictionaryKeys } from "./bencode-check.ts";

/** Concatenates ASCII text and raw bytes into one array. */
function b(...parts: Array<string | Uint8Array | number[]>): Uint8Array {
  const chunks = parts.map((p) => (typeof p === "string" ? Uint8Array.from(p, (c) => c.charCodeAt(0)) : p));
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let pos = 0;
  for (const c of chunks) {
    out.set(c, pos);
    pos += c.length;
  }
  return out;
}

function text(bytes: Uint8Array): string {
  return new TextDecoder().decode(bytes);
}

function hash(fill: number, last = fill): Uint8Array {
  const h = new Uint8Array(20).fill(fill);
  h[19] = last;
  return h;
}

const COUNTS = { interval: 1800, minInterval: 900, complete: 12, incomplete: 3, downloaded: 40 };

describe("announceResponse", () => {
  // 192.0.2.1:6881 and 198.51.100.7:65535
  const v4 = [192, 0, 2, 1, 0x1a, 0xe1, 198, 51, 100, 7, 0xff, 0xff];
  // [2001:db8::1]:443
  const v6 = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0x01, 0xbb];

  test("writes IPv4 and IPv6 compact peers with sorted keys", () => {
    const out = announceResponse({
      ...COUNTS,
      peers4: Uint8Array.from(v4),
      peers4Length: 12,
      peers6: Uint8Array.from(v6),
      peers6Length: 18,
    });
    expect(out).toEqual(
      b(
        "d8:completei12e10:downloadedi40e10:incompletei3e8:intervali1800e12:min intervali900e",
        "5:peers12:",
        v4,
        "6:peers618:",
        v6,
        "e",
      ),
    );
    expect(dictionaryKeys(out)[0]?.map(text)).toEqual([
      "complete",
      "downloaded",
      "incomplete",
      "interval",
      "min interval",
      "peers",
      "peers6",
    ]);
    const decoded = bencode.decode(out);
    expect(decoded.complete).toBe(12);
    expect(decoded.downloaded).toBe(40);
    expect(decoded.incomplete).toBe(3);
    expect(decoded.interval).toBe(1800);
    expect(decoded["min interval"]).toBe(900);
    expect(new Uint8Array(decoded.peers)).toEqual(Uint8Array.from(v4));
    expect(new Uint8Array(decoded.peers6)).toEqual(Uint8Array.from(v6));
  });

  test("uses only the stated length of a larger peer buffer", () => {
    const buffer = new Uint8Array(600).fill(0xee);
    buffer.set(v4.slice(0, 6));
    const out = announceResponse({
      ...COUNTS,
      peers4: buffer,
      peers4Length: 6,
      peers6: buffer,
      peers6Length: 0,
    });
    expect(out).toEqual(
      b(
        "d8:completei12e10:downloadedi40e10:incompletei3e8:intervali1800e12:min intervali900e",
        "5:peers6:",
        v4.slice(0, 6),
        "e",
      ),
    );
  });

  test("always writes peers, even empty, and leaves out empty peers6", () => {
    const empty = new Uint8Array(0);
    const out = announceResponse({
      interval: 0,
      minInterval: 0,
      complete: 0,
      incomplete: 0,
      downloaded: 0,
      peers4: empty,
      peers4Length: 0,
      peers6: empty,
      peers6Length: 0,
    });
    expect(text(out)).toBe(
      "d8:completei0e10:downloadedi0e10:incompletei0e8:intervali0e12:min intervali0e5:peers0:e",
    );
    expect(bencode.decode(out).peers).toEqual(new Uint8Array(0));
  });

  test("writes large and negative integers exactly", () => {
    const empty = new Uint8Array(0);
    const out = announceResponse({
      interval: 10,
      minInterval: 9,
      complete: Number.MAX_SAFE_INTEGER,
      incomplete: 1_000_000,
      downloaded: -42,
      peers4: empty,
      peers4Length: 0,
      peers6: empty,
      peers6Length: 0,
    });
    expect(text(out)).toBe(
      "d8:completei9007199254740991e10:downloadedi-42e10:incompletei1000000e" +
        "8:intervali10e12:min intervali9e5:peers0:e",
    );
  });

  test("grows past the initial scratch buffer and returns independent copies", () => {
    const many = new Uint8Array(6 * 10_000);
    for (let i = 0; i < many.length; i++) many[i] = i & 0xff;
    const big = announceResponse({
      ...COUNTS,
      peers4: many,
      peers4Length: many.length,
      peers6: many,
      peers6Length: 0,
    });
    const small = announceResponse({
      ...COUNTS,
      peers4: many,
      peers4Length: 6,
      peers6: many,
      peers6Length: 0,
    });
    expect(new Uint8Array(bencode.decode(big).peers)).toEqual(many);
    expect(new Uint8Array(bencode.decode(small).peers)).toEqual(many.subarray(0, 6));
    // The first result must not have been overwritten by the second call.
    expect(dictionaryKeys(big)[0]?.length).toBe(6);
  });

  test("rejects peer lengths that are not whole peers or exceed the buffer", () => {
    const peers = new Uint8Array(12);
    const base = { ...COUNTS, peers4: peers, peers4Length: 12, peers6: peers, peers6Length: 0 };
    expect(() => announceResponse({ ...base, peers4Length: 7 })).toThrow(RangeError);
    expect(() => announceResponse({ ...base, peers4Length: 18 })).toThrow(RangeError);
    expect(() => announceResponse({ ...base, peers6Length: 6 })).toThrow(RangeError);
  });

  test("rejects non-integer counts instead of writing invalid bencode", () => {
    const empty = new Uint8Array(0);
    const base = { ...COUNTS, peers4: empty, peers4Length: 0, peers6: empty, peers6Length: 0 };
    expect(() => announceResponse({ ...base, interval: 1.5 })).toThrow(RangeError);
    expect(() => announceResponse({ ...base, complete: Number.NaN })).toThrow(RangeError);
  });
});

describe("announceResponseDict", () => {
  const id = Uint8Array.from("-qB4650-abcdefghij", (c) => c.charCodeAt(0));
  const peerId = b(id, [0x80, 0xff]);

  test("writes a list of peer dictionaries with ip, peer id and port in byte order", () => {
    const out = announceResponseDict({
      ...COUNTS,
      peers: [
        { ip: "192.0.2.1", port: 6881, peerId },
        { ip: "2001:db8::1", port: 443, peerId: null },
      ],
    });
    expect(out).toEqual(
      b(
        "d8:completei12e10:downloadedi40e10:incompletei3e8:intervali1800e12:min intervali900e",
        "5:peersl",
        "d2:ip9:192.0.2.17:peer id20:",
        peerId,
        "4:porti6881ee",
        "d2:ip11:2001:db8::14:porti443ee",
        "ee",
      ),
    );
    const keys = dictionaryKeys(out);
    expect(keys.map((k) => k.map(text))).toEqual([
      ["complete", "downloaded", "incomplete", "interval", "min interval", "peers"],
      ["ip", "peer id", "port"],
      ["ip", "port"],
    ]);
    const decoded = bencode.decode(out);
    expect(decoded.peers).toHaveLength(2);
    expect(text(decoded.peers[0].ip)).toBe("192.0.2.1");
    expect(new Uint8Array(decoded.peers[0]["peer id"])).toEqual(peerId);
    expect(decoded.peers[0].port).toBe(6881);
    expect(text(decoded.peers[1].ip)).toBe("2001:db8::1");
    expect(decoded.peers[1]["peer id"]).toBeUndefined();
    expect(decoded.peers[1].port).toBe(443);
  });

  test("writes an empty peer list", () => {
    const out = announceResponseDict({ ...COUNTS, peers: [] });
    expect(text(out)).toBe(
      "d8:completei12e10:downloadedi40e10:incompletei3e8:intervali1800e12:min intervali900e5:peerslee",
    );
    expect(bencode.decode(out).peers).toEqual([]);
  });

  test("counts a non-ASCII address in UTF-8 bytes", () => {
    const out = announceResponseDict({ ...COUNTS, peers: [{ ip: "é", port: 1, peerId: null }] });
    expect(out.subarray(out.length - 21)).toEqual(b("d2:ip2:", [0xc3, 0xa9], "4:porti1eeee"));
  });

  test("handles many peers past the initial scratch size", () => {
    const peers = Array.from({ length: 2000 }, (_, i) => ({
      ip: `10.0.${i >> 8}.${i & 0xff}`,
      port: 1000 + i,
      peerId,
    }));
    const decoded = bencode.decode(announceResponseDict({ ...COUNTS, peers }));
    expect(decoded.peers).toHaveLength(2000);
    expect(text(decoded.peers[1999].ip)).toBe("10.0.7.207");
    expect(decoded.peers[1999].port).toBe(2999);
  });
});

describe("scrapeResponse", () => {
  const low = hash(0x00, 0x01);
  const mid = hash(0x41); // "AAAA…", a printable key
  const high = hash(0xff, 0x80);

  test("writes one torrent exactly", () => {
    const out = scrapeResponse([{ infoHash: mid, complete: 5, incomplete: 2, downloaded: 9 }]);
    expect(text(out)).toBe(`d5:filesd20:${"A".repeat(20)}d8:completei5e10:downloadedi9e10:incompletei2eeee`);
    expect(bencode.decode(out).files["A".repeat(20)]).toEqual({ complete: 5, downloaded: 9, incomplete: 2 });
  });

  test("sorts info-hash keys by raw bytes even when given unsorted, without reordering the input", () => {
    const files = [
      { infoHash: high, complete: 3, incomplete: 30, downloaded: 300 },
      { infoHash: low, complete: 1, incomplete: 10, downloaded: 100 },
      { infoHash: mid, complete: 2, incomplete: 20, downloaded: 200 },
    ];
    const out = scrapeResponse(files);
    expect(out).toEqual(
      b(
        "d5:filesd",
        "20:",
        low,
        "d8:completei1e10:downloadedi100e10:incompletei10ee",
        "20:",
        mid,
        "d8:completei2e10:downloadedi200e10:incompletei20ee",
        "20:",
        high,
        "d8:completei3e10:downloadedi300e10:incompletei30ee",
        "ee",
      ),
    );
    expect(files.map((f) => f.infoHash)).toEqual([high, low, mid]);
    const keys = dictionaryKeys(out);
    expect(keys[1]).toEqual([low, mid, high]);
    for (let i = 1; i < 3; i++) expect(compareBytes(keys[1]![i - 1]!, keys[1]![i]!)).toBeLessThan(0);
    // The decoder turns the non-UTF-8 keys into hex; the counts still round-trip.
    const decoded = bencode.decode(out);
    expect(decoded.files[Buffer.from(high).toString("hex")]).toEqual({
      complete: 3,
      downloaded: 300,
      incomplete: 30,
    });
    expect(decoded.files["A".repeat(20)]).toEqual({ complete: 2, downloaded: 200, incomplete: 20 });
  });

  test("orders by bytes, not by signed values or string collation", () => {
    // 0x7f < 0x80 as unsigned bytes; a signed comparison would put 0x80 first.
    const a = hash(0x7f);
    const c = hash(0x80);
    const out = scrapeResponse([
      { infoHash: c, complete: 0, incomplete: 0, downloaded: 0 },
      { infoHash: a, complete: 0, incomplete: 0, downloaded: 0 },
    ]);
    expect(dictionaryKeys(out)[1]).toEqual([a, c]);
  });

  test("writes a repeated info hash once", () => {
    const out = scrapeResponse([
      { infoHash: mid, complete: 1, incomplete: 1, downloaded: 1 },
      { infoHash: low, complete: 0, incomplete: 0, downloaded: 0 },
      { infoHash: Uint8Array.from(mid), complete: 1, incomplete: 1, downloaded: 1 },
    ]);
    expect(dictionaryKeys(out)[1]).toEqual([low, mid]);
  });

  test("writes an empty files dictionary", () => {
    const out = scrapeResponse([]);
    expect(text(out)).toBe("d5:filesdee");
    expect(bencode.decode(out)).toEqual({ files: {} });
  });
});
