/**
 * Bencoded announce and scrape responses, written by hand into one module-level scratch buffer.
 *
 * Ownership: every encoder writes into the shared scratch buffer and returns a fresh copy of the
 * written bytes (`slice`), which belongs to the caller and may be kept or handed to a Response. The
 * scratch buffer itself never leaves this module. The encoders are synchronous, so calls cannot
 * interleave.
 *
 * Bencode requires dictionary keys in raw-byte order; every fixed key sequence below is written in
 * that order, and scrape info hashes are sorted before writing.
 */

/** Swarm counts and intervals shared by both announce response models. */
export interface AnnounceCounts {
  /** Seconds the client should wait between regular announces. */
  interval: number;
  /** Seconds the client must wait at least between announces. */
  minInterval: number;
  /** Seeders in the swarm. */
  complete: number;
  /** Leechers in the swarm. */
  incomplete: number;
  /** Completed downloads recorded for the torrent. */
  downloaded: number;
}

/** Input of `announceResponse`: compact peer lists (BEP 23 for IPv4, BEP 7 for IPv6). */
export interface CompactAnnounce extends AnnounceCounts {
  /** 6 bytes per peer: IPv4 address, then port big-endian. Only the first `peers4Length` bytes count. */
  peers4: Uint8Array;
  /** Bytes of `peers4` in use (not a peer count); a multiple of 6. */
  peers4Length: number;
  /** 18 bytes per peer: IPv6 address, then port big-endian. Only the first `peers6Length` bytes count. */
  peers6: Uint8Array;
  /** Bytes of `peers6` in use (not a peer count); a multiple of 18. */
  peers6Length: number;
}

/** One peer in the original, non-compact dictionary model. */
export interface DictPeer {
  /** Address as text, e.g. "192.0.2.1" or "2001:db8::1". */
  ip: string;
  /** 1..65535. */
  port: number;
  /** The peer's 20-byte id, or null to omit the key (the requester sent `no_peer_id`). */
  peerId: Uint8Array | null;
}

/** Input of `announceResponseDict`. */
export interface DictAnnounce extends AnnounceCounts {
  /** Peers to return. */
  peers: readonly DictPeer[];
}

/** One torrent's counts in a scrape response. */
export interface ScrapeFile {
  /** The torrent's 20-byte info hash. */
  infoHash: Uint8Array;
  /** Seeders. */
  complete: number;
  /** Leechers. */
  incomplete: number;
  /** Completed downloads. */
  downloaded: number;
}

const INITIAL_SIZE = 4096;
/** A scratch buffer grown past this by an unusually large response is dropped afterwards. */
const KEEP_SIZE = 1 << 20;
/** Room for one bencoded integer's digits: a sign and the 16 digits of MAX_SAFE_INTEGER. */
const INT_ROOM = 17;

let scratch = new Uint8Array(INITIAL_SIZE);
const textEncoder = new TextEncoder();

function ascii(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}

// Each chunk ends where the next integer or string length begins.
const A_COMPLETE = ascii("d8:completei");
const A_DOWNLOADED = ascii("e10:downloadedi");
const A_INCOMPLETE = ascii("e10:incompletei");
const A_INTERVAL = ascii("e8:intervali");
const A_MIN_INTERVAL = ascii("e12:min intervali");
const A_PEERS = ascii("e5:peers");
const A_PEERS6 = ascii("6:peers6");
const A_PEERS_LIST = ascii("e5:peersl");
const P_IP = ascii("d2:ip");
const P_PEER_ID = ascii("7:peer id");
const P_PORT = ascii("4:porti");
const S_FILES = ascii("d5:filesd");
const S_COMPLETE = ascii("d8:completei");
const S_DOWNLOADED = ascii("e10:downloadedi");
const S_INCOMPLETE = ascii("e10:incompletei");
const FIXED_ROOM = 128;

