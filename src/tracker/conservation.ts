// Byte conservation per swarm: upload is credited only against download that other members'
// peers in the same swarm reported. Upload claims and reported download wait here, per (swarm,
// member), in fixed-size typed arrays (no allocation per announce); the rules (allowance, fair
// sharing, the size multiple) are accounting.ts's. See the README's accounting section.
import { backingOf, feedable, shareFairly } from "./accounting.ts";

/**
 * Fewest entries (claims and downloads together) the tracker allows for (it allows twice
 * `tracker.maxPeers` when that is more); beyond its limit a claim is refused and recorded, and a
 * download feeds nothing. The arrays grow as needed, 48 bytes an entry.
 */
export const MAX_ENTRIES = 1 << 21;

const NONE = -1;

/**
 * Waiting upload claims and reported download, one entry per (swarm, member) on each side, in two
 * linked lists per swarm. A claim entry holds what the member claimed and was not yet paid, and
 * when it last grew or was paid (it expires `expiry` seconds after that). A download entry holds
 * the backing its download brings (bytes × (1 + allowance)) not yet shared, since when the oldest
 * of it waits (it is shared `hold` seconds after that), the raw bytes reported this period and when
 * the period began.
 */
export class Conservation {
  /** Upload paid to claims (bytes, before factors), download fed, claims expired, download over the size multiple. */
  creditedUp = 0;
  reportedDown = 0;
  expiredUp = 0;
  overSizeDown = 0;

  private user = new Int32Array(1024);
  /** Each entry's swarm, and 1 for a download (0 for a claim): with `user`, its key in `index`. */
  private swarm = new Int32Array(1024);
  private kind = new Uint8Array(1024);
  /** (kind, swarm, member) → entry: open addressing, linear probing, NONE for empty; at most half full. */
  private index = new Int32Array(4096).fill(NONE);
  private next = new Int32Array(1024);
  private bytes = new Float64Array(1024);
  private fed = new Float64Array(1024);
  private at = new Float64Array(1024);
  private start = new Float64Array(1024);
  private free = NONE;
  private used = 0;
  private live = 0;
  private claims = new Int32Array(1024).fill(NONE);
  private downloads = new Int32Array(1024).fill(NONE);
  /** Swarms whose entries changed since the last {@link takeChanged} (saved with the credit batch). */
  private changed = new Set<number>();
  /** Scratch for sharing: the claims' entries, what they claim, what they are paid. */
  private scratchEntry = new Int32Array(64);
  private scratchClaim = new Float64Array(64);
  private scratchPaid = new Float64Array(64);

  constructor(private readonly capacity = MAX_ENTRIES) {}

  /** Entries held. */
  get size(): number {
    return this.live;
  }

  /** Whether swarm t holds a claim or a download. */
  holds(t: number): boolean {
    return t < this.claims.length && (this.claims[t] !== NONE || this.downloads[t] !== NONE);
  }

  /** Whether swarm t holds both a claim and a download: something to settle. */
  settles(t: number): boolean {
    return t < this.claims.length && this.claims[t] !== NONE && this.downloads[t] !== NONE;
  }

  /** Unpaid upload the member claims in swarm t. */
  claimOf(t: number, userId: number): number {
    const e = this.find(0, t, userId);
    return e === NONE ? 0 : this.bytes[e]!;
  }

  /** Adds an upload claim (bytes, before factors); false when there is no room (nothing kept). */
  claim(t: number, userId: number, bytes: number, now: number): boolean {
    this.ensureSwarm(t);
    let e = this.find(0, t, userId);
    if (e === NONE) {
      e = this.allocate(0, t, userId);
      if (e === NONE) return false;
      this.bytes[e] = 0;
      this.next[e] = this.claims[t]!;
      this.claims[t] = e;
    }
    this.bytes[e]! += bytes;
    this.at[e] = now;
    this.changed.add(t);
    return true;
  }

