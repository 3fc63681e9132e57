import { CLIENT_ERRORS, type ClientError } from "./errors.ts";

/**
 * Announce and scrape query parsing, straight from the raw query string (the part after `?`, still
 * percent-encoded) to bytes and numbers.
 *
 * Rules shared by both parsers:
 * - Pairs are split on `&` only; empty pairs are skipped and a pair without `=` has an empty value.
 * - Parameter names are matched exactly as sent (no decoding): no client percent-encodes them.
 * - `+` is the byte 0x2B everywhere, never a space. Form encoding does not apply to tracker URLs, and
 *   treating `+` as a space corrupts info hashes and peer ids that contain that byte.
 * - For a repeated announce parameter the first occurrence wins; later ones are ignored.
 * - Numbers are plain ASCII decimal digits; signs, spaces and percent escapes are malformed.
 * - A character outside ASCII in a value that is decoded to bytes is malformed: HTTP servers
 *   percent-encode such bytes before they reach us, so a raw one means a broken client.
 */

/** What went wrong: the client-facing error naming the parameter, ready to send. */
export interface ParseFailure {
  /** A `malformed` error, e.g. "Malformed request: info_hash must be 20 bytes.", with its body. */
  error: ClientError;
}

/** Announce `event`: 0 regular (none, empty or paused), 1 started, 2 completed, 3 stopped. */
export type AnnounceEvent = 0 | 1 | 2 | 3;

/** A regular announce: no event, `event=empty`, or BEP 21 `event=paused`. */
export const EVENT_NONE = 0;
/** `event=started`: the first announce of a session. */
export const EVENT_STARTED = 1;
/** `event=completed`: the download just finished. */
export const EVENT_COMPLETED = 2;
/** `event=stopped`: the client is leaving the swarm. */
export const EVENT_STOPPED = 3;

/** A well-formed announce, decoded. */
export interface AnnounceRequest {
  /** Exactly 20 bytes. */
  infoHash: Uint8Array;
  /** Exactly 20 bytes. */
  peerId: Uint8Array;
  /** 1..65535. */
  port: number;
  /** Bytes uploaded this session, 0..Number.MAX_SAFE_INTEGER. */
  uploaded: number;
  /** Bytes downloaded this session, 0..Number.MAX_SAFE_INTEGER. */
  downloaded: number;
  /** Bytes still to download, 0..Number.MAX_SAFE_INTEGER; 0 means seeding. */
  left: number;
  /** See `AnnounceEvent`. */
  event: AnnounceEvent;
  /** False only for `compact=0`. */
  compact: boolean;
  /** True when `no_peer_id` is present with any value but `0`. */
  noPeerId: boolean;
  /** Peers wanted, defaulted and clamped to the tracker's limits. */
  numwant: number;
  /** The client's `key` exactly as sent (still percent-encoded), or null when absent or empty. */
  key: string | null;
}

/** Limits that shape `numwant`. */
export interface AnnounceLimits {
  /** Used when the client sends no `numwant`. */
  numwantDefault: number;
  /** Larger requests are clamped to this. */
  numwantMax: number;
}

/** Longest accepted announce query, in characters; real announces are well under 1 KiB. */
export const MAX_QUERY_LENGTH = 8192;
/** Longest accepted `key`, in characters as sent. */
export const MAX_KEY_LENGTH = 255;

const INFO_HASH = 0;
const PEER_ID = 1;
const PORT = 2;
const UPLOADED = 3;
const DOWNLOADED = 4;
const LEFT = 5;
const EVENT = 6;
const COMPACT = 7;
const NO_PEER_ID = 8;
const NUMWANT = 9;
const KEY = 10;
const PARAM_COUNT = 11;

/** Value start and end (exclusive) for each announce parameter; -1 when absent. Reused per call. */
const spans = new Int32Array(PARAM_COUNT * 2);

/** Hex digit values for ASCII, -1 elsewhere. */
const HEX = new Int8Array(128).fill(-1);
for (let c = 0; c < 10; c++) HEX[0x30 + c] = c;
for (let c = 0; c < 6; c++) {
  HEX[0x41 + c] = 10 + c;
  HEX[0x61 + c] = 10 + c;
}

// The parsers' messages form a small fixed set (plus a few naming a length or a count): each is
// built once with its bencoded body.
const failures = new Map<string, ParseFailure>();

