// How many peers each member has in each swarm, so the per-member peer cap is a lookup rather than
// a walk of the swarm. Pairs live in an open-addressing table of typed arrays (no object per
// pair): two key words and a count per entry, removed by backward shift so lookups never meet
// tombstones. Only pairs with at least one peer take an entry.

const INITIAL_CAPACITY = 1024;

function mix(user: number, t: number, seed: number): number {
  let h = Math.imul(user ^ seed, 0x9e3779b1);
  h ^= Math.imul(t + 0x7f4a7c15, 0x85ebca6b);
  h ^= h >>> 15;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 13);
}

/** Counts keyed by (member id, swarm index), both int32. */
export class PairCounts {
  private keys: Int32Array;
  private counts: Int32Array;
  private mask: number;
  private used = 0;

  constructor(private readonly seed = 0x51ed27) {
    this.keys = new Int32Array(INITIAL_CAPACITY * 2);
    this.counts = new Int32Array(INITIAL_CAPACITY);
    this.mask = INITIAL_CAPACITY - 1;
  }

  /** Pairs with a count above zero. */
  get size(): number {
    return this.used;
  }

  /** The count of (user, t); 0 when absent. */
  get(user: number, t: number): number {
    const at = this.locate(user, t);
    return at < 0 ? 0 : this.counts[at]!;
  }

  /** Adds one to (user, t). */
  inc(user: number, t: number): void {
    const at = this.locate(user, t);
    if (at >= 0) {
      this.counts[at]!++;
      return;
    }
    if ((this.used + 1) * 4 > (this.mask + 1) * 3) this.grow();
    this.insert(user, t, 1);
    this.used++;
  }

  /** Takes one from (user, t); the entry goes when it reaches zero. Absent pairs are left alone. */
  dec(user: number, t: number): void {
    const at = this.locate(user, t);
    if (at < 0) return;
    if (--this.counts[at]! > 0) return;
    this.deleteAt(at);
    this.used--;
  }

  /** Bytes held by the table. */
  memoryBytes(): number {
    return this.keys.byteLength + this.counts.byteLength;
  }

  private locate(user: number, t: number): number {
    const keys = this.keys;
    const counts = this.counts;
    const mask = this.mask;
    let i = mix(user, t, this.seed) & mask;
    for (let n = 0; n <= mask; n++, i = (i + 1) & mask) {
      if (counts[i] === 0) return -1;
      if (keys[i * 2] === user && keys[i * 2 + 1] === t) return i;
    }
    return -1;
  }

  private insert(user: number, t: number, count: number): void {
    const mask = this.mask;
    let i = mix(user, t, this.seed) & mask;
    while (this.counts[i] !== 0) i = (i + 1) & mask;
    this.keys[i * 2] = user;
    this.keys[i * 2 + 1] = t;
    this.counts[i] = count;
  }

  private deleteAt(at: number): void {
    const keys = this.keys;
    const counts = this.counts;
    const mask = this.mask;
    let hole = at;
    let j = at;
    for (let n = 0; n < mask; n++) {
      j = (j + 1) & mask;
      if (counts[j] === 0) break;
      const home = mix(keys[j * 2]!, keys[j * 2 + 1]!, this.seed) & mask;
      if (((j - home) & mask) >= ((j - hole) & mask)) {
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
    const capacity = (this.mask + 1) * 2;
    this.keys = new Int32Array(capacity * 2);
    this.counts = new Int32Array(capacity);
    this.mask = capacity - 1;
    for (let i = 0; i < oldCounts.length; i++)
      if (oldCounts[i] !== 0) this.insert(oldKeys[i * 2]!, oldKeys[i * 2 + 1]!, oldCounts[i]!);
  }
}
