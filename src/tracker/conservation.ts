// Byte conservation per swarm: upload is credited only against download that other members'
// peers in the same swarm reported. Upload claims and reported download wait here, per (swarm,
// member), in fixed-size typed arrays (no allocation per announce); the rules (allowance, fair
// sharing, the size multiple) are accounting.ts's. See the README's accounting section.
import { backingOf, feedable, shareFairly } from "./accounting.ts";

/** Most entries (claims and downloads together) kept; beyond it a claim is refused and recorded. */
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

  /** Unpaid upload the member claims in swarm t. */
  claimOf(t: number, userId: number): number {
    const e = t < this.claims.length ? this.find(this.claims[t]!, userId) : NONE;
    return e === NONE ? 0 : this.bytes[e]!;
  }

  /** Adds an upload claim (bytes, before factors); false when there is no room (nothing kept). */
  claim(t: number, userId: number, bytes: number, now: number): boolean {
    this.ensureSwarm(t);
    let e = this.find(this.claims[t]!, userId);
    if (e === NONE) {
      e = this.allocate();
      if (e === NONE) return false;
      this.user[e] = userId;
      this.bytes[e] = 0;
      this.next[e] = this.claims[t]!;
      this.claims[t] = e;
    }
    this.bytes[e]! += bytes;
    this.at[e] = now;
    return true;
  }

  /**
   * Feeds download the member reported in swarm t (bytes, before factors; `size` the torrent's).
   * Returns the bytes over the size multiple, which feed nothing (the caller records them).
   */
  download(t: number, userId: number, bytes: number, size: number, now: number, period: number): number {
    this.ensureSwarm(t);
    let e = this.find(this.downloads[t]!, userId);
    if (e !== NONE && now - this.start[e]! >= period) {
      this.fed[e] = 0;
      this.start[e] = now;
    }
    if (e === NONE) {
      e = this.allocate();
      if (e === NONE) return 0;
      this.user[e] = userId;
      this.bytes[e] = 0;
      this.fed[e] = 0;
      this.start[e] = now;
      this.next[e] = this.downloads[t]!;
      this.downloads[t] = e;
    }
    const feeds = feedable(this.fed[e]!, bytes, size);
    this.fed[e]! += bytes;
    if (feeds > 0) {
      if (this.bytes[e]! < 1) this.at[e] = now;
      this.bytes[e]! += backingOf(feeds);
      this.reportedDown += feeds;
    }
    this.overSizeDown += bytes - feeds;
    return bytes - feeds;
  }

  /**
   * Shares every download of swarm t that has waited `hold` seconds among the claims of the other
   * members (max-min fair, see shareFairly); `pay` is told each payment (member, bytes).
   */
  settle(t: number, now: number, hold: number, pay: (userId: number, bytes: number) => void): void {
    if (t >= this.claims.length || this.claims[t] === NONE) return;
    for (let d = this.downloads[t]!; d !== NONE; d = this.next[d]!) {
      if (this.bytes[d]! < 1 || now - this.at[d]! < hold) continue;
      const n = this.gather(this.claims[t]!, this.user[d]!);
      if (n === 0) continue;
      const total = shareFairly(this.scratchClaim, n, this.bytes[d]!, this.scratchPaid);
      if (total === 0) continue;
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
        this.expiredUp += this.bytes[c]!;
        expired(this.user[c]!, this.bytes[c]!);
        this.unlink(this.claims, t, prev, c);
      } else prev = c;
      c = after;
    }
    prev = NONE;
    for (let d = this.downloads[t]!; d !== NONE; ) {
      const after = this.next[d]!;
      if (now - this.start[d]! >= expiry) this.unlink(this.downloads, t, prev, d);
      else prev = d;
      d = after;
    }
  }

  /** Swarm indexes that may hold entries: 0 to this (exclusive). */
  get span(): number {
    return this.claims.length;
  }

  /** Drops everything kept for swarm t (its torrent is gone). */
  removeTorrent(t: number): void {
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

  private find(head: number, userId: number): number {
    for (let e = head; e !== NONE; e = this.next[e]!) if (this.user[e] === userId) return e;
    return NONE;
  }

  private unlink(heads: Int32Array, t: number, prev: number, e: number): void {
    if (prev === NONE) heads[t] = this.next[e]!;
    else this.next[prev] = this.next[e]!;
    this.next[e] = this.free;
    this.free = e;
    this.live--;
  }

  private allocate(): number {
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

function grow<T extends Int32Array | Float64Array>(old: T, grown: T): T {
  grown.set(old);
  return grown;
}