/** Makes room for `extra` more bytes after `pos`, keeping what is already written. */
function reserve(pos: number, extra: number): void {
  const need = pos + extra;
  if (need <= scratch.length) return;
  let size = scratch.length * 2;
  while (size < need) size *= 2;
  const next = new Uint8Array(size);
  next.set(scratch.subarray(0, pos));
  scratch = next;
}

function finish(pos: number): Uint8Array {
  const out = scratch.slice(0, pos);
  if (scratch.length > KEEP_SIZE) scratch = new Uint8Array(INITIAL_SIZE);
  return out;
}

function putBytes(pos: number, bytes: Uint8Array): number {
  scratch.set(bytes, pos);
  return pos + bytes.length;
}

/** Writes the decimal digits of a safe integer (with "-" when negative); room must be reserved. */
function putInt(pos: number, value: number): number {
  if (!Number.isSafeInteger(value)) throw new RangeError(`bencode integer must be a safe integer: ${value}`);
  let v = value;
  if (v < 0) {
    scratch[pos++] = 0x2d;
    v = -v;
  }
  let digits = 1;
  for (let t = v; t >= 10; t = Math.floor(t / 10)) digits++;
  let p = pos + digits;
  while (v >= 10) {
    const q = Math.floor(v / 10);
    scratch[--p] = 0x30 + (v - q * 10);
    v = q;
  }
  scratch[--p] = 0x30 + v;
  return pos + digits;
}

/** Writes the bencode string `<length>:<bytes[0, length)>`; room must be reserved. */
function putString(pos: number, bytes: Uint8Array, length: number): number {
  pos = putInt(pos, length);
  scratch[pos++] = 0x3a;
  scratch.set(length === bytes.length ? bytes : bytes.subarray(0, length), pos);
  return pos + length;
}

function checkLength(name: string, bytes: Uint8Array, length: number, unit: number): void {
  if (!Number.isInteger(length) || length < 0 || length > bytes.length || length % unit !== 0) {
    throw new RangeError(`${name} must be a multiple of ${unit} within the array: ${length}`);
  }
}

/** Writes the count keys up to and including the `min interval` value; room must be reserved. */
function putCounts(pos: number, r: AnnounceCounts): number {
  pos = putBytes(pos, A_COMPLETE);
  pos = putInt(pos, r.complete);
  pos = putBytes(pos, A_DOWNLOADED);
  pos = putInt(pos, r.downloaded);
  pos = putBytes(pos, A_INCOMPLETE);
  pos = putInt(pos, r.incomplete);
  pos = putBytes(pos, A_INTERVAL);
  pos = putInt(pos, r.interval);
  pos = putBytes(pos, A_MIN_INTERVAL);
  return putInt(pos, r.minInterval);
}

/**
 * Encodes a compact announce response:
 * `d8:completei…e10:downloadedi…e10:incompletei…e8:intervali…e12:min intervali…e5:peers…6:peers6…e`.
 * `peers` is always present, `0:` when empty, since BEP 3 makes it part of every successful
 * response; `peers6` is left out when there are no IPv6 peers, which BEP 7 allows.
 */
export function announceResponse(r: CompactAnnounce): Uint8Array {
  checkLength("peers4Length", r.peers4, r.peers4Length, 6);
  checkLength("peers6Length", r.peers6, r.peers6Length, 18);
  reserve(0, FIXED_ROOM + 7 * INT_ROOM + r.peers4Length + r.peers6Length);
  let pos = putCounts(0, r);
  pos = putBytes(pos, A_PEERS);
  pos = putString(pos, r.peers4, r.peers4Length);
  if (r.peers6Length > 0) {
    pos = putBytes(pos, A_PEERS6);
    pos = putString(pos, r.peers6, r.peers6Length);
  }
  scratch[pos++] = 0x65;
  return finish(pos);
}

