// Hostile input for the announce and scrape parsers and for the Tracker class: random and malformed
// query strings, checked against an independent (slow, obvious) reading of the documented rules,
// and against the tracker's state, which a refused request must leave exactly as it was.
import { describe, expect, test } from "bun:test";
import { unpackDeltas } from "../../src/shared/channel.ts";
import { MALFORMED_PREFIX } from "../../src/tracker/protocol/errors.ts";
import {
  type AnnounceRequest,
  MAX_KEY_LENGTH,
  MAX_QUERY_LENGTH,
  type ParseFailure,
  parseAnnounce,
  parseScrape,
} from "../../src/tracker/protocol/query.ts";
import { hashKey } from "../../src/tracker/state.ts";
import { Tracker } from "../../src/tracker/tracker.ts";
import { testPolicy } from "../helpers/policy.ts";
import { decodeReply, failureReason } from "./bencode.ts";
import { escapeAll, type Rng, seeded } from "./fuzz.ts";

const LIMITS = { numwantDefault: 50, numwantMax: 100 };
const SCRAPE_MAX = 100;

// ---------------------------------------------------------------------------------------------
// The reference reading of a query, written from the rules in query.ts's header comment.

type Expected =
  | { ok: Omit<AnnounceRequest, "infoHash" | "peerId"> & { infoHash: string; peerId: string } }
  | {
      /** The parameter the failure must name ("query" for a too-long query). */
      bad: string;
    };

/** First occurrence of each name; a pair without "=" has an empty value; empty pairs are skipped. */
function pairs(query: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const pair of query.split("&")) {
    if (pair === "") continue;
    const eq = pair.indexOf("=");
    const name = eq < 0 ? pair : pair.slice(0, eq);
    const value = eq < 0 ? "" : pair.slice(eq + 1);
    if (!out.has(name)) out.set(name, value);
  }
  return out;
}

/** Percent-decoded bytes as hex, or null for a bad escape or a raw character outside ASCII. */
function refDecode(value: string): string | null {
  const bytes: number[] = [];
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 0x25) {
      const hex = value.slice(i + 1, i + 3);
      if (!/^[0-9A-Fa-f]{2}$/.test(hex)) return null;
      bytes.push(Number.parseInt(hex, 16));
      i += 2;
    } else if (c > 0x7f) {
      return null;
    } else {
      bytes.push(c);
    }
  }
  return Buffer.from(bytes).toString("hex");
}

const SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** A plain decimal number: a safe integer, "big" above MAX_SAFE_INTEGER, null when not digits. */
function refNumber(value: string): number | "big" | null {
  if (!/^[0-9]+$/.test(value)) return null;
  const n = BigInt(value);
  return n > SAFE ? "big" : Number(n);
}

function refAnnounce(query: string): Expected {
  if (query.length > MAX_QUERY_LENGTH) return { bad: "query" };
  const p = pairs(query);
  const hash20 = (name: string): string | { bad: string } => {
    const value = p.get(name);
    if (value === undefined) return { bad: name };
    const hex = refDecode(value);
    if (hex === null || hex.length !== 40) return { bad: name };
    return hex;
  };
  const infoHash = hash20("info_hash");
  if (typeof infoHash !== "string") return infoHash;
  const peerId = hash20("peer_id");
  if (typeof peerId !== "string") return peerId;
  const counters: Record<string, number> = {};
  for (const name of ["port", "uploaded", "downloaded", "left"]) {
    const value = p.get(name);
    if (value === undefined) return { bad: name };
    const n = refNumber(value);
    if (n === null || n === "big") return { bad: name };
    if (name === "port" && (n < 1 || n > 65535)) return { bad: name };
    counters[name] = n;
  }
  const eventText = p.get("event");
  const events: Record<string, 0 | 1 | 2 | 3> = {
    "": 0,
    empty: 0,
    paused: 0,
    started: 1,
    completed: 2,
    stopped: 3,
  };
  const event = eventText === undefined ? 0 : events[eventText];
  if (event === undefined || !Object.hasOwn(events, eventText ?? "")) {
    if (eventText !== undefined) return { bad: "event" };
  }
  let numwant = LIMITS.numwantDefault;
  const numwantText = p.get("numwant");
  if (numwantText !== undefined) {
    const n = refNumber(numwantText);
    if (n === null) return { bad: "numwant" };
    numwant = n === "big" ? LIMITS.numwantMax : n;
  }
  numwant = Math.min(numwant, LIMITS.numwantMax);
  const keyText = p.get("key");
  if (keyText !== undefined && keyText.length > MAX_KEY_LENGTH) return { bad: "key" };
  return {
    ok: {
      infoHash,
      peerId,
      port: counters.port!,
      uploaded: counters.uploaded!,
      downloaded: counters.downloaded!,
      left: counters.left!,
      event: event ?? 0,
      compact: p.get("compact") !== "0",
      noPeerId: p.has("no_peer_id") && p.get("no_peer_id") !== "0",
      numwant,
      key: keyText ? keyText : null,
    },
  };
}

