import { CLIENT_ERRORS } from "./errors.ts";
import type { AnnounceEvent, AnnounceLimits, AnnounceRequest, ParseFailure } from "./query.ts";
import { EVENT_COMPLETED, EVENT_NONE, EVENT_STARTED, EVENT_STOPPED } from "./query.ts";

/**
 * The UDP tracker protocol (BEP 15) with BEP 41's URL data, parsed from and written to bytes.
 * Pure: no sockets, no clock. Every number on the wire is big-endian.
 *
 * Requests: connect (16 bytes), announce (98 bytes, then BEP 41 options), scrape (16 bytes, then
 * 20 bytes per info hash). Replies: connect (16), announce (20, then 6 bytes per IPv4 peer or 18
 * per IPv6 peer), scrape (8, then 12 per hash), error (8, then the message's UTF-8 bytes).
 */

/** The magic number a connect request starts with. */
export const UDP_PROTOCOL_ID = 0x41727101980n;
/** Action numbers of BEP 15. */
export const ACTION_CONNECT = 0;
export const ACTION_ANNOUNCE = 1;
export const ACTION_SCRAPE = 2;
export const ACTION_ERROR = 3;
/** Bytes of a connect request and of its reply. */
export const CONNECT_LENGTH = 16;
/** Bytes of an announce request before its options. */
export const ANNOUNCE_LENGTH = 98;
/** Bytes of a scrape request before its info hashes; each hash adds 20. */
export const SCRAPE_HEAD_LENGTH = 16;
/** Bytes of an announce reply before its peers. */
export const ANNOUNCE_REPLY_HEAD = 20;
/** Most info hashes one scrape packet may carry (BEP 15: "up to about 74"). */
export const UDP_SCRAPE_MAX_HASHES = 74;
/**
 * Most URL data kept from the options, in bytes: a passkey path is well under 100; longer data is
 * malformed rather than something to buffer.
 */
export const MAX_URL_DATA = 1024;

/** BEP 41 option types. */
const OPTION_END = 0;
const OPTION_NOP = 1;
const OPTION_URL_DATA = 2;

/** The header every request after connect starts with. */
export interface UdpHeader {
  /** The 8-byte connection id, as its two 32-bit halves (high, low). */
  readonly connectionHigh: number;
  readonly connectionLow: number;
  readonly action: number;
  /** Echoed in the reply: 4 bytes, as an unsigned number. */
  readonly transactionId: number;
}

/** A datagram's header, or null when it is too short to carry one (answered with nothing). */
export function readHeader(packet: Uint8Array): UdpHeader | null {
  if (packet.length < CONNECT_LENGTH) return null;
  return {
    connectionHigh: read32(packet, 0),
    connectionLow: read32(packet, 4),
    action: read32(packet, 8),
    transactionId: read32(packet, 12),
  };
}

/** Whether a header is a connect request: the protocol magic in place of a connection id. */
export function isConnect(header: UdpHeader): boolean {
  return (
    header.action === ACTION_CONNECT &&
    header.connectionHigh === Number(UDP_PROTOCOL_ID >> 32n) &&
    header.connectionLow === Number(UDP_PROTOCOL_ID & 0xffffffffn)
  );
}

/** A UDP announce: the same request the HTTP parser makes, and the BEP 41 URL data. */
export interface UdpAnnounce {
  readonly request: AnnounceRequest;
  /** Path and query from the URL data (e.g. `/<passkey>/announce`), or null when none was sent. */
  readonly urlData: string | null;
}

/** Why a packet cannot be read: the same catalogue error the HTTP parsers give. */
export type UdpParseFailure = ParseFailure;

function malformed(detail: string): ParseFailure {
  return Object.freeze({ error: CLIENT_ERRORS.malformed(detail) });
}