function failure(detail: string): ParseFailure {
  let found = failures.get(detail);
  if (!found) {
    found = Object.freeze({ error: CLIENT_ERRORS.malformed(detail) });
    if (failures.size < 256) failures.set(detail, found);
  }
  return found;
}

function missing(name: string): ParseFailure {
  return failure(`${name} is missing.`);
}

const TOO_LONG = failure(`the query string is longer than ${MAX_QUERY_LENGTH} characters.`);
const INFO_HASH_MISSING = missing("info_hash");
const INFO_HASH_LENGTH = failure("info_hash must be 20 bytes.");
const INFO_HASH_ENCODING = failure("info_hash is not properly percent-encoded.");
const PEER_ID_MISSING = missing("peer_id");
const PEER_ID_LENGTH = failure("peer_id must be 20 bytes.");
const PEER_ID_ENCODING = failure("peer_id is not properly percent-encoded.");
const PORT_MISSING = missing("port");
const PORT_INVALID = failure("port must be a whole number from 1 to 65535.");
const UPLOADED_MISSING = missing("uploaded");
const UPLOADED_INVALID = failure("uploaded must be a whole number of bytes, 0 or more.");
const DOWNLOADED_MISSING = missing("downloaded");
const DOWNLOADED_INVALID = failure("downloaded must be a whole number of bytes, 0 or more.");
const LEFT_MISSING = missing("left");
const LEFT_INVALID = failure("left must be a whole number of bytes, 0 or more.");
const EVENT_INVALID = failure("event must be started, completed, stopped, paused or empty.");
const NUMWANT_INVALID = failure("numwant must be a whole number, 0 or more.");
const KEY_TOO_LONG = failure(`key must be at most ${MAX_KEY_LENGTH} characters.`);

/** Returned by `parseUint` for an empty or non-digit value. */
const NOT_A_NUMBER = -1;
/** Returned by `parseUint` for a value above Number.MAX_SAFE_INTEGER. */
const TOO_BIG = -2;
/** floor(MAX_SAFE_INTEGER / 10): a larger accumulator overflows on the next digit. */
const SAFE_TENTH = 900719925474099;

/** Decimal digits in `text[start, end)` as a number, or NOT_A_NUMBER / TOO_BIG. */
function parseUint(text: string, start: number, end: number): number {
  if (start >= end) return NOT_A_NUMBER;
  let value = 0;
  for (let i = start; i < end; i++) {
    const d = text.charCodeAt(i) - 0x30;
    if (d < 0 || d > 9) return NOT_A_NUMBER;
    if (value > SAFE_TENTH || (value === SAFE_TENTH && d > 1)) {
      // Keep scanning so that "99999999999999999x" is reported as garbage, not as too big.
      for (let j = i + 1; j < end; j++) {
        const rest = text.charCodeAt(j) - 0x30;
        if (rest < 0 || rest > 9) return NOT_A_NUMBER;
      }
      return TOO_BIG;
    }
    value = value * 10 + d;
  }
  return value;
}

/** Returned by `decode20` when the value does not decode to exactly 20 bytes. */
const BAD_LENGTH = 1;
/** Returned by `decode20` for a bad or truncated escape, or a raw non-ASCII character. */
const BAD_ENCODING = 2;

/** Percent-decodes `text[start, end)` into a new 20-byte array, or BAD_LENGTH / BAD_ENCODING. */
function decode20(text: string, start: number, end: number): Uint8Array | number {
  // Each byte takes 1 (raw) to 3 (escaped) characters, so most wrong lengths need no decoding.
  const chars = end - start;
  if (chars < 20 || chars > 60) return BAD_LENGTH;
  const out = new Uint8Array(20);
  let n = 0;
  let i = start;
  while (i < end) {
    if (n === 20) return BAD_LENGTH;
    const c = text.charCodeAt(i);
    if (c === 0x25) {
      if (i + 2 >= end) return BAD_ENCODING;
      const hi = HEX[text.charCodeAt(i + 1)] ?? -1;
      const lo = HEX[text.charCodeAt(i + 2)] ?? -1;
      if (hi < 0 || lo < 0) return BAD_ENCODING;
      out[n++] = (hi << 4) | lo;
      i += 3;
    } else {
      if (c > 0x7f) return BAD_ENCODING;
      out[n++] = c;
      i++;
    }
  }
  return n === 20 ? out : BAD_LENGTH;
}