type ExpectedScrape = { hashes: string[] } | { bad: "length" | "too many" | "hash" };

function refScrape(query: string, max: number): ExpectedScrape {
  if (query.length > MAX_QUERY_LENGTH + max * 71) return { bad: "length" };
  const hashes: string[] = [];
  for (const pair of query.split("&")) {
    const eq = pair.indexOf("=");
    const name = eq < 0 ? pair : pair.slice(0, eq);
    if (name !== "info_hash") continue;
    if (hashes.length === max) return { bad: "too many" };
    const hex = refDecode(eq < 0 ? "" : pair.slice(eq + 1));
    if (hex === null || hex.length !== 40) return { bad: "hash" };
    hashes.push(hex);
  }
  return { hashes };
}

// ---------------------------------------------------------------------------------------------
// Generators.

const NAMES = [
  "info_hash",
  "peer_id",
  "port",
  "uploaded",
  "downloaded",
  "left",
  "event",
  "compact",
  "no_peer_id",
  "numwant",
  "key",
] as const;
const DECOYS = [
  "",
  "ip",
  "ipv6",
  "info%5Fhash",
  "INFO_HASH",
  "info_hash ",
  " port",
  "port[]",
  "info_hash_",
  "peer",
  "peer_id%00",
  "trackerid",
  "supportcrypto",
  "=",
  "é",
];
const NUMBERS = [
  "0",
  "1",
  "6881",
  "65535",
  "65536",
  "-1",
  "-0",
  "+5",
  " 5",
  "5 ",
  "0x10",
  "1e3",
  "1e400",
  "1.0",
  "1.5",
  "NaN",
  "Infinity",
  "-Infinity",
  "00080",
  "",
  "9007199254740991",
  "9007199254740992",
  "99999999999999999999",
  "999999999999999999999999999999999999999999",
  "١٢",
  "１２",
  "%31",
  "1%00",
  "null",
  "true",
  "[]",
];
const EVENTS = [
  "started",
  "completed",
  "stopped",
  "empty",
  "paused",
  "",
  "Started",
  "start",
  "stopped ",
  "%73topped",
  "0",
];

/** A 20-byte value in one of the ways clients (and attackers) write it. */
function hashValue(rng: Rng, known?: Uint8Array): string {
  const bytes = known ?? rng.bytes(20);
  switch (rng.int(8)) {
    case 0:
      return escapeAll(bytes);
    case 1: {
      // Mixed: safe bytes raw, the others escaped, as real clients do.
      let out = "";
      for (const b of bytes) {
        const ch = String.fromCharCode(b);
        out += /[A-Za-z0-9.\-_~]/.test(ch) && rng.chance(0.7) ? ch : `%${b.toString(16).padStart(2, "0")}`;
      }
      return out;
    }
    case 2:
      return escapeAll(rng.bytes(rng.pick([0, 1, 19, 21, 40])));
    case 3:
      return rng.chars(rng.pick([19, 20, 21]), "abcdefghijklmnopqrstuvwxyz0123456789+-._~!*'()");
    case 4: {
      // A damaged escape somewhere.
      const good = escapeAll(bytes);
      const at = rng.int(good.length);
      return (
        good.slice(0, at) +
        rng.pick(["%", "%g", "%1", "%%", "%zz", "é", "\u0000", "\ud800", "😀"]) +
        good.slice(at + 1)
      );
    }
    case 5:
      return escapeAll(bytes).slice(0, rng.int(60));
    case 6:
      return `${escapeAll(bytes)}${rng.pick(["%", "%0", "a", "%41"])}`;
    default:
      return escapeAll(bytes).toUpperCase();
  }
}

