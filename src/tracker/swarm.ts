// The in-memory swarm store: every peer of every torrent, kept lean enough for millions of peers on
// the announce hot path. Pure: no I/O, the clock and randomness come in as arguments.
//
// Layout. A peer is a packed 48-byte record addressed by its slot number, split in two Int32Arrays:
// the 8 bytes selection reads (address, port, flags) apart from the 40 bytes only announces of that
// peer touch, so that answering an announce pulls few and dense cache lines. Each torrent owns a small
// open-addressing hash table of slot references, carved out of one shared Int32Array pool. That
// table is at once the index (torrent, member, peer_id) -> slot and the torrent's membership list (selection
// walks it from a random position), so a peer costs its record plus one 4-byte table entry: no
// per-peer JS objects, and neither a torrent number nor a back-pointer stored per peer. Reaping
// walks the tables rather than the slots for the same reason. IPv6 addresses live in a side table;
// the record's address word then holds the side-table index. A dual-stack client (the same peer_id
// announced over IPv4 and IPv6) keeps one record, so it counts and earns credit once, and its IPv4
// address and port go into its side-table entry: it is listed in both `peers` and `peers6`. A
// count of peers per (member, torrent) makes the per-member cap a lookup. A peer is one member's:
// the hash is the peer_id's alone, but a lookup matches the member too (the record's user word), so
// another member announcing the same peer_id is another peer and never touches this one.

import { PairCounts } from "./pair-counts.ts";

const PEER_ID_BYTES = 20;
/** Matches any member's peer in find and remove (member ids are positive). */
const ANY_USER = -1;

// Record words. The counters are split into a low word and 21 high bits (exact below 2^53); the
// high bits fill the room left next to the port and in one shared word, so a peer takes 12 words:
//   rec: 0-4 peer_id, 5 user (links the free list when the slot is free), 6 last seen,
//        7 uploaded low, 8 downloaded low, 9 uploaded high >>> 10 | downloaded high << 11;
//   net: 0 IPv4 address (big-endian number) or IPv6 side-table index,
//        1 port | (uploaded high & 0x3ff) << 16 | seeder bit 26 | IPv6 bit 27 | dual-stack bit 28.
// The port is the IPv6 one when the peer has an IPv6 address.
// IPv6 side-table entry, 8 words: 0-3 the IPv6 address (bytes in order), 4 the IPv4 address of a
// dual-stack peer, 5 its IPv4 port, 6 when it last announced over IPv4, 7 the same over IPv6.
const STRIDE = 10;
const W_USER = 5;
const W_SEEN = 6;
const W_UP = 7;
const W_DOWN = 8;
const W_HIGH = 9;
const NET_STRIDE = 2;
const TWO_32 = 4294967296;
const DUAL_BIT = 1 << 28;
const PORT_MASK = 0xffff;
const UP_HIGH_MASK = 0x3ff << 16;
const V6_WORDS = 8;
const V6_BYTES = V6_WORDS * 4;
const V6_W_V4 = 4;
const V6_W_V4_PORT = 5;
const V6_W_V4_SEEN = 6;
const V6_W_V6_SEEN = 7;

// A table entry is an Int32: 0 = empty; bits 0-25 slot + 1; bit 26 seeder; bit 27 IPv6; bits 28-31
// a tag from the peer-id hash, so most probes that miss never touch the peer's record. The flag
// bits let selection skip seeders and route addresses without loading the record.
const SLOT_MASK = (1 << 26) - 1;
const SEEDER_BIT = 1 << 26;
const V6_BIT = 1 << 27;
const TAG_MASK = 0xf0000000 | 0;

/** Most peers one store holds: slot + 1 must fit the entry's 26 slot bits. */
export const MAX_PEERS = SLOT_MASK - 1;

const DEFAULT_INITIAL_PEERS = 1024;
const INITIAL_TORRENTS = 1024;
const INITIAL_V6 = 64;
const MIN_POOL_HEADROOM = 1024;

/** Largest number of entries a table of `cap` entries holds before it doubles. */
function maxLoad(cap: number): number {
  // Tiny tables may fill up: every probe loop is bounded by the capacity anyway, and most torrents
  // have only a handful of peers, so this is where memory is won.
  return cap <= 4 ? cap : cap - (cap >> 2);
}

/** log2 of the smallest table capacity that holds `n` entries. */
function fitLog(n: number): number {
  let log = 0;
  while (maxLoad(1 << log) < n) log++;
  return log;
}