const SHORT_ANNOUNCE = malformed("an announce must be at least 98 bytes.");
const DOWNLOADED_INVALID = malformed("downloaded must be a whole number of bytes, 0 or more.");
const LEFT_INVALID = malformed("left must be a whole number of bytes, 0 or more.");
const UPLOADED_INVALID = malformed("uploaded must be a whole number of bytes, 0 or more.");
const EVENT_INVALID = malformed("event must be 0 (none), 1 (completed), 2 (started) or 3 (stopped).");
const PORT_INVALID = malformed("port must be a whole number from 1 to 65535.");
const OPTION_SHORT = malformed("an option is cut short.");
const URL_DATA_LONG = malformed("the URL data is longer than 1024 bytes.");
const SCRAPE_EMPTY = malformed("scrape needs at least one info_hash.");
const SCRAPE_HASH_LENGTH = malformed("every info_hash must be 20 bytes.");
const tooMany = new Map<number, ParseFailure>();

/** BEP 15 events: 0 none, 1 completed, 2 started, 3 stopped (not the HTTP order). */
const UDP_EVENTS: readonly AnnounceEvent[] = [EVENT_NONE, EVENT_COMPLETED, EVENT_STARTED, EVENT_STOPPED];

/**
 * Parses an announce packet (header already read) and its BEP 41 options. `numwant` -1 (BEP 15's
 * "default") or absent takes `limits.numwantDefault`; every value is clamped to `limits.numwantMax`
 * and to `maxPeers`, the most the reply may carry. The `ip` and `key` fields are ignored: the
 * address is the datagram's source, as over HTTP.
 */
export function parseUdpAnnounce(
  packet: Uint8Array,
  limits: AnnounceLimits,
  maxPeers: number,
): UdpAnnounce | UdpParseFailure {
  if (packet.length < ANNOUNCE_LENGTH) return SHORT_ANNOUNCE;
  const downloaded = readCounter(packet, 56);
  const left = readCounter(packet, 64);
  const uploaded = readCounter(packet, 72);
  if (downloaded < 0) return DOWNLOADED_INVALID;
  if (left < 0) return LEFT_INVALID;
  if (uploaded < 0) return UPLOADED_INVALID;
  const eventCode = read32(packet, 80);
  const event = UDP_EVENTS[eventCode];
  if (event === undefined) return EVENT_INVALID;
  const wanted = read32(packet, 92) | 0;
  const port = (packet[96]! << 8) | packet[97]!;
  if (port === 0) return PORT_INVALID;
  let numwant = wanted < 0 ? limits.numwantDefault : wanted;
  numwant = Math.min(numwant, limits.numwantMax, maxPeers);
  const urlData = readUrlData(packet);
  if (typeof urlData === "object" && urlData !== null) return urlData;
  return {
    request: {
      infoHash: packet.slice(16, 36),
      peerId: packet.slice(36, 56),
      port,
      uploaded,
      downloaded,
      left,
      event,
      compact: true,
      noPeerId: true,
      numwant,
      key: null,
    },
    urlData,
  };
}

/**
 * The big-endian unsigned 32-bit number at `at`. Bytes are read one by one rather than through a
 * DataView: a view of a received datagram costs more than the whole read.
 */