/** Random text as a query might carry it: raw characters, random escapes, bytes as latin1. */
function junk(rng: Rng, n: number): string {
  switch (rng.int(5)) {
    case 0:
      return escapeAll(rng.bytes(n));
    case 1:
      return Buffer.from(rng.bytes(n)).toString("latin1");
    case 2:
      return rng.nastyText(n);
    case 3: {
      let out = "";
      for (let i = 0; i < n; i++)
        out += rng.pick([
          "%",
          "%%",
          "%2",
          "%ZZ",
          "%41",
          "&",
          "=",
          "&&",
          "==",
          "+",
          "a",
          "%E9",
          "%C3%A9",
          "%FF%FE",
        ]);
      return out;
    }
    default:
      return Buffer.from(rng.bytes(n)).toString("utf8");
  }
}

/**
 * An announce query: usually every parameter present (often one damaged), sometimes some missing,
 * repeated, shuffled, buried in junk, or grown past the length limit.
 */
function announceQueryFor(rng: Rng, known: { hashes: Uint8Array[]; peerIds: Uint8Array[] }): string {
  if (rng.chance(0.08)) return junk(rng, rng.range(0, 300));
  const parts: string[] = [];
  const value = (name: (typeof NAMES)[number]): string => {
    const sane = rng.chance(0.8);
    switch (name) {
      case "info_hash":
        return sane
          ? escapeAll(rng.pick(known.hashes))
          : hashValue(rng, rng.chance(0.5) ? rng.pick(known.hashes) : undefined);
      case "peer_id":
        return sane ? escapeAll(rng.pick(known.peerIds)) : hashValue(rng);
      case "port":
        return sane ? String(rng.range(1, 65535)) : rng.pick(NUMBERS);
      case "uploaded":
      case "downloaded":
      case "left":
        return sane ? String(rng.pick([0, 0, rng.int(1e6), rng.int(2 ** 40)])) : rng.pick(NUMBERS);
      case "event":
        return rng.pick(EVENTS);
      case "compact":
      case "no_peer_id":
        return rng.pick(["0", "1", "", "yes", "00"]);
      case "numwant":
        return sane ? String(rng.int(300)) : rng.pick(NUMBERS);
      case "key":
        return rng.chance(0.9)
          ? rng.chars(rng.range(0, 12), "0123456789ABCDEF")
          : rng.chars(rng.range(250, 300), "k");
    }
  };
  for (const name of NAMES) {
    const required =
      name === "info_hash" ||
      name === "peer_id" ||
      name === "port" ||
      name === "uploaded" ||
      name === "downloaded" ||
      name === "left";
    if (required ? rng.chance(0.04) : rng.chance(0.5)) continue;
    const v = value(name);
    parts.push(rng.chance(0.03) ? name : `${name}=${v}`);
    if (rng.chance(0.05)) parts.push(`${name}=${value(name)}`);
  }
  for (let i = rng.int(3); i > 0; i--) parts.push(`${rng.pick(DECOYS)}=${junk(rng, rng.range(0, 30))}`);
  for (let i = parts.length - 1; i > 0 && rng.chance(0.3); i--) {
    const j = rng.int(i + 1);
    [parts[i], parts[j]] = [parts[j]!, parts[i]!];
  }
  let query = parts.join(rng.pick(["&", "&", "&", "&&", "&&&"]));
  if (rng.chance(0.1))
    query = `${rng.pick(["&", "&&&", "=", "?", "=&"])}${query}${rng.pick(["&", "&&&", "=", ""])}`;
  if (rng.chance(0.04)) query += `&pad=${"x".repeat(rng.range(8000, 12000))}`;
  return query;
}