  /**
   * Feeds download the member reported in swarm t (bytes, before factors; `size` the torrent's).
   * Returns the bytes over the size multiple, which feed nothing, on the report that crosses it
   * (the caller records them); later reports of the same period feed nothing either and return 0,
   * so a member past the multiple is recorded once a period, not on every announce (the metric
   * counts them all).
   */
  download(t: number, userId: number, bytes: number, size: number, now: number, period: number): number {
    this.ensureSwarm(t);
    this.changed.add(t);
    let e = this.find(1, t, userId);
    if (e !== NONE && now - this.start[e]! >= period) {
      this.fed[e] = 0;
      this.start[e] = now;
    }
    if (e === NONE) {
      e = this.allocate(1, t, userId);
      if (e === NONE) return 0;
      this.bytes[e] = 0;
      this.fed[e] = 0;
      this.start[e] = now;
      this.next[e] = this.downloads[t]!;
      this.downloads[t] = e;
    }
    const alreadyOver = size > 0 && feedable(this.fed[e]!, 1, size) === 0;
    const feeds = feedable(this.fed[e]!, bytes, size);
    this.fed[e]! += bytes;
    if (feeds > 0) {
      if (this.bytes[e]! < 1) this.at[e] = now;
      this.bytes[e]! += backingOf(feeds);
      this.reportedDown += feeds;
    }
    this.overSizeDown += bytes - feeds;
    return alreadyOver ? 0 : bytes - feeds;
  }

  /**
   * Shares every download of swarm t that has waited `hold` seconds, or that every peer of the
   * swarm announced after (`heardAllSince`: the earliest last announce of its peers, +Infinity for
   * none; 0 when unknown), among the claims of the other members (max-min fair, see shareFairly);
   * `pay` is told each payment (member, bytes).
   */
  settle(
    t: number,
    now: number,
    hold: number,
    pay: (userId: number, bytes: number) => void,
    heardAllSince = 0,
  ): void {
    if (t >= this.claims.length || this.claims[t] === NONE) return;
    for (let d = this.downloads[t]!; d !== NONE; d = this.next[d]!) {
      if (this.bytes[d]! < 1 || (now - this.at[d]! < hold && heardAllSince < this.at[d]!)) continue;
      const n = this.gather(this.claims[t]!, this.user[d]!);
      if (n === 0) continue;
      const total = shareFairly(this.scratchClaim, n, this.bytes[d]!, this.scratchPaid);
      if (total === 0) continue;
      this.changed.add(t);
      this.bytes[d]! -= total;
      this.creditedUp += total;
      for (let i = 0; i < n; i++) {
        const paid = this.scratchPaid[i]!;
        if (paid === 0) continue;
        const c = this.scratchEntry[i]!;
        this.bytes[c]! -= paid;
        this.at[c] = now;
        pay(this.user[c]!, paid);
      }
      this.dropPaid(t);
      if (this.claims[t] === NONE) return;
    }
  }

  /**
   * Expires, in swarm t, claims unpaid for `expiry` seconds (`expired` is told each: member,
   * bytes) and download periods `expiry` seconds old (their unshared backing is dropped).
   */
  expire(t: number, now: number, expiry: number, expired: (userId: number, bytes: number) => void): void {
    if (t >= this.claims.length) return;
    let prev = NONE;
    for (let c = this.claims[t]!; c !== NONE; ) {
      const after = this.next[c]!;
      if (now - this.at[c]! >= expiry) {
        this.changed.add(t);
        this.expiredUp += this.bytes[c]!;
        expired(this.user[c]!, this.bytes[c]!);
        this.unlink(this.claims, t, prev, c);
      } else prev = c;
      c = after;
    }
    prev = NONE;
    for (let d = this.downloads[t]!; d !== NONE; ) {
      const after = this.next[d]!;
      if (now - this.start[d]! >= expiry) {
        this.changed.add(t);
        this.unlink(this.downloads, t, prev, d);
      } else prev = d;
      d = after;
    }
  }