function mixWord(h: number, word: number): number {
  let k = Math.imul(word, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  h ^= Math.imul(k, 0x1b873593);
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

/** Murmur3-style hash of the five peer-id words: cheap, and every output bit depends on every input. */
function hashWords(seed: number, a: number, b: number, c: number, d: number, e: number): number {
  let h = mixWord(mixWord(mixWord(mixWord(mixWord(seed, a), b), c), d), e);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

function grownInt32(a: Int32Array, length: number): Int32Array {
  const b = new Int32Array(length);
  b.set(a);
  return b;
}

function grownUint8(a: Uint8Array, length: number): Uint8Array {
  const b = new Uint8Array(length);
  b.set(a);
  return b;
}

function badCounter(n: number): boolean {
  return !(Number.isSafeInteger(n) && n >= 0);
}

function dotted(a: number): string {
  return `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
}

function formatIPv6(b: Uint8Array, o: number): string {
  // RFC 5952: lowercase hex without leading zeros, the longest run of two or more zero groups as
  // "::", and IPv4-mapped addresses in dotted form.
  let mapped = b[o + 10] === 0xff && b[o + 11] === 0xff;
  for (let i = 0; i < 10 && mapped; i++) if (b[o + i] !== 0) mapped = false;
  if (mapped) return `::ffff:${b[o + 12]}.${b[o + 13]}.${b[o + 14]}.${b[o + 15]}`;
  const groups: number[] = [];
  for (let i = 0; i < 8; i++) groups.push((b[o + 2 * i]! << 8) | b[o + 2 * i + 1]!);
  let bestStart = -1;
  let bestLength = 1;
  let runStart = -1;
  for (let i = 0; i < 8; i++) {
    if (groups[i] !== 0) {
      runStart = -1;
      continue;
    }
    if (runStart < 0) runStart = i;
    if (i - runStart + 1 > bestLength) {
      bestStart = runStart;
      bestLength = i - runStart + 1;
    }
  }
  let text = "";
  for (let i = 0; i < 8; i++) {
    if (i === bestStart) {
      text += "::";
      i += bestLength - 1;
      continue;
    }
    if (text !== "" && !text.endsWith(":")) text += ":";
    text += groups[i]!.toString(16);
  }
  return text;
}

/** Options for {@link SwarmStore}. */
export interface SwarmStoreOptions {
  /** Peer slots to allocate up front (rounded up to a power of two); default 1024. */
  readonly initialPeers?: number;
  /**
   * Seed of the peer-id hash. The default is a fixed constant; pass a random one so that crafted
   * peer ids cannot pile up in one probe cluster.
   */
  readonly hashSeed?: number;
  /**
   * A dual-stack peer's address of one family is dropped when that family has not announced for
   * longer than this while the other one has (the client moved to a network without it). Default:
   * never dropped while the peer stays.
   */
  readonly familyStaleSeconds?: number;
}

/**
 * Every peer of every torrent, keyed by (torrent, peer_id). Torrents are dense small integers `t`
 * (0 <= t < 2^31; per-torrent tables grow to the largest `t` seen). A slot number identifies a peer
 * record until that peer is removed (slots are then reused); it survives growth of the store.
 *
 * One record per (t, peer_id): a later announce from another address of the same family replaces
 * that address; one from the other family adds it (see {@link put}), so a dual-stack client is one
 * peer with two addresses.
 */
export class SwarmStore {
  private rec: Int32Array;
  private net: Int32Array;
  private slotCap: number;
  private slotTop = 0;
  private freeSlot = -1;
  private live = 0;

  // IPv6 side table: 16 bytes per address; a free entry's first word links the free list.
  private ip6: Uint8Array;
  private ip6Words: Int32Array;
  private ip6Top = 0;
  private ip6Free = -1;

  // Per torrent: the table's pool offset, log2 of its capacity plus one (0 = no table), counts.
  private tBase: Int32Array;
  private tLog: Uint8Array;
  private tCount: Int32Array;
  private tSeeders: Int32Array;

  // Pool of table blocks, power-of-two sized, with a free list per size. Blocks are taken from the
  // free lists first, then from the tail; when the tail runs out, the live blocks are copied into a
  // fresh pool, which both grows it and drops the blocks freed by tables that grew and were never
  // reused.
  private pool: Int32Array;
  private poolTop = 0;
  private poolLive = 0;
  private readonly freeBlock = new Int32Array(32).fill(-1);

  private readonly seed: number;
  private readonly staleSeconds: number;
  private readonly pairs: PairCounts;
  private readonly key8 = new Uint8Array(PEER_ID_BYTES);
  private readonly key = new Int32Array(this.key8.buffer);

  /** A byte view of `rec`, for {@link copyPeerId}. */
  private recBytes: Uint8Array<ArrayBufferLike> = new Uint8Array(0);
  private count4 = 0;
  private count6 = 0;

  /** Creates an empty store. */
  constructor(options: SwarmStoreOptions = {}) {
    const want = Math.max(16, Math.min(options.initialPeers ?? DEFAULT_INITIAL_PEERS, MAX_PEERS + 1));
    this.slotCap = 2 ** Math.ceil(Math.log2(want));
    this.rec = new Int32Array(this.slotCap * STRIDE);
    this.net = new Int32Array(this.slotCap * NET_STRIDE);
    this.ip6 = new Uint8Array(INITIAL_V6 * V6_BYTES);
    this.ip6Words = new Int32Array(this.ip6.buffer);
    this.tBase = new Int32Array(INITIAL_TORRENTS);
    this.tLog = new Uint8Array(INITIAL_TORRENTS);
    this.tCount = new Int32Array(INITIAL_TORRENTS);
    this.tSeeders = new Int32Array(INITIAL_TORRENTS);
    this.pool = new Int32Array(Math.max(MIN_POOL_HEADROOM, this.slotCap));
    this.seed = (options.hashSeed ?? 0x2f6b1d37) | 0;
    this.staleSeconds = options.familyStaleSeconds ?? Number.POSITIVE_INFINITY;
    this.pairs = new PairCounts(this.seed ^ 0x6a09e667);
  }

  /** Total peers. */
  get size(): number {
    return this.live;
  }

  /** IPv4 peers written by the last {@link selectCompact} (6 bytes each in `out4`). */
  get selected4(): number {
    return this.count4;
  }

  /** IPv6 peers written by the last {@link selectCompact} (18 bytes each in `out6`). */
  get selected6(): number {
    return this.count6;
  }

  /**
   * Looks up the peer of member `userId` with `peerId`; returns its slot or -1. Without `userId`,
   * any member's peer with that peer_id (tests with one member per peer_id).
   */
  find(t: number, peerId: Uint8Array, userId = ANY_USER): number {
    const at = this.locate(t, this.hashKey(peerId), userId);
    return at < 0 ? -1 : (this.pool[at]! & SLOT_MASK) - 1;
  }

  /**
   * Inserts or updates a peer (`peerId` 20 bytes; `ip` 4 or 16 bytes, IPv4-mapped IPv6 addresses
   * should be unmapped by the caller; `userId` an int32) and returns its slot. `uploaded` and
   * `downloaded` must be integers in [0, 2^53) and are stored exactly (anything else throws a
   * RangeError, as do a bad `t`, peer id or address); `nowSeconds` is stored as a Uint32. The peer
   * is (t, userId, peerId): another member's peer with the same peer_id is another peer.
   *
   * The address is that of `ip`'s family: an update from the other family adds it (see
   * {@link addAddress}) rather than replacing the one the peer has.
   *
   * The peer's previous state is readable afterwards through {@link lastUploaded},
   * {@link lastDownloaded}, {@link lastSeeder} and {@link inserted} (until the next put), or before
   * the call through the per-slot getters of `find(t, peerId)`. Seeder and leecher counts follow
   * every change of `seeder` (left == 0), both ways.
   */
  put(
    t: number,
    peerId: Uint8Array,
    userId: number,
    ip: Uint8Array,
    port: number,
    seeder: boolean,
    uploaded: number,
    downloaded: number,
    nowSeconds: number,
  ): number {
    if (!(t >= 0 && t <= 0x7fffffff && t === Math.floor(t))) throw new RangeError(`bad torrent ${t}`);
    if (ip.length !== 16 && ip.length !== 4) throw new RangeError("ip must be 4 or 16 bytes");
    if (badCounter(uploaded) || badCounter(downloaded)) throw new RangeError("bad uploaded or downloaded");
    const h = this.hashKey(peerId);
    const at = this.locate(t, h, userId);
    const net = this.net;
    const rec = this.rec;
    let slot: number;
    if (at >= 0) {
      const e = this.pool[at]!;
      slot = (e & SLOT_MASK) - 1;
      if (((e & SEEDER_BIT) !== 0) !== seeder) this.tSeeders[t]! += seeder ? 1 : -1;
      const previousUser = rec[slot * STRIDE + W_USER]!;
      if (previousUser !== userId) {
        this.pairs.dec(previousUser, t);
        this.pairs.inc(userId, t);
      }
      this.setAddress(slot, ip, port, nowSeconds, false);
      const v6 = net[slot * NET_STRIDE + 1]! & V6_BIT;
      this.pool[at] = (e & ~(SEEDER_BIT | V6_BIT)) | (seeder ? SEEDER_BIT : 0) | v6;
    } else {
      if (this.live >= MAX_PEERS) throw new RangeError("swarm store is full");
      slot = this.takeSlot();
      const k = this.key;
      const o = slot * STRIDE;
      this.rec[o] = k[0]!;
      this.rec[o + 1] = k[1]!;
      this.rec[o + 2] = k[2]!;
      this.rec[o + 3] = k[3]!;
      this.rec[o + 4] = k[4]!;
      this.net[slot * NET_STRIDE + 1] = 0;
      this.setAddress(slot, ip, port, nowSeconds, true);
      const v6 = this.net[slot * NET_STRIDE + 1]! & V6_BIT;
      this.insertEntry(t, h, (h & TAG_MASK) | (seeder ? SEEDER_BIT : 0) | v6 | (slot + 1));
      this.tCount[t]!++;
      if (seeder) this.tSeeders[t]!++;
      this.live++;
      this.pairs.inc(userId, t);
    }
    // `x >>> 0` is x mod 2^32 for any integer below 2^53, so the split is exact.
    const upLow = uploaded >>> 0;
    const upHigh = (uploaded - upLow) / TWO_32;
    const downLow = downloaded >>> 0;
    const downHigh = (downloaded - downLow) / TWO_32;
    const n = slot * NET_STRIDE + 1;
    this.net[n] =
      (this.net[n]! & ~(UP_HIGH_MASK | SEEDER_BIT)) | ((upHigh & 0x3ff) << 16) | (seeder ? SEEDER_BIT : 0);
    const o = slot * STRIDE;
    this.rec[o + W_USER] = userId;
    this.rec[o + W_SEEN] = nowSeconds;
    this.rec[o + W_UP] = upLow;
    this.rec[o + W_DOWN] = downLow;
    this.rec[o + W_HIGH] = (upHigh >>> 10) | (downHigh << 11);
    return slot;
  }

  /**
   * Gives the peer in `slot` of torrent t the address `ip` (4 or 16 bytes) and `port` for that
   * family, touching nothing else (not its counters, not when it was last seen): for an announce
   * that changes no accounting but comes over the other family, as a dual-stack client's second
   * announce does moments after the first.
   */
  addAddress(t: number, slot: number, ip: Uint8Array, port: number, nowSeconds: number): void {
    if (ip.length !== 16 && ip.length !== 4) throw new RangeError("ip must be 4 or 16 bytes");
    const before = this.net[slot * NET_STRIDE + 1]! & V6_BIT;
    this.setAddress(slot, ip, port, nowSeconds, false);
    const after = this.net[slot * NET_STRIDE + 1]! & V6_BIT;
    if (before === after) return;
    const at = this.locate(t, this.slotKey(slot), this.rec[slot * STRIDE + W_USER]!);
    if (at >= 0) this.pool[at] = (this.pool[at]! & ~V6_BIT) | after;
  }

  /** Whether the peer in `slot` has an address of `ip`'s family. */
  hasFamily(slot: number, ip: Uint8Array): boolean {
    const word = this.net[slot * NET_STRIDE + 1]!;
    if (ip.length === 16) return (word & V6_BIT) !== 0;
    return (word & V6_BIT) === 0 || (word & DUAL_BIT) !== 0;
  }

  /**
   * Sets the address of `ip`'s family for the peer in `slot`: net word 0, the port bits and the
   * IPv6/dual-stack bits of net word 1 (the caller mirrors the IPv6 bit into the table entry).
   */
  private setAddress(slot: number, ip: Uint8Array, port: number, now: number, fresh: boolean): void {
    const net = this.net;
    const n = slot * NET_STRIDE;
    const word = net[n + 1]!;
    const has6 = !fresh && (word & V6_BIT) !== 0;
    const keep = word & ~(PORT_MASK | V6_BIT | DUAL_BIT);
    if (ip.length === 16) {
      let s: number;
      let dual = 0;
      if (has6) {
        s = net[n]!;
        const v4Seen = this.ip6Words[s * V6_WORDS + V6_W_V4_SEEN]! >>> 0;
        if ((word & DUAL_BIT) !== 0 && now - v4Seen <= this.staleSeconds) dual = DUAL_BIT;
      } else {
        s = this.takeIPv6();
        const w = this.ip6Words;
        // A peer known by its IPv4 address keeps it: it now has both.
        if (!fresh && now - this.lastSeen(slot) <= this.staleSeconds) {
          w[s * V6_WORDS + V6_W_V4] = net[n]!;
          w[s * V6_WORDS + V6_W_V4_PORT] = word & PORT_MASK;
          w[s * V6_WORDS + V6_W_V4_SEEN] = this.rec[slot * STRIDE + W_SEEN]!;
          dual = DUAL_BIT;
        }
        net[n] = s;
      }
      this.ip6.set(ip, s * V6_BYTES);
      this.ip6Words[s * V6_WORDS + V6_W_V6_SEEN] = now;
      net[n + 1] = keep | (port & PORT_MASK) | V6_BIT | dual;
      return;
    }
    const a = (ip[0]! << 24) | (ip[1]! << 16) | (ip[2]! << 8) | ip[3]!;
    if (!has6) {
      net[n] = a;
      net[n + 1] = keep | (port & PORT_MASK);
      return;
    }
    const s = net[n]!;
    const words = this.ip6Words;
    if (now - (words[s * V6_WORDS + V6_W_V6_SEEN]! >>> 0) > this.staleSeconds) {
      // Its IPv6 address went quiet: the peer is IPv4-only now.
      this.releaseIPv6(s);
      net[n] = a;
      net[n + 1] = keep | (port & PORT_MASK);
      return;
    }
    words[s * V6_WORDS + V6_W_V4] = a;
    words[s * V6_WORDS + V6_W_V4_PORT] = port & PORT_MASK;
    words[s * V6_WORDS + V6_W_V4_SEEN] = now;
    net[n + 1] = (word & ~DUAL_BIT) | DUAL_BIT;
  }

  /** Removes the peer of member `userId` (without it: of any member) with `peerId`; true if it existed. */
  remove(t: number, peerId: Uint8Array, userId = ANY_USER): boolean {
    const at = this.locate(t, this.hashKey(peerId), userId);
    if (at < 0) return false;
    this.deleteAt(t, at);
    this.settle(t);
    return true;
  }

  /** Member who announced the peer in `slot`. */
  userId(slot: number): number {
    return this.rec[slot * STRIDE + W_USER]!;
  }

  /** Uploaded total the peer in `slot` last reported. */
  uploaded(slot: number): number {
    const o = slot * STRIDE;
    const high =
      ((this.rec[o + W_HIGH]! & 0x7ff) << 10) | ((this.net[slot * NET_STRIDE + 1]! >>> 16) & 0x3ff);
    return high * TWO_32 + (this.rec[o + W_UP]! >>> 0);
  }

  /** Downloaded total the peer in `slot` last reported. */
  downloaded(slot: number): number {
    const o = slot * STRIDE;
    const high = this.rec[o + W_HIGH]! >>> 11;
    return high * TWO_32 + (this.rec[o + W_DOWN]! >>> 0);
  }

  /** Whether the peer in `slot` is a seeder. */
  isSeeder(slot: number): boolean {
    return (this.net[slot * NET_STRIDE + 1]! & SEEDER_BIT) !== 0;
  }

  /** When the peer in `slot` last announced, in the caller's seconds. */
  lastSeen(slot: number): number {
    return this.rec[slot * STRIDE + W_SEEN]! >>> 0;
  }

  /** Whether the peer in `slot` has an IPv6 address. */
  isIPv6(slot: number): boolean {
    return (this.net[slot * NET_STRIDE + 1]! & V6_BIT) !== 0;
  }

  /** Port of the peer in `slot`. */
  port(slot: number): number {
    return this.net[slot * NET_STRIDE + 1]! & 0xffff;
  }

  /**
   * The peer_id in `slot` as a view into the store (no copy): valid until the peer is removed or the
   * store next grows, so copy it to keep it.
   */
  peerIdOf(slot: number): Uint8Array {
    return new Uint8Array(this.rec.buffer, slot * STRIDE * 4, PEER_ID_BYTES);
  }

  /**
   * Address of the peer in `slot` as text: RFC 5952 IPv6 when it has an IPv6 address (its port is
   * then {@link port}), dotted IPv4 otherwise.
   */
  ipString(slot: number): string {
    const a = this.net[slot * NET_STRIDE]!;
    if (this.isIPv6(slot)) return formatIPv6(this.ip6, a * V6_BYTES);
    return dotted(a);
  }

  /** Copies the peer_id in `slot` into `out` at `at` (through one byte view of `rec`, no allocation). */
  copyPeerId(slot: number, out: Uint8Array, at: number): void {
    if (this.recBytes.buffer !== this.rec.buffer) this.recBytes = new Uint8Array(this.rec.buffer);
    const bytes = this.recBytes;
    const from = slot * STRIDE * 4;
    for (let i = 0; i < PEER_ID_BYTES; i++) out[at + i] = bytes[from + i]!;
  }

  /**
   * Writes the address of the peer in `slot` into `out` at `at` (16 bytes when it has an IPv6
   * address, else 4) and returns how many bytes: what {@link put} takes back.
   */
  addressOf(slot: number, out: Uint8Array, at: number): number {
    const a = this.net[slot * NET_STRIDE]!;
    if (this.isIPv6(slot)) {
      out.set(this.ip6.subarray(a * V6_BYTES, a * V6_BYTES + 16), at);
      return 16;
    }
    out[at] = a >>> 24;
    out[at + 1] = a >>> 16;
    out[at + 2] = a >>> 8;
    out[at + 3] = a;
    return 4;
  }

  /** Whether the peer in `slot` has an IPv4 address besides its IPv6 one (a dual-stack client). */
  isDualStack(slot: number): boolean {
    return (this.net[slot * NET_STRIDE + 1]! & DUAL_BIT) !== 0;
  }

  /** The IPv4 address of a dual-stack peer as dotted text (see {@link isDualStack}). */
  dualIPv4String(slot: number): string {
    return dotted(this.ip6Words[this.net[slot * NET_STRIDE]! * V6_WORDS + V6_W_V4]!);
  }

  /** The IPv4 port of a dual-stack peer (see {@link isDualStack}). */
  dualIPv4Port(slot: number): number {
    return this.ip6Words[this.net[slot * NET_STRIDE]! * V6_WORDS + V6_W_V4_PORT]! & PORT_MASK;
  }

  /** Seeders of torrent t. */
  seeders(t: number): number {
    return this.tSeeders[t] ?? 0;
  }

  /** Leechers of torrent t. */
  leechers(t: number): number {
    return (this.tCount[t] ?? 0) - (this.tSeeders[t] ?? 0);
  }

  /** Peers of torrent t (seeders plus leechers). */
  peerCount(t: number): number {
    return this.tCount[t] ?? 0;
  }

  /** Number of peers owned by userId in torrent t: a lookup, O(1). */
  peersOfUser(t: number, userId: number): number {
    return this.pairs.get(userId, t);
  }

  /**
   * Writes up to `max` peers of torrent t other than `exceptSlot` (-1 for none), from a random
   * position in the torrent's table (`rand()` in [0, 1), called once): IPv4 peers into `out4`
   * (address and port, big-endian, 6 bytes each), IPv6 peers into `out6` (18 bytes each). With
   * `leechersOnly` (the requester is a seeder) only leechers are written. A dual-stack peer goes
   * into both buffers and counts once towards `max`. Counts are left in {@link selected4} and
   * {@link selected6}; a peer that would overflow its buffers is skipped. Allocates nothing.
   */
  selectCompact(
    t: number,
    exceptSlot: number,
    leechersOnly: boolean,
    max: number,
    out4: Uint8Array,
    out6: Uint8Array,
    rand: () => number,
  ): void {
    this.count4 = 0;
    this.count6 = 0;
    const log = this.tLog[t] ?? 0;
    if (log === 0 || max <= 0) return;
    const count = this.tCount[t]!;
    let remaining = leechersOnly ? count - this.tSeeders[t]! : count;
    const cap = 1 << (log - 1);
    const mask = cap - 1;
    const base = this.tBase[t]!;
    const pool = this.pool;
    const net = this.net;
    const ip6 = this.ip6;
    const skip = exceptSlot + 1;
    const last4 = out4.length - 6;
    const last6 = out6.length - 18;
    let o4 = 0;
    let o6 = 0;
    let n = 0;
    let i = ((rand() * cap) | 0) & mask;
    // `remaining` counts eligible entries not yet visited, so a sparse or seeder-heavy table is not
    // walked past its last eligible peer.
    for (let k = 0; k < cap && remaining > 0; k++, i = (i + 1) & mask) {
      const e = pool[base + i]!;
      if (e === 0 || (leechersOnly && (e & SEEDER_BIT) !== 0)) continue;
      remaining--;
      const s1 = e & SLOT_MASK;
      if (s1 === skip) continue;
      const o = (s1 - 1) * NET_STRIDE;
      const a = net[o]!;
      const w = net[o + 1]!;
      const p = w & 0xffff;
      if ((e & V6_BIT) !== 0) {
        const dual = (w & DUAL_BIT) !== 0 && o4 <= last4;
        if (o6 > last6 && !dual) continue;
        if (o6 <= last6) {
          const from = a * V6_BYTES;
          for (let b = 0; b < 16; b++) out6[o6 + b] = ip6[from + b]!;
          out6[o6 + 16] = p >>> 8;
          out6[o6 + 17] = p;
          o6 += 18;
        }
        if (dual) {
          const v4 = this.ip6Words[a * V6_WORDS + V6_W_V4]!;
          const p4 = this.ip6Words[a * V6_WORDS + V6_W_V4_PORT]!;
          out4[o4] = v4 >>> 24;
          out4[o4 + 1] = v4 >>> 16;
          out4[o4 + 2] = v4 >>> 8;
          out4[o4 + 3] = v4;
          out4[o4 + 4] = p4 >>> 8;
          out4[o4 + 5] = p4;
          o4 += 6;
        }
      } else {
        if (o4 > last4) continue;
        out4[o4] = a >>> 24;
        out4[o4 + 1] = a >>> 16;
        out4[o4 + 2] = a >>> 8;
        out4[o4 + 3] = a;
        out4[o4 + 4] = p >>> 8;
        out4[o4 + 5] = p;
        o4 += 6;
      }
      if (++n === max) break;
    }
    this.count4 = o4 / 6;
    this.count6 = o6 / 18;
  }

  /**
   * The same selection as {@link selectCompact} for the dictionary model: calls `visit(slot)` for
   * each chosen peer. `visit` must not add or remove peers.
   */
  selectSlots(
    t: number,
    exceptSlot: number,
    leechersOnly: boolean,
    max: number,
    rand: () => number,
    visit: (slot: number) => void,
  ): void {
    const log = this.tLog[t] ?? 0;
    if (log === 0 || max <= 0) return;
    const count = this.tCount[t]!;
    let remaining = leechersOnly ? count - this.tSeeders[t]! : count;
    const cap = 1 << (log - 1);
    const mask = cap - 1;
    const base = this.tBase[t]!;
    const pool = this.pool;
    const skip = exceptSlot + 1;
    let n = 0;
    let i = ((rand() * cap) | 0) & mask;
    for (let k = 0; k < cap && remaining > 0; k++, i = (i + 1) & mask) {
      const e = pool[base + i]!;
      if (e === 0 || (leechersOnly && (e & SEEDER_BIT) !== 0)) continue;
      remaining--;
      const s1 = e & SLOT_MASK;
      if (s1 === skip) continue;
      visit(s1 - 1);
      if (++n === max) break;
    }
  }

  /**
   * Removes every peer last seen before `cutoffSeconds` and returns how many went. Calls
   * `onPeer(t, slot)` for each peer just before it goes (the slot's getters still answer; `onPeer`
   * must not change this store) and `onRemoved(t)` once per torrent that lost peers, after its
   * counts are updated. Walks every torrent's table: O(peers + torrents).
   */
  reap(
    cutoffSeconds: number,
    onRemoved?: (t: number) => void,
    onPeer?: (t: number, slot: number) => void,
  ): number {
    let removed = 0;
    for (let t = 0; t < this.tLog.length; t++) {
      const log = this.tLog[t]!;
      if (log === 0) continue;
      const cap = 1 << (log - 1);
      const base = this.tBase[t]!;
      const pool = this.pool;
      const rec = this.rec;
      const before = removed;
      for (let i = 0; i < cap; ) {
        const e = pool[base + i]!;
        if (e !== 0 && rec[((e & SLOT_MASK) - 1) * STRIDE + W_SEEN]! >>> 0 < cutoffSeconds) {
          // Deleting shifts later entries of the cluster back, possibly into position i: look again.
          onPeer?.(t, (e & SLOT_MASK) - 1);
          this.deleteAt(t, base + i);
          removed++;
        } else {
          i++;
        }
      }
      if (removed !== before) {
        this.settle(t);
        onRemoved?.(t);
      }
    }
    return removed;
  }

  /** Calls `visit(slot)` for every peer of torrent t; `visit` must not change this store. */
  visitPeers(t: number, visit: (slot: number) => void): void {
    const log = this.tLog[t] ?? 0;
    if (log === 0) return;
    const pool = this.pool;
    const base = this.tBase[t]!;
    for (let i = base; i < base + (1 << (log - 1)); i++) {
      const e = pool[i]!;
      if (e !== 0) visit((e & SLOT_MASK) - 1);
    }
  }

  /** Drops every peer of torrent t. */
  removeTorrent(t: number): void {
    const log = this.tLog[t] ?? 0;
    if (log === 0) return;
    const cap = 1 << (log - 1);
    const base = this.tBase[t]!;
    for (let i = base; i < base + cap; i++) {
      const e = this.pool[i]!;
      if (e === 0) continue;
      this.pairs.dec(this.rec[((e & SLOT_MASK) - 1) * STRIDE + W_USER]!, t);
      this.releaseSlot(e);
    }
    this.live -= this.tCount[t]!;
    this.tCount[t] = 0;
    this.tSeeders[t] = 0;
    this.releaseBlock(base, log - 1);
    this.tLog[t] = 0;
  }

  /** Bytes held by the store's typed arrays. */
  memoryBytes(): number {
    return (
      this.rec.byteLength +
      this.net.byteLength +
      this.ip6.byteLength +
      this.tBase.byteLength +
      this.tLog.byteLength +
      this.tCount.byteLength +
      this.tSeeders.byteLength +
      this.pool.byteLength +
      this.pairs.memoryBytes()
    );
  }

  /** Copies the peer id into the key scratch (native word order, like the records) and hashes it. */
  private hashKey(peerId: Uint8Array): number {
    if (peerId.length !== PEER_ID_BYTES) throw new RangeError("peer_id must be 20 bytes");
    const k8 = this.key8;
    for (let i = 0; i < PEER_ID_BYTES; i++) k8[i] = peerId[i]!;
    const k = this.key;
    return hashWords(this.seed, k[0]!, k[1]!, k[2]!, k[3]!, k[4]!);
  }

  /** Loads the key scratch with the peer id in `slot` (as {@link hashKey} does) and hashes it. */
  private slotKey(slot: number): number {
    const rec = this.rec;
    const k = this.key;
    const o = slot * STRIDE;
    k[0] = rec[o]!;
    k[1] = rec[o + 1]!;
    k[2] = rec[o + 2]!;
    k[3] = rec[o + 3]!;
    k[4] = rec[o + 4]!;
    return hashWords(this.seed, k[0]!, k[1]!, k[2]!, k[3]!, k[4]!);
  }

  private slotHash(slot: number): number {
    const rec = this.rec;
    const o = slot * STRIDE;
    return hashWords(this.seed, rec[o]!, rec[o + 1]!, rec[o + 2]!, rec[o + 3]!, rec[o + 4]!);
  }

  /** Pool index of the entry matching the key scratch and member `user` in torrent t, or -1. */
  private locate(t: number, h: number, user: number): number {
    const log = this.tLog[t] ?? 0;
    if (log === 0) return -1;
    const mask = (1 << (log - 1)) - 1;
    const base = this.tBase[t]!;
    const pool = this.pool;
    const rec = this.rec;
    const k = this.key;
    const tag = h & TAG_MASK;
    let i = h & mask;
    for (let n = 0; n <= mask; n++, i = (i + 1) & mask) {
      const e = pool[base + i]!;
      if (e === 0) return -1;
      if ((e & TAG_MASK) !== tag) continue;
      const o = ((e & SLOT_MASK) - 1) * STRIDE;
      if (rec[o] === k[0] && rec[o + 1] === k[1] && rec[o + 2] === k[2] && rec[o + 3] === k[3]) {
        if (rec[o + 4] === k[4] && (user === ANY_USER || rec[o + W_USER] === user)) return base + i;
      }
    }
    return -1;
  }

  /** Adds an entry known to be absent, first creating or doubling the torrent's table if needed. */
  private insertEntry(t: number, h: number, entry: number): void {
    if (t >= this.tLog.length) this.growTorrents(t);
    const log = this.tLog[t]!;
    if (log === 0) this.resize(t, 0);
    else if (this.tCount[t]! + 1 > maxLoad(1 << (log - 1))) this.resize(t, log);
    const mask = (1 << (this.tLog[t]! - 1)) - 1;
    const base = this.tBase[t]!;
    const pool = this.pool;
    let i = h & mask;
    while (pool[base + i] !== 0) i = (i + 1) & mask;
    pool[base + i] = entry;
  }

  /** Deletes the entry at pool index `at` of torrent t and frees its slot; see {@link settle}. */
  private deleteAt(t: number, at: number): void {
    const pool = this.pool;
    const e = pool[at]!;
    const mask = (1 << (this.tLog[t]! - 1)) - 1;
    const base = this.tBase[t]!;
    // Backward-shift deletion: pull later entries of the probe cluster into the hole when the hole
    // lies on their probe path, so lookups never need tombstones.
    let hole = at - base;
    let j = hole;
    for (let n = 0; n < mask; n++) {
      j = (j + 1) & mask;
      const f = pool[base + j]!;
      if (f === 0) break;
      const home = this.slotHash((f & SLOT_MASK) - 1) & mask;
      if (((j - home) & mask) >= ((j - hole) & mask)) {
        pool[base + hole] = f;
        hole = j;
      }
    }
    pool[base + hole] = 0;
    this.pairs.dec(this.rec[((e & SLOT_MASK) - 1) * STRIDE + W_USER]!, t);
    this.tCount[t]!--;
    if ((e & SEEDER_BIT) !== 0) this.tSeeders[t]!--;
    this.live--;
    this.releaseSlot(e);
  }

  /** After removals from torrent t: frees an empty table, shrinks a mostly empty one. */
  private settle(t: number): void {
    const count = this.tCount[t]!;
    const log = this.tLog[t]! - 1;
    if (count === 0) {
      this.releaseBlock(this.tBase[t]!, log);
      this.tLog[t] = 0;
      return;
    }
    // Shrink to a table with room to double again, and only when that saves at least 3/4: a swarm
    // hovering around a boundary must not rebuild its table on every announce.
    if (count * 8 > 1 << log) return;
    const target = fitLog(count * 2);
    if (target <= log - 2) this.resize(t, target);
  }

  /** Moves torrent t's entries into a new table of 2^log entries (creating one if it has none). */
  private resize(t: number, log: number): void {
    const base = this.allocBlock(log); // may compact the pool: read the old table's place afterwards
    const oldLog = this.tLog[t]! - 1;
    if (oldLog >= 0) {
      const pool = this.pool;
      const oldBase = this.tBase[t]!;
      const mask = (1 << log) - 1;
      for (let i = oldBase; i < oldBase + (1 << oldLog); i++) {
        const e = pool[i]!;
        if (e === 0) continue;
        let j = this.slotHash((e & SLOT_MASK) - 1) & mask;
        while (pool[base + j] !== 0) j = (j + 1) & mask;
        pool[base + j] = e;
      }
      this.releaseBlock(oldBase, oldLog);
    }
    this.tBase[t] = base;
    this.tLog[t] = log + 1;
  }

  /** A zeroed block of 2^log entries. */
  private allocBlock(log: number): number {
    const cap = 1 << log;
    let base = this.freeBlock[log]!;
    if (base >= 0) {
      this.freeBlock[log] = this.pool[base]!;
      this.pool.fill(0, base, base + cap);
    } else {
      if (this.poolTop + cap > this.pool.length) this.compactPool(cap);
      base = this.poolTop; // the tail beyond poolTop is always zero
      this.poolTop += cap;
    }
    this.poolLive += cap;
    return base;
  }

  private releaseBlock(base: number, log: number): void {
    this.pool[base] = this.freeBlock[log]!;
    this.freeBlock[log] = base;
    this.poolLive -= 1 << log;
  }

  /**
   * Copies the live tables into a fresh pool with room for `need` more entries plus headroom. The
   * headroom (a quarter of the live entries, at least an eighth of the torrent count) bounds how often
   * this runs, so copying stays amortised O(1) per allocated entry.
   */
  private compactPool(need: number): void {
    const live = this.poolLive + need;
    const length = live + Math.max(live >> 2, this.tLog.length >> 3, MIN_POOL_HEADROOM);
    const from = this.pool;
    const to = new Int32Array(length);
    let top = 0;
    for (let t = 0; t < this.tLog.length; t++) {
      const log = this.tLog[t]!;
      if (log === 0) continue;
      const cap = 1 << (log - 1);
      const base = this.tBase[t]!;
      if (cap <= 16) for (let i = 0; i < cap; i++) to[top + i] = from[base + i]!;
      else to.set(from.subarray(base, base + cap), top);
      this.tBase[t] = top;
      top += cap;
    }
    this.pool = to;
    this.poolTop = top;
    this.freeBlock.fill(-1);
  }

  private growTorrents(t: number): void {
    let length = this.tLog.length * 2;
    while (length <= t) length *= 2;
    this.tBase = grownInt32(this.tBase, length);
    this.tLog = grownUint8(this.tLog, length);
    this.tCount = grownInt32(this.tCount, length);
    this.tSeeders = grownInt32(this.tSeeders, length);
  }

  private takeSlot(): number {
    const free = this.freeSlot;
    if (free >= 0) {
      this.freeSlot = this.rec[free * STRIDE + W_USER]!;
      return free;
    }
    if (this.slotTop === this.slotCap) {
      this.slotCap = Math.min(this.slotCap * 2, MAX_PEERS + 1);
      this.rec = grownInt32(this.rec, this.slotCap * STRIDE);
      this.net = grownInt32(this.net, this.slotCap * NET_STRIDE);
    }
    return this.slotTop++;
  }

  /** Frees the slot of table entry `e` (and its IPv6 address). */
  private releaseSlot(e: number): void {
    const slot = (e & SLOT_MASK) - 1;
    if ((e & V6_BIT) !== 0) this.releaseIPv6(this.net[slot * NET_STRIDE]!);
    this.rec[slot * STRIDE + W_USER] = this.freeSlot;
    this.freeSlot = slot;
  }

  private takeIPv6(): number {
    const free = this.ip6Free;
    if (free >= 0) {
      this.ip6Free = this.ip6Words[free * V6_WORDS]!;
      return free;
    }
    if (this.ip6Top * V6_BYTES === this.ip6.length) {
      this.ip6 = grownUint8(this.ip6, this.ip6.length * 2);
      this.ip6Words = new Int32Array(this.ip6.buffer);
    }
    return this.ip6Top++;
  }

  private releaseIPv6(index: number): void {
    this.ip6Words[index * V6_WORDS] = this.ip6Free;
    this.ip6Free = index;
  }
}