// ---------------------------------------------------------------------------------------------

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("hex");
}

function checkAgainstReference(query: string, result: ReturnType<typeof parseAnnounce>) {
  const expected = refAnnounce(query);
  if ("bad" in expected) {
    expect("error" in result).toBe(true);
    const message = (result as ParseFailure).error.message;
    expect(message.startsWith(MALFORMED_PREFIX)).toBe(true);
    expect(message).toContain(expected.bad);
    return;
  }
  expect(result).not.toHaveProperty("error");
  const request = result as AnnounceRequest;
  expect(request.infoHash).toBeInstanceOf(Uint8Array);
  expect(request.peerId).toBeInstanceOf(Uint8Array);
  expect({ ...request, infoHash: hex(request.infoHash), peerId: hex(request.peerId) }).toEqual(expected.ok);
  for (const n of [request.port, request.uploaded, request.downloaded, request.left, request.numwant])
    expect(Number.isSafeInteger(n) && n >= 0).toBe(true);
}

describe("parseAnnounce against a reference reading", () => {
  test(
    "random queries (4000): never throws, valid requests match the reference, failures name the parameter",
    seeded("parseAnnounce random", ({ rng, note }) => {
      const known = { hashes: [rng.bytes(20), rng.bytes(20)], peerIds: [rng.bytes(20)] };
      let valid = 0;
      for (let i = 0; i < 4000; i++) {
        const query = announceQueryFor(rng, known);
        note(query);
        checkAgainstReference(query, parseAnnounce(query, LIMITS));
        if (!("bad" in refAnnounce(query))) valid++;
      }
      // The generator must exercise both sides.
      expect(valid).toBeGreaterThan(400);
      expect(valid).toBeLessThan(3600);
    }),
  );

  test(
    "pure junk (2000 queries of random bytes, escapes and invalid UTF-8): a failure, never a throw",
    seeded("parseAnnounce junk", ({ rng, note }) => {
      for (let i = 0; i < 2000; i++) {
        const query = junk(rng, rng.pick([0, 1, 5, 40, 300, 9000]));
        note(query);
        checkAgainstReference(query, parseAnnounce(query, LIMITS));
      }
    }),
  );

  test("numbers: signs, exponents, NaN, Infinity, 1e400, overflow", () => {
    const base = `info_hash=${"a".repeat(20)}&peer_id=${"b".repeat(20)}`;
    const full = (extra: Record<string, string>) => {
      const fields = { port: "6881", uploaded: "0", downloaded: "0", left: "0", ...extra };
      return `${base}&${Object.entries(fields)
        .map(([k, v]) => `${k}=${v}`)
        .join("&")}`;
    };
    for (const n of NUMBERS) {
      for (const field of ["port", "uploaded", "downloaded", "left", "numwant"]) {
        const query = full({ [field]: n });
        checkAgainstReference(query, parseAnnounce(query, LIMITS));
      }
    }
    const huge = parseAnnounce(full({ numwant: "99999999999999999999" }), LIMITS) as AnnounceRequest;
    expect(huge.numwant).toBe(LIMITS.numwantMax);
  });

  test("structure: duplicated keys, empty keys, &&&, = without a name, 10 KB+ queries", () => {
    const good = `info_hash=${"a".repeat(20)}&peer_id=${"b".repeat(20)}&port=1&uploaded=0&downloaded=0&left=0`;
    const cases = [
      "",
      "&",
      "&&&",
      "=",
      "===",
      "&=&=&",
      `&&&${good}&&&`,
      `=x&${good}`,
      `${good}&port=0`,
      `port=0&${good}`,
      `${good}&info_hash=${"c".repeat(20)}`,
      `info_hash&${good}`,
      `info_hash=&${good}`,
      `${good}&=${"x".repeat(5000)}`,
      `${good}&${"&".repeat(8200)}`,
      `${good}&x=${"%".repeat(8200)}`,
      "a=".repeat(5000),
      "&".repeat(MAX_QUERY_LENGTH),
      "=".repeat(MAX_QUERY_LENGTH),
      `${good}&${"k".repeat(MAX_QUERY_LENGTH - good.length - 1)}`,
      `${good}&${"k".repeat(MAX_QUERY_LENGTH - good.length)}`,
      "x".repeat(1024 * 1024),
    ];
    for (const query of cases) checkAgainstReference(query, parseAnnounce(query, LIMITS));
  });

  test("worst-case 8 KiB queries parse in linear time", () => {
    const shapes = [
      "&".repeat(MAX_QUERY_LENGTH),
      "=".repeat(MAX_QUERY_LENGTH),
      "a".repeat(MAX_QUERY_LENGTH),
      "a&".repeat(MAX_QUERY_LENGTH / 2),
      "a=".repeat(MAX_QUERY_LENGTH / 2),
      "port&".repeat(MAX_QUERY_LENGTH / 5),
      "info_hash=&".repeat(Math.floor(MAX_QUERY_LENGTH / 11)),
      `info_hash=${"%41".repeat(2700)}`,
    ];
    for (let round = 0; round < 200; round++) for (const q of shapes) parseAnnounce(q, LIMITS);
    // 1600 parses of 8 KiB: a quadratic parser would hold the test past its time limit.
  });
});