/** Which announce parameter the name `text[start, start + length)` is, or -1 for one we ignore. */
function announceParam(text: string, start: number, length: number): number {
  switch (length) {
    case 3:
      return text.startsWith("key", start) ? KEY : -1;
    case 4:
      if (text.startsWith("port", start)) return PORT;
      return text.startsWith("left", start) ? LEFT : -1;
    case 5:
      return text.startsWith("event", start) ? EVENT : -1;
    case 7:
      if (text.startsWith("peer_id", start)) return PEER_ID;
      if (text.startsWith("compact", start)) return COMPACT;
      return text.startsWith("numwant", start) ? NUMWANT : -1;
    case 8:
      return text.startsWith("uploaded", start) ? UPLOADED : -1;
    case 9:
      return text.startsWith("info_hash", start) ? INFO_HASH : -1;
    case 10:
      if (text.startsWith("downloaded", start)) return DOWNLOADED;
      return text.startsWith("no_peer_id", start) ? NO_PEER_ID : -1;
    default:
      return -1;
  }
}

/** Whether `text[start, end)` is exactly `word`, without slicing. */
function valueIs(text: string, start: number, end: number, word: string): boolean {
  return end - start === word.length && text.startsWith(word, start);
}

function parseEvent(text: string, start: number, end: number): AnnounceEvent | -1 {
  if (start < 0 || start === end) return EVENT_NONE;
  if (valueIs(text, start, end, "started")) return EVENT_STARTED;
  if (valueIs(text, start, end, "stopped")) return EVENT_STOPPED;
  if (valueIs(text, start, end, "completed")) return EVENT_COMPLETED;
  // BEP 3 defines "empty" as the same as no event. BEP 21's "paused" marks a partial seed that
  // stopped downloading; we do not track partial seeds, so it is a regular announce.
  if (valueIs(text, start, end, "empty") || valueIs(text, start, end, "paused")) return EVENT_NONE;
  return -1;
}

/**
 * Parses an announce query (everything after `?`, as received). Unknown parameters, including
 * `ip`, are ignored: the peer's address comes from the connection, never from the client's word.
 *
 * `uploaded`, `downloaded` and `left` are required even on `stopped`, because the tracker's
 * accounting is built from them; a missing one is reported by name rather than taken as 0.
 */
export function parseAnnounce(query: string, limits: AnnounceLimits): AnnounceRequest | ParseFailure {
  const n = query.length;
  if (n > MAX_QUERY_LENGTH) return TOO_LONG;
  spans.fill(-1);
  // Position of the next "=" at or after i; n + 1 once there are none left. Cached so that a long
  // run of pairs without "=" cannot make the scan quadratic.
  let eq = -1;
  let i = 0;
  while (i < n) {
    let amp = query.indexOf("&", i);
    if (amp < 0) amp = n;
    if (eq < i) {
      eq = query.indexOf("=", i);
      if (eq < 0) eq = n + 1;
    }
    const nameEnd = Math.min(eq, amp);
    const param = announceParam(query, i, nameEnd - i);
    if (param >= 0 && spans[param * 2]! < 0) {
      spans[param * 2] = eq < amp ? eq + 1 : amp;
      spans[param * 2 + 1] = amp;
    }
    i = amp + 1;
  }

  let start = spans[INFO_HASH * 2]!;
  if (start < 0) return INFO_HASH_MISSING;
  const infoHash = decode20(query, start, spans[INFO_HASH * 2 + 1]!);
  if (infoHash === BAD_LENGTH) return INFO_HASH_LENGTH;
  if (typeof infoHash === "number") return INFO_HASH_ENCODING;

  start = spans[PEER_ID * 2]!;
  if (start < 0) return PEER_ID_MISSING;
  const peerId = decode20(query, start, spans[PEER_ID * 2 + 1]!);
  if (peerId === BAD_LENGTH) return PEER_ID_LENGTH;
  if (typeof peerId === "number") return PEER_ID_ENCODING;

  start = spans[PORT * 2]!;
  if (start < 0) return PORT_MISSING;
  const port = parseUint(query, start, spans[PORT * 2 + 1]!);
  if (port < 1 || port > 65535) return PORT_INVALID;

  start = spans[UPLOADED * 2]!;
  if (start < 0) return UPLOADED_MISSING;
  const uploaded = parseUint(query, start, spans[UPLOADED * 2 + 1]!);
  if (uploaded < 0) return UPLOADED_INVALID;

  start = spans[DOWNLOADED * 2]!;
  if (start < 0) return DOWNLOADED_MISSING;
  const downloaded = parseUint(query, start, spans[DOWNLOADED * 2 + 1]!);
  if (downloaded < 0) return DOWNLOADED_INVALID;

  start = spans[LEFT * 2]!;
  if (start < 0) return LEFT_MISSING;
  const left = parseUint(query, start, spans[LEFT * 2 + 1]!);
  if (left < 0) return LEFT_INVALID;

  const event = parseEvent(query, spans[EVENT * 2]!, spans[EVENT * 2 + 1]!);
  if (event < 0) return EVENT_INVALID;

  let numwant = limits.numwantDefault;
  start = spans[NUMWANT * 2]!;
  if (start >= 0) {
    numwant = parseUint(query, start, spans[NUMWANT * 2 + 1]!);
    if (numwant === NOT_A_NUMBER) return NUMWANT_INVALID;
    if (numwant === TOO_BIG) numwant = limits.numwantMax;
  }
  if (numwant > limits.numwantMax) numwant = limits.numwantMax;

  start = spans[COMPACT * 2]!;
  const compact = start < 0 || !valueIs(query, start, spans[COMPACT * 2 + 1]!, "0");
  start = spans[NO_PEER_ID * 2]!;
  const noPeerId = start >= 0 && !valueIs(query, start, spans[NO_PEER_ID * 2 + 1]!, "0");

  let key: string | null = null;
  start = spans[KEY * 2]!;
  if (start >= 0) {
    const end = spans[KEY * 2 + 1]!;
    if (end - start > MAX_KEY_LENGTH) return KEY_TOO_LONG;
    if (end > start) key = query.slice(start, end);
  }

  return {
    infoHash,
    peerId,
    port,
    uploaded,
    downloaded,
    left,
    event: event as AnnounceEvent,
    compact,
    noPeerId,
    numwant,
    key,
  };
}