function read32(bytes: Uint8Array, at: number): number {
  return ((bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!) >>> 0;
}

/** Writes `value` as a big-endian unsigned 32-bit number at `at`. */
function write32(bytes: Uint8Array, at: number, value: number): void {
  bytes[at] = value >>> 24;
  bytes[at + 1] = value >>> 16;
  bytes[at + 2] = value >>> 8;
  bytes[at + 3] = value;
}

/** A 64-bit counter, or -1 when it is negative or above Number.MAX_SAFE_INTEGER. */
function readCounter(bytes: Uint8Array, at: number): number {
  const high = read32(bytes, at);
  const low = read32(bytes, at + 4);
  // 2^53 - 1 has 21 bits in the high word.
  if (high >= 0x200000) return -1;
  return high * 0x100000000 + low;
}

/**
 * BEP 41 options after the 98 bytes: EndOfOptions stops, NOP is one byte, URLData is a length
 * byte and that many bytes, concatenated across options in order. Null when there is no URL data.
 */
function readUrlData(packet: Uint8Array): string | null | UdpParseFailure {
  let at = ANNOUNCE_LENGTH;
  const parts: Uint8Array[] = [];
  let total = 0;
  while (at < packet.length) {
    const type = packet[at]!;
    if (type === OPTION_END) break;
    if (type === OPTION_NOP) {
      at++;
      continue;
    }
    // Every option other than the two without a length carries one (BEP 41): unknown ones are skipped.
    if (at + 1 >= packet.length) return OPTION_SHORT;
    const length = packet[at + 1]!;
    const start = at + 2;
    if (start + length > packet.length) return OPTION_SHORT;
    if (type === OPTION_URL_DATA) {
      total += length;
      if (total > MAX_URL_DATA) return URL_DATA_LONG;
      parts.push(packet.subarray(start, start + length));
    }
    at = start + length;
  }
  if (parts.length === 0) return null;
  // Latin-1: each byte one character, so the HTTP parser's rules (a raw byte above 0x7f is
  // malformed) apply to the path unchanged.
  let text = "";
  for (const part of parts) text += String.fromCharCode.apply(null, part as unknown as number[]);
  return text;
}

/**
 * The info hashes of a scrape packet (header already read), at most `maxHashes`; a trailing part
 * shorter than 20 bytes is malformed.
 */
export function parseUdpScrape(packet: Uint8Array, maxHashes: number): Uint8Array[] | UdpParseFailure {
  const body = packet.length - SCRAPE_HEAD_LENGTH;
  if (body <= 0) return SCRAPE_EMPTY;
  if (body % 20 !== 0) return SCRAPE_HASH_LENGTH;
  const count = body / 20;
  if (count > maxHashes) {
    let failure = tooMany.get(maxHashes);
    if (!failure) {
      failure = malformed(`too many info_hash values: ask for at most ${maxHashes} torrents per scrape.`);
      if (tooMany.size < 16) tooMany.set(maxHashes, failure);
    }
    return failure;
  }
  const hashes: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const at = SCRAPE_HEAD_LENGTH + i * 20;
    hashes.push(packet.slice(at, at + 20));
  }
  return hashes;
}

/** A connect reply: the transaction id echoed and the connection id to use. */
export function connectReply(transactionId: number, connectionId: Uint8Array): Uint8Array {
  const out = new Uint8Array(CONNECT_LENGTH);
  write32(out, 0, ACTION_CONNECT);
  write32(out, 4, transactionId);
  for (let i = 0; i < 8; i++) out[8 + i] = connectionId[i]!;
  return out;
}

/** What an announce reply carries besides the transaction id. */
export interface UdpAnnounceAnswer {
  readonly interval: number;
  readonly leechers: number;
  readonly seeders: number;
  /** Compact peers of the requester's family: 6 bytes each for IPv4, 18 for IPv6. */
  readonly peers: Uint8Array;
}

/** An announce reply. */
export function announceReply(transactionId: number, answer: UdpAnnounceAnswer): Uint8Array {
  const out = new Uint8Array(ANNOUNCE_REPLY_HEAD + answer.peers.length);
  write32(out, 0, ACTION_ANNOUNCE);
  write32(out, 4, transactionId);
  write32(out, 8, answer.interval);
  write32(out, 12, clamp32(answer.leechers));
  write32(out, 16, clamp32(answer.seeders));
  out.set(answer.peers, ANNOUNCE_REPLY_HEAD);
  return out;
}

/** One torrent's counts in a scrape reply, in the order asked; zeros for an unknown hash. */
export interface UdpScrapeEntry {
  readonly seeders: number;
  readonly completed: number;
  readonly leechers: number;
}

/** A scrape reply: 12 bytes per hash asked for, in the same order. */
export function scrapeReply(transactionId: number, entries: readonly UdpScrapeEntry[]): Uint8Array {
  const out = new Uint8Array(8 + entries.length * 12);
  write32(out, 0, ACTION_SCRAPE);
  write32(out, 4, transactionId);
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!;
    write32(out, 8 + i * 12, clamp32(e.seeders));
    write32(out, 12 + i * 12, clamp32(e.completed));
    write32(out, 16 + i * 12, clamp32(e.leechers));
  }
  return out;
}

const utf8 = new TextEncoder();

/** An error reply: the message is the same text an HTTP client gets as `failure reason`. */
export function errorReply(transactionId: number, message: string): Uint8Array {
  const text = utf8.encode(message);
  const out = new Uint8Array(8 + text.length);
  write32(out, 0, ACTION_ERROR);
  write32(out, 4, transactionId);
  out.set(text, 8);
  return out;
}

function clamp32(n: number): number {
  return Math.min(n, 0xffffffff);
}