  /** Swarm indexes that may hold entries: 0 to this (exclusive). */
  get span(): number {
    return this.claims.length;
  }

  /**
   * The swarms whose claims or downloads changed since the last call (each once), in no order;
   * the set is emptied.
   */
  takeChanged(): number[] {
    if (this.changed.size === 0) return [];
    const out = [...this.changed];
    this.changed.clear();
    return out;
  }

  /** Whether a swarm's claims or downloads changed since the last {@link takeChanged}. */
  get hasChanges(): boolean {
    return this.changed.size > 0;
  }

  /**
   * Visits every entry of swarm t: `kind` 0 for a claim, 1 for a download, then its member and
   * fields (see the class comment).
   */
  visit(
    t: number,
    entry: (kind: number, userId: number, bytes: number, fed: number, at: number, start: number) => void,
  ): void {
    if (t >= this.claims.length) return;
    for (let c = this.claims[t]!; c !== NONE; c = this.next[c]!)
      entry(0, this.user[c]!, this.bytes[c]!, 0, this.at[c]!, 0);
    for (let d = this.downloads[t]!; d !== NONE; d = this.next[d]!)
      entry(1, this.user[d]!, this.bytes[d]!, this.fed[d]!, this.at[d]!, this.start[d]!);
  }

  /**
   * Puts back one entry saved with a credit batch (at start, before any announce); false when
   * there is no room or the entry is there already. Not a change to save again.
   */
  restore(
    t: number,
    kind: number,
    userId: number,
    bytes: number,
    fed: number,
    at: number,
    start: number,
  ): boolean {
    if (kind !== 0 && kind !== 1) return false;
    this.ensureSwarm(t);
    if (this.find(kind, t, userId) !== NONE) return false;
    const e = this.allocate(kind, t, userId);
    if (e === NONE) return false;
    this.bytes[e] = bytes;
    this.fed[e] = kind === 1 ? fed : 0;
    this.at[e] = at;
    this.start[e] = kind === 1 ? start : 0;
    const heads = kind === 0 ? this.claims : this.downloads;
    this.next[e] = heads[t]!;
    heads[t] = e;
    return true;
  }

  /** Drops everything kept for swarm t (its torrent is gone). */
  removeTorrent(t: number): void {
    this.changed.delete(t);
    if (t >= this.claims.length) return;
    for (const heads of [this.claims, this.downloads]) {
      while (heads[t] !== NONE) this.unlink(heads, t, NONE, heads[t]!);
    }
  }

  /** Collects the claims of members other than `except` into the scratch arrays; their count. */
  private gather(head: number, except: number): number {
    let n = 0;
    for (let c = head; c !== NONE; c = this.next[c]!) {
      if (this.user[c] === except || this.bytes[c]! < 1) continue;
      if (n === this.scratchEntry.length) {
        const entry = new Int32Array(n * 2);
        entry.set(this.scratchEntry);
        this.scratchEntry = entry;
        const claim = new Float64Array(n * 2);
        claim.set(this.scratchClaim);
        this.scratchClaim = claim;
        this.scratchPaid = new Float64Array(n * 2);
      }
      this.scratchEntry[n] = c;
      this.scratchClaim[n] = Math.floor(this.bytes[c]!);
      n++;
    }
    return n;
  }

  /** Removes swarm t's claims that are paid in full. */
  private dropPaid(t: number): void {
    let prev = NONE;
    for (let c = this.claims[t]!; c !== NONE; ) {
      const after = this.next[c]!;
      if (this.bytes[c]! < 1) this.unlink(this.claims, t, prev, c);
      else prev = c;
      c = after;
    }
  }

  /** The entry of (kind, swarm, member), or NONE. */
  private find(kind: number, t: number, userId: number): number {
    const index = this.index;
    const mask = index.length - 1;
    for (let h = keyHash(kind, t, userId) & mask; index[h] !== NONE; h = (h + 1) & mask) {
      const e = index[h]!;
      if (this.user[e] === userId && this.swarm[e] === t && this.kind[e] === kind) return e;
    }
    return NONE;
  }

