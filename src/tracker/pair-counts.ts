// How many peers each member has in each swarm, so the per-member peer cap is a lookup rather than
// a walk of the swarm. Pairs live in an open-addressing table of typed arrays (no object per
// pair): two key words and a one-byte count per entry (9 bytes), removed by backward shift so
// lookups never meet tombstones. Only pairs with at least one peer take an entry; the table grows
// by half when 80% full, so it holds about 14 bytes a pair. A count above 255 (far beyond any
// per-member cap) continues in a small map.

const INITIAL_CAPACITY = 1024;
const MAX_LOAD = 0.8;
const BYTE = 255;

function mix(user: number, t: number, seed: number): number {
  let h = Math.imul(user ^ seed, 0x9e3779b1);
  h ^= Math.imul(t + 0x7f4a7c15, 0x85ebca6b);
  h ^= h >>> 15;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 13)) >>> 0;
}

/** Counts keyed by (member id, swarm index), both int32. */
export class PairCounts {
  private keys: Int32Array;
  private counts: Uint8Array;
  private capacity: number;
  private used = 0;
  /** What counts beyond 255 have above it, by "user:t" (never reached under a per-member cap). */
  private readonly big = new Map<string, number>();

  constructor(private readonly seed = 0x51ed27) {
    this.capacity = INITIAL_CAPACITY;
    this.keys = new Int32Array(INITIAL_CAPACITY * 2);
    this.counts = new Uint8Array(INITIAL_CAPACITY);
  }

  /** Pairs with a count above zero. */
  get size(): number {
    return this.used;
  }

  /** The count of (user, t); 0 when absent. */
  get(user: number, t: number): number {
    const at = this.locate(user, t);
    if (at < 0) return 0;
    const n = this.counts[at]!;
    return n === BYTE ? BYTE + (this.big.get(bigKey(user, t)) ?? 0) : n;
  }

  /** Adds one to (user, t). */
  inc(user: number, t: number): void {
    const at = this.locate(user, t);
    if (at >= 0) {
      const n = this.counts[at]!;
      if (n < BYTE) this.counts[at] = n + 1;
      else this.big.set(bigKey(user, t), (this.big.get(bigKey(user, t)) ?? 0) + 1);
      return;
    }
    if (this.used + 1 > this.capacity * MAX_LOAD) this.grow();
    this.insert(user, t, 1);
    this.used++;
  }

  /** Takes one from (user, t); the entry goes when it reaches zero. Absent pairs are left alone. */
  dec(user: number, t: number): void {
    const at = this.locate(user, t);
    if (at < 0) return;
    const n = this.counts[at]!;
    if (n === BYTE) {
      const key = bigKey(user, t);
      const more = this.big.get(key) ?? 0;
      if (more > 0) {
        if (more === 1) this.big.delete(key);
        else this.big.set(key, more - 1);
        return;
      }
    }
    if (n > 1) {
      this.counts[at] = n - 1;
      return;
    }
    this.deleteAt(at);
    this.used--;
  }

  /** Bytes held by the table. */
  memoryBytes(): number {
    return this.keys.byteLength + this.counts.byteLength;
  }

  /** The home position of a pair: its hash scaled to the capacity (no power of two needed). */
  private home(user: number, t: number): number {
    return Math.floor((mix(user, t, this.seed) * this.capacity) / 4294967296);
  }

  private locate(user: number, t: number): number {
    const keys = this.keys;
    const counts = this.counts;
    const capacity = this.capacity;
    let i = this.home(user, t);
    for (let n = 0; n < capacity; n++) {
      if (counts[i] === 0) return -1;
      if (keys[i * 2] === user && keys[i * 2 + 1] === t) return i;
      if (++i === capacity) i = 0;
    }
    return -1;
  }

  private insert(user: number, t: number, count: number): void {
    const capacity = this.capacity;
    let i = this.home(user, t);
    while (this.counts[i] !== 0) if (++i === capacity) i = 0;
    this.keys[i * 2] = user;
    this.keys[i * 2 + 1] = t;
    this.counts[i] = count;
  }

  private deleteAt(at: number): void {
    const keys = this.keys;
    const counts = this.counts;
    const capacity = this.capacity;
    let hole = at;
    let j = at;
    for (let n = 1; n < capacity; n++) {
      if (++j === capacity) j = 0;
      if (counts[j] === 0) break;
      const home = this.home(keys[j * 2]!, keys[j * 2 + 1]!);
      // The entry may move back into the hole when the hole lies on its probe path.
      if ((j - home + capacity) % capacity >= (j - hole + capacity) % capacity) {
        keys[hole * 2] = keys[j * 2]!;
        keys[hole * 2 + 1] = keys[j * 2 + 1]!;
        counts[hole] = counts[j]!;
        hole = j;
      }
    }
    counts[hole] = 0;
  }

  private grow(): void {
    const oldKeys = this.keys;
    const oldCounts = this.counts;
    this.capacity = Math.ceil(this.capacity * 1.5);
    this.keys = new Int32Array(this.capacity * 2);
    this.counts = new Uint8Array(this.capacity);
    for (let i = 0; i < oldCounts.length; i++)
      if (oldCounts[i] !== 0) this.insert(oldKeys[i * 2]!, oldKeys[i * 2 + 1]!, oldCounts[i]!);
  }
}

function bigKey(user: number, t: number): string {
  return `${user}:${t}`;
}