/** A well-formed scrape: the requested info hashes in the order sent, duplicates kept. */
export interface ScrapeRequest {
  /** Each exactly 20 bytes. Empty when the client named none (a full scrape; the caller decides). */
  infoHashes: Uint8Array[];
}

const SCRAPE_TOO_LONG = failure("the query string is too long.");
const SCRAPE_HASH_LENGTH = failure("every info_hash must be 20 bytes.");
const SCRAPE_HASH_ENCODING = failure("an info_hash is not properly percent-encoded.");
/** Characters one scrape info_hash can take at most: "info_hash=", 60 escaped, "&". */
const SCRAPE_CHARS_PER_HASH = 71;
const tooManyHashes = new Map<number, ParseFailure>();

function tooMany(maxHashes: number): ParseFailure {
  let cached = tooManyHashes.get(maxHashes);
  if (!cached) {
    cached = failure(`too many info_hash values: ask for at most ${maxHashes} torrents per scrape.`);
    tooManyHashes.set(maxHashes, cached);
  }
  return cached;
}

/**
 * Parses a scrape query (everything after `?`, as received): zero or more `info_hash` parameters,
 * each 20 bytes. More than `maxHashes` of them is malformed; other parameters are ignored.
 */
export function parseScrape(query: string, maxHashes: number): ScrapeRequest | ParseFailure {
  const n = query.length;
  if (n > MAX_QUERY_LENGTH + maxHashes * SCRAPE_CHARS_PER_HASH) return SCRAPE_TOO_LONG;
  const infoHashes: Uint8Array[] = [];
  let eq = -1;
  let i = 0;
  while (i < n) {
    let amp = query.indexOf("&", i);
    if (amp < 0) amp = n;
    if (eq < i) {
      eq = query.indexOf("=", i);
      if (eq < 0) eq = n + 1;
    }
    const nameEnd = Math.min(eq, amp);
    if (nameEnd - i === 9 && query.startsWith("info_hash", i)) {
      if (infoHashes.length === maxHashes) return tooMany(maxHashes);
      const hash = decode20(query, eq < amp ? eq + 1 : amp, amp);
      if (hash === BAD_LENGTH) return SCRAPE_HASH_LENGTH;
      if (typeof hash === "number") return SCRAPE_HASH_ENCODING;
      infoHashes.push(hash);
    }
    i = amp + 1;
  }
  return { infoHashes };
}