  /** Enters entry e under its key (not there yet). */
  private enter(e: number): void {
    const index = this.index;
    const mask = index.length - 1;
    let h = keyHash(this.kind[e]!, this.swarm[e]!, this.user[e]!) & mask;
    while (index[h] !== NONE) h = (h + 1) & mask;
    index[h] = e;
  }

  /** Takes entry e out of the index, shifting back the entries probed past it. */
  private leave(e: number): void {
    const index = this.index;
    const mask = index.length - 1;
    let i = keyHash(this.kind[e]!, this.swarm[e]!, this.user[e]!) & mask;
    while (index[i] !== e) i = (i + 1) & mask;
    for (let j = (i + 1) & mask; index[j] !== NONE; j = (j + 1) & mask) {
      const f = index[j]!;
      const home = keyHash(this.kind[f]!, this.swarm[f]!, this.user[f]!) & mask;
      // f may move to the hole at i unless its home lies cyclically in (i, j].
      if (i <= j ? home <= i || home > j : home <= i && home > j) {
        index[i] = f;
        i = j;
      }
    }
    index[i] = NONE;
  }

  private unlink(heads: Int32Array, t: number, prev: number, e: number): void {
    if (prev === NONE) heads[t] = this.next[e]!;
    else this.next[prev] = this.next[e]!;
    this.leave(e);
    this.next[e] = this.free;
    this.free = e;
    this.live--;
  }

  /** A new entry for (kind, swarm, member), in the index; NONE when there is no room. */
  private allocate(kind: number, t: number, userId: number): number {
    const e = this.slot();
    if (e === NONE) return NONE;
    this.kind[e] = kind;
    this.swarm[e] = t;
    this.user[e] = userId;
    if (this.live * 2 > this.index.length) {
      this.index = new Int32Array(this.index.length * 2).fill(NONE);
      for (let t2 = 0; t2 < this.claims.length; t2++) {
        for (let c = this.claims[t2]!; c !== NONE; c = this.next[c]!) this.enter(c);
        for (let d = this.downloads[t2]!; d !== NONE; d = this.next[d]!) this.enter(d);
      }
    }
    this.enter(e);
    return e;
  }

  private slot(): number {
    if (this.free !== NONE) {
      const e = this.free;
      this.free = this.next[e]!;
      this.live++;
      return e;
    }
    if (this.used >= this.capacity) return NONE;
    if (this.used === this.user.length) {
      const length = Math.min(this.user.length * 2, this.capacity);
      this.user = grow(this.user, new Int32Array(length));
      this.swarm = grow(this.swarm, new Int32Array(length));
      this.kind = grow(this.kind, new Uint8Array(length));
      this.next = grow(this.next, new Int32Array(length));
      this.bytes = grow(this.bytes, new Float64Array(length));
      this.fed = grow(this.fed, new Float64Array(length));
      this.at = grow(this.at, new Float64Array(length));
      this.start = grow(this.start, new Float64Array(length));
    }
    this.live++;
    return this.used++;
  }

  private ensureSwarm(t: number): void {
    if (t < this.claims.length) return;
    let length = this.claims.length * 2;
    while (length <= t) length *= 2;
    this.claims = grow(this.claims, new Int32Array(length).fill(NONE));
    this.downloads = grow(this.downloads, new Int32Array(length).fill(NONE));
  }
}

/** Hash of an entry's key: every bit mixes kind, swarm and member. */
function keyHash(kind: number, t: number, userId: number): number {
  let h = Math.imul(userId ^ Math.imul(t, 0x85ebca6b) ^ (kind << 30), 0x9e3779b1);
  h ^= h >>> 15;
  return Math.imul(h, 0x2c1b3c6d) ^ (h >>> 13);
}

function grow<T extends Int32Array | Float64Array | Uint8Array>(old: T, grown: T): T {
  grown.set(old);
  return grown;
}