/** Writes an address as a bencode string; room for `INT_ROOM + 1 + ip.length` must be reserved. */
function putAddress(pos: number, ip: string): number {
  for (let i = 0; i < ip.length; i++) {
    if (ip.charCodeAt(i) > 0x7f) {
      // Not an address we produce, but a mistake upstream must not corrupt the bencode framing.
      const bytes = textEncoder.encode(ip);
      reserve(pos, INT_ROOM + 1 + bytes.length);
      return putString(pos, bytes, bytes.length);
    }
  }
  pos = putInt(pos, ip.length);
  scratch[pos++] = 0x3a;
  for (let i = 0; i < ip.length; i++) scratch[pos++] = ip.charCodeAt(i);
  return pos;
}

/**
 * Encodes a non-compact announce response, for clients that send `compact=0`: `peers` is a list
 * of dictionaries with keys `ip`, `peer id` (left out when `peerId` is null) and `port`, in that
 * (byte-sorted) order.
 */
export function announceResponseDict(r: DictAnnounce): Uint8Array {
  reserve(0, FIXED_ROOM + 5 * INT_ROOM);
  let pos = putCounts(0, r);
  pos = putBytes(pos, A_PEERS_LIST);
  const peers = r.peers;
  for (let i = 0; i < peers.length; i++) {
    const peer = peers[i]!;
    const id = peer.peerId;
    reserve(pos, 32 + 3 * INT_ROOM + peer.ip.length + (id ? id.length : 0));
    pos = putBytes(pos, P_IP);
    pos = putAddress(pos, peer.ip);
    // A non-ASCII address may have taken more room than reserved above.
    reserve(pos, 32 + 2 * INT_ROOM + (id ? id.length : 0));
    if (id) {
      pos = putBytes(pos, P_PEER_ID);
      pos = putString(pos, id, id.length);
    }
    pos = putBytes(pos, P_PORT);
    pos = putInt(pos, peer.port);
    scratch[pos++] = 0x65;
    scratch[pos++] = 0x65;
  }
  reserve(pos, 2);
  scratch[pos++] = 0x65;
  scratch[pos++] = 0x65;
  return finish(pos);
}

/** Raw-byte order of two byte strings; a prefix sorts first. */
function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = a[i]! - b[i]!;
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

function compareFiles(a: ScrapeFile, b: ScrapeFile): number {
  return compareBytes(a.infoHash, b.infoHash);
}

/**
 * Encodes a scrape response:
 * `d5:filesd20:<hash>d8:completei…e10:downloadedi…e10:incompletei…ee…ee`.
 * Info-hash keys are written in raw-byte order as bencode (and BEP 48) requires, whatever order
 * `files` is in; `files` itself is not reordered. A repeated info hash is written once, since
 * a dictionary cannot hold a key twice.
 */
export function scrapeResponse(files: readonly ScrapeFile[]): Uint8Array {
  let sorted = true;
  for (let i = 1; i < files.length; i++) {
    if (compareFiles(files[i - 1]!, files[i]!) >= 0) {
      sorted = false;
      break;
    }
  }
  const ordered = sorted ? files : files.slice().sort(compareFiles);
  reserve(0, 16);
  let pos = putBytes(0, S_FILES);
  let previous: Uint8Array | null = null;
  for (let i = 0; i < ordered.length; i++) {
    const file = ordered[i]!;
    const hash = file.infoHash;
    if (previous && compareBytes(previous, hash) === 0) continue;
    previous = hash;
    reserve(pos, 64 + 4 * INT_ROOM + hash.length);
    pos = putString(pos, hash, hash.length);
    pos = putBytes(pos, S_COMPLETE);
    pos = putInt(pos, file.complete);
    pos = putBytes(pos, S_DOWNLOADED);
    pos = putInt(pos, file.downloaded);
    pos = putBytes(pos, S_INCOMPLETE);
    pos = putInt(pos, file.incomplete);
    scratch[pos++] = 0x65;
    scratch[pos++] = 0x65;
  }
  reserve(pos, 2);
  scratch[pos++] = 0x65;
  scratch[pos++] = 0x65;
  return finish(pos);
}
