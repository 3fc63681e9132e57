// Which peers changed since the last credit batch, so that the bridge can save them with it (in
// the same transaction) and the tracker can restore them at the next start: a restart then loses
// no peer's baseline, and since the saved baseline is always the one the written credit was
// computed up to, nothing is credited twice. Per announce this costs a flag and, the first time
// in a batch, one entry in a list: the rows are built once per batch, per peer that changed.
import { SWARM_FIELDS, SWARM_FLAG, SWARM_ROW, type SwarmChanges } from "../shared/channel.ts";
import type { SwarmStore } from "./swarm.ts";

/** The slots of one store that changed since the last batch. */
class DirtySlots {
  /** 1 for a slot whose peer changed and is still there. */
  flags = new Uint8Array(1024);
  /** The swarm index of each flagged slot. */
  torrents = new Int32Array(1024);
  /** The flagged slots, in the order they were first flagged (a slot may be listed again). */
  list = new Int32Array(1024);
  count = 0;

  mark(t: number, slot: number): void {
    if (slot >= this.flags.length) this.grow(slot);
    this.torrents[slot] = t;
    if (this.flags[slot] === 1) return;
    this.flags[slot] = 1;
    if (this.count === this.list.length) {
      const list = new Int32Array(this.list.length * 2);
      list.set(this.list);
      this.list = list;
    }
    this.list[this.count++] = slot;
  }

  clear(slot: number): void {
    if (slot < this.flags.length) this.flags[slot] = 0;
  }

  private grow(slot: number): void {
    let length = this.flags.length * 2;
    while (length <= slot) length *= 2;
    const flags = new Uint8Array(length);
    flags.set(this.flags);
    this.flags = flags;
    const torrents = new Int32Array(length);
    torrents.set(this.torrents);
    this.torrents = torrents;
  }
}

/**
 * The changes to the swarm store and the grace store since the last {@link take}: peers added or
 * changed (read as they stand when taken) and peers that went (recorded when they go, as the slot
 * is then reused).
 */
export class SwarmJournal {
  private readonly swarm = new DirtySlots();
  private readonly kept = new DirtySlots();
  private removed: number[] = [];
  private removedIds = new Uint8Array(20 * 256);

  constructor(
    private readonly swarms: SwarmStore,
    private readonly grace: SwarmStore | null,
    /** The torrent id of a swarm index, or -1 when it has none any more. */
    private readonly torrentId: (t: number) => number,
    /** What the peer in a swarm slot last reported as left. */
    private readonly leftOf: (slot: number) => number,
  ) {}

  /** Whether anything changed since the last take. */
  get changed(): boolean {
    return this.swarm.count > 0 || this.kept.count > 0 || this.removed.length > 0;
  }

  /** The peer in `slot` of swarm t was added or changed. */
  peer(t: number, slot: number): void {
    this.swarm.mark(t, slot);
  }

  /** The kept counters in `slot` of the grace store (swarm t) were added. */
  keptPeer(t: number, slot: number): void {
    this.kept.mark(t, slot);
  }

  /** The peer in `slot` of swarm t (of the grace store when `kept`) is about to go. */
  gone(t: number, slot: number, kept: boolean): void {
    const store = kept ? this.grace! : this.swarms;
    (kept ? this.kept : this.swarm).clear(slot);
    const torrentId = this.torrentId(t);
    if (torrentId < 0) return;
    this.goneId(torrentId, store.userId(slot), store.peerIdOf(slot));
  }

  /** A peer that went, by ids. */
  goneId(torrentId: number, userId: number, peerId: Uint8Array): void {
    const n = this.removed.length / 2;
    if ((n + 1) * 20 > this.removedIds.length) {
      const ids = new Uint8Array(this.removedIds.length * 2);
      ids.set(this.removedIds);
      this.removedIds = ids;
    }
    this.removedIds.set(peerId, n * 20);
    this.removed.push(torrentId, userId);
  }

  /** Forgets the flags of slots that go without being recorded (a swarm dropped whole). */
  forget(slot: number, kept: boolean): void {
    (kept ? this.kept : this.swarm).clear(slot);
  }

  /** The changes since the last call, as they stand now; null when there are none. */
  take(): SwarmChanges | null {
    if (!this.changed) return null;
    const total = this.swarm.count + this.kept.count;
    const rows = new Float64Array(total * SWARM_FIELDS);
    const peerIds = new Uint8Array(total * 20);
    const addresses = new Uint8Array(total * 16);
    let n = 0;
    for (const kept of [false, true]) {
      const dirty = kept ? this.kept : this.swarm;
      const store = kept ? this.grace : this.swarms;
      // In slot order, so that the records are read in memory order rather than at random.
      dirty.list.subarray(0, dirty.count).sort();
      for (let i = 0; i < dirty.count; i++) {
        const slot = dirty.list[i]!;
        if (dirty.flags[slot] !== 1 || !store) continue;
        dirty.flags[slot] = 0;
        const torrentId = this.torrentId(dirty.torrents[slot]!);
        if (torrentId < 0) continue;
        const o = n * SWARM_FIELDS;
        rows[o + SWARM_ROW.torrentId] = torrentId;
        rows[o + SWARM_ROW.userId] = store.userId(slot);
        rows[o + SWARM_ROW.port] = store.port(slot);
        let flags = store.isSeeder(slot) ? SWARM_FLAG.seeder : 0;
        if (kept) flags |= SWARM_FLAG.kept;
        else if (store.addressOf(slot, addresses, n * 16) === 16) flags |= SWARM_FLAG.ipv6;
        rows[o + SWARM_ROW.flags] = flags;
        rows[o + SWARM_ROW.lastSeen] = store.lastSeen(slot);
        rows[o + SWARM_ROW.uploaded] = store.uploaded(slot);
        rows[o + SWARM_ROW.downloaded] = store.downloaded(slot);
        rows[o + SWARM_ROW.left] = kept ? 0 : this.leftOf(slot);
        store.copyPeerId(slot, peerIds, n * 20);
        n++;
      }
      dirty.count = 0;
    }
    const removed = Float64Array.from(this.removed);
    const removedIds = this.removedIds.slice(0, removed.length * 10);
    this.removed = [];
    // Usually every listed slot was still flagged: the arrays are then handed over as they are.
    return {
      peers: {
        rows: n === total ? rows : rows.slice(0, n * SWARM_FIELDS),
        peerIds: n === total ? peerIds : peerIds.slice(0, n * 20),
        addresses: n === total ? addresses : addresses.slice(0, n * 16),
      },
      removed,
      removedIds,
    };
  }
}