describe("parseScrape against a reference reading", () => {
  test(
    "random scrapes (2000), including 1000 info_hash parameters: never throws",
    seeded("parseScrape random", ({ rng, note }) => {
      for (let i = 0; i < 2000; i++) {
        const count = rng.pick([0, 1, 2, 5, 99, 100, 101, 1000]);
        const parts: string[] = [];
        for (let j = 0; j < count; j++) {
          parts.push(
            rng.chance(0.97)
              ? `info_hash=${rng.chance(0.9) ? escapeAll(rng.bytes(20)) : hashValue(rng)}`
              : `${rng.pick(DECOYS)}=${junk(rng, 5)}`,
          );
        }
        if (rng.chance(0.2)) parts.splice(rng.int(parts.length + 1), 0, junk(rng, rng.range(0, 50)));
        const query = parts.join(rng.chance(0.9) ? "&" : "&&");
        note(query);
        const max = rng.pick([1, 5, SCRAPE_MAX]);
        const expected = refScrape(query, max);
        const result = parseScrape(query, max);
        if ("bad" in expected) {
          expect("error" in result).toBe(true);
          const message = (result as ParseFailure).error.message;
          expect(message.startsWith(MALFORMED_PREFIX)).toBe(true);
          const words = { length: "too long", "too many": "too many", hash: "info_hash" }[expected.bad];
          expect(message).toContain(words);
        } else {
          expect(result).not.toHaveProperty("error");
          expect((result as { infoHashes: Uint8Array[] }).infoHashes.map(hex)).toEqual(expected.hashes);
        }
      }
    }),
  );

  test("1000 info hashes, 1 MiB of junk, and worst-case shapes: clear failures, in linear time", () => {
    const thousand = Array.from(
      { length: 1000 },
      (_, i) => `info_hash=${escapeAll(new Uint8Array(20).fill(i & 255))}`,
    ).join("&");
    const result = parseScrape(thousand, SCRAPE_MAX) as ParseFailure;
    expect(result.error.message.startsWith(MALFORMED_PREFIX)).toBe(true);
    // Short enough to pass the length check: refused by count, with the limit in the message.
    const raw150 = Array.from({ length: 150 }, () => `info_hash=${"a".repeat(20)}`).join("&");
    expect((parseScrape(raw150, SCRAPE_MAX) as ParseFailure).error.message).toContain("at most 100");
    expect((parseScrape("x".repeat(1 << 20), SCRAPE_MAX) as ParseFailure).error.message).toContain(
      "too long",
    );
    const limit = MAX_QUERY_LENGTH + SCRAPE_MAX * 71;
    for (let round = 0; round < 100; round++) {
      parseScrape("info_hash&".repeat(Math.floor(limit / 10)), SCRAPE_MAX);
      parseScrape("&".repeat(limit), SCRAPE_MAX);
      parseScrape("=".repeat(limit), SCRAPE_MAX);
      parseScrape("a=&".repeat(Math.floor(limit / 3)), SCRAPE_MAX);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// The Tracker class: a refused request never changes swarms, credit, snatches or counts.

const POLICY = testPolicy({
  minAnnounceIntervalSeconds: 60,
  numwantDefault: LIMITS.numwantDefault,
  numwantMax: LIMITS.numwantMax,
  scrapeMaxHashes: SCRAPE_MAX,
});

interface Snapshot {
  peers: number;
  perTorrent: string;
}

function snapshot(tracker: Tracker, indexes: number[]): Snapshot {
  return {
    peers: tracker.swarms.size,
    perTorrent: indexes
      .map(
        (t) =>
          `${tracker.swarms.seeders(t)}/${tracker.swarms.leechers(t)}/${tracker.state.byIndex[t]?.snatches}`,
      )
      .join(","),
  };
}

describe("Tracker.announce and Tracker.scrape under hostile queries", () => {
  test(
    "3000 announces and 1000 scrapes: replies always decode; refusals change nothing",
    seeded("Tracker fuzz", ({ rng, note }) => {
      const tracker = new Tracker(POLICY, () => rng.next());
      const passkeys = ["a".repeat(32), "b".repeat(32), "c".repeat(32)];
      const hashes = [rng.bytes(20), rng.bytes(20), rng.bytes(20)];
      tracker.load(
        [
          { id: 1, passkey: passkeys[0]!, disabled: false },
          { id: 2, passkey: passkeys[1]!, disabled: false },
          { id: 3, passkey: passkeys[2]!, disabled: true },
        ],
        [
          { id: 10, infoHash: hex(hashes[0]!), infoHashV2: null, snatches: 0 },
          { id: 11, infoHash: hex(hashes[1]!), infoHashV2: null, snatches: 5 },
        ],
      );
      const indexes = [0, 1].map((i) => tracker.state.torrents.get(hashKey(hashes[i]!))!.index);
      const known = { hashes, peerIds: Array.from({ length: 6 }, () => rng.bytes(20)) };
      const ips = [
        new Uint8Array([10, 0, 0, 1]),
        new Uint8Array([10, 0, 0, 2]),
        new Uint8Array(16).fill(0x20),
      ];
      let now = 1_000_000;
      const outcomes = new Map<string, number>();
      for (let i = 0; i < 4000; i++) {
        now += rng.pick([0, 1, 30, 61, 900]);
        const passkey = rng.chance(0.9)
          ? rng.pick(passkeys)
          : rng.chance(0.5)
            ? "z".repeat(32)
            : junk(rng, 32);
        const scrape = i >= 3000;
        const query = scrape
          ? rng.chance(0.5)
            ? hashes
                .slice(0, rng.range(0, 3))
                .map((h) => `info_hash=${escapeAll(h)}`)
                .join("&")
            : `info_hash=${hashValue(rng)}&${junk(rng, rng.range(0, 20))}`
          : announceQueryFor(rng, known);
        note({ scrape, passkey, query });
        const before = snapshot(tracker, indexes);
        const reply = scrape
          ? tracker.scrape(passkey, query)
          : tracker.announce(passkey, query, rng.pick(ips), now);
        outcomes.set(reply.outcome, (outcomes.get(reply.outcome) ?? 0) + 1);
        const decoded = decodeReply(reply.body);
        const reason = failureReason(decoded);
        const expected = scrape ? refScrape(query, SCRAPE_MAX) : refAnnounce(query);
        const validUser = passkey === passkeys[0] || passkey === passkeys[1];
        if (validUser && "bad" in expected) {
          expect(reply.outcome).toBe("malformed");
          expect(reason?.startsWith(MALFORMED_PREFIX)).toBe(true);
        }
        if (reply.outcome === "malformed") expect(reason?.startsWith(MALFORMED_PREFIX)).toBe(true);
        expect(reply.outcome).not.toBe("internal");
        if (reason !== null) {
          // Refused: not one thing changed.
          expect(snapshot(tracker, indexes)).toEqual(before);
          expect(tracker.takeDeltas()).toBeNull();
          expect(tracker.takeCounts()).toEqual([]);
        } else if (scrape) {
          expect(decoded.get("files")).toBeInstanceOf(Map);
          expect(snapshot(tracker, indexes)).toEqual(before);
        } else {
          for (const key of ["interval", "min interval", "complete", "incomplete", "downloaded"])
            expect(Number.isSafeInteger(decoded.get(key))).toBe(true);
          expect(decoded.get("peers")).toBeDefined();
          const peers = decoded.get("peers");
          if (peers instanceof Uint8Array) expect(peers.length % 6).toBe(0);
          const peers6 = decoded.get("peers6");
          if (peers6 !== undefined) expect((peers6 as Uint8Array).length % 18).toBe(0);
          tracker.takeDeltas();
          tracker.takeCounts();
        }
        // Credit never goes negative and snatches never exceed one per member and torrent.
        for (const t of indexes) {
          expect(tracker.swarms.seeders(t)).toBeGreaterThanOrEqual(0);
          expect(tracker.swarms.leechers(t)).toBeGreaterThanOrEqual(0);
        }
      }
      // Both paths were exercised.
      expect(outcomes.get("ok") ?? 0).toBeGreaterThan(300);
      expect(outcomes.get("malformed") ?? 0).toBeGreaterThan(300);
    }),
  );

  test("1000 info_hash parameters in one scrape: a clear failure, nothing changes", () => {
    const tracker = new Tracker(POLICY, () => 0.5);
    tracker.load([{ id: 1, passkey: "a".repeat(32), disabled: false }], []);
    const query = Array.from(
      { length: 1000 },
      () => `info_hash=${escapeAll(new Uint8Array(20).fill(7))}`,
    ).join("&");
    const reply = tracker.scrape("a".repeat(32), query);
    expect(reply.outcome).toBe("malformed");
    expect(failureReason(decodeReply(reply.body))).toStartWith(MALFORMED_PREFIX);
  });

  test(
    "credit is never negative whatever counters a client reports",
    seeded("Tracker credit", ({ rng, note }) => {
      const tracker = new Tracker({ ...POLICY, minAnnounceIntervalSeconds: 0 }, () => rng.next());
      const hash = rng.bytes(20);
      const peer = rng.bytes(20);
      tracker.load(
        [{ id: 1, passkey: "a".repeat(32), disabled: false }],
        [{ id: 10, infoHash: hex(hash), infoHashV2: null, snatches: 0 }],
      );
      let now = 5000;
      for (let i = 0; i < 500; i++) {
        const up = rng.pick([
          "0",
          "1",
          String(rng.int(1e9)),
          "9007199254740991",
          "9007199254740992",
          "-5",
          "1e3",
          "99999999999999999999",
        ]);
        const down = rng.pick(["0", String(rng.int(1e9)), "9007199254740991", "-1", "NaN"]);
        const left = rng.pick(["0", "100", "-1", "Infinity"]);
        const event = rng.pick(["", "&event=started", "&event=completed", "&event=stopped", "&event=bogus"]);
        const query = `info_hash=${escapeAll(hash)}&peer_id=${escapeAll(peer)}&port=1&uploaded=${up}&downloaded=${down}&left=${left}${event}`;
        note(query);
        now += 10;
        tracker.announce("a".repeat(32), query, new Uint8Array([10, 0, 0, 1]), now);
        const batch = tracker.takeDeltas();
        for (const [, , u, d, c] of batch ? unpackDeltas(batch.deltas) : []) {
          expect(Number.isSafeInteger(u) && u >= 0).toBe(true);
          expect(Number.isSafeInteger(d) && d >= 0).toBe(true);
          expect(c === 0 || c === 1).toBe(true);
        }
      }
      expect(tracker.state.byIndex.find((t) => t?.id === 10)?.snatches ?? 0).toBeLessThanOrEqual(1);
    }),
  );
});
