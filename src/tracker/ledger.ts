// The tracker's pending batches: credit rows by (member, torrent) pair, and suspicious transfers,
// each packed as src/shared/channel.ts lays them out, until the Worker takes them.
import {
  DELTA_FIELDS,
  DELTA_ROW,
  type StatDeltas,
  SUSPICIOUS_FIELDS,
  type SuspiciousBatch,
} from "../shared/channel.ts";
import { type Assessment, initCreditRow, isPairRow, writeSuspicious } from "./accounting.ts";

/** Most suspicious transfers kept between two batches; beyond it they are counted and dropped. */
export const MAX_SUSPICIOUS_PER_BATCH = 10_000;
const AGENT_MAX = 200;

/** Where a suspicious announce's User-Agent is read from: the request, read only when needed. */
export interface AgentSource {
  readonly headers: { get(name: string): string | null };
}

/** Pending credit: one packed row (DELTA_ROW layout) per (member, torrent) pair since the last batch. */
export class CreditLedger {
  /**
   * The packed rows; `count` of them are in use. `rowOf` may replace the array: read it after
   * the call, never before (`f(ledger.rows, ledger.rowOf(...))` would write to the old one).
   */
  rows = new Float64Array(DELTA_FIELDS * 1024);
  count = 0;
  /**
   * The rows' index, (member, torrent) → row: open addressing over the pair's hash, each entry a
   * row number that counts only while its epoch is the batch's own, so taking a batch empties the
   * index by counting on. Cheaper on every announce than a Map of pair keys.
   */
  private pairRows = new Int32Array(4096);
  private pairEpochs = new Uint32Array(4096);
  private epoch = 1;
  private seq = 0;

  /** Offset in `rows` of the pair's pending row, added (zeroed) if there is none yet. */
  rowOf(userId: number, torrentId: number): number {
    const index = this.pairRows;
    const epochs = this.pairEpochs;
    const mask = index.length - 1;
    let h = pairHash(userId, torrentId) & mask;
    for (; epochs[h] === this.epoch; h = (h + 1) & mask) {
      const o = index[h]! * DELTA_FIELDS;
      if (isPairRow(this.rows, o, userId, torrentId)) return o;
    }
    const row = this.count++;
    if (row * DELTA_FIELDS === this.rows.length) {
      const grown = new Float64Array(this.rows.length * 2);
      grown.set(this.rows);
      this.rows = grown;
    }
    const o = row * DELTA_FIELDS;
    initCreditRow(this.rows, o, userId, torrentId);
    epochs[h] = this.epoch;
    index[h] = row;
    // At most half full, so that probes stay short.
    if (this.count * 2 > index.length) this.growIndex();
    return o;
  }

  /**
   * The rows since the last call, with the next sequence number; null when there are none, unless
   * `always` (a batch with no rows still carries the peers' changes).
   */
  take(always = false): { seq: number; deltas: StatDeltas } | null {
    if (this.count === 0 && !always) return null;
    const deltas = this.rows.slice(0, this.count * DELTA_FIELDS);
    this.count = 0;
    if (this.epoch === 0xffffffff) {
      this.pairEpochs.fill(0);
      this.epoch = 0;
    }
    this.epoch++;
    return { seq: ++this.seq, deltas };
  }

  /** Doubles the index and enters every pending row again. */
  private growIndex(): void {
    const index = new Int32Array(this.pairRows.length * 2);
    const epochs = new Uint32Array(index.length);
    const mask = index.length - 1;
    for (let row = 0; row < this.count; row++) {
      const o = row * DELTA_FIELDS;
      let h = pairHash(this.rows[o + DELTA_ROW.userId]!, this.rows[o + DELTA_ROW.torrentId]!) & mask;
      while (epochs[h] === this.epoch) h = (h + 1) & mask;
      epochs[h] = this.epoch;
      index[h] = row;
    }
    this.pairRows = index;
    this.pairEpochs = epochs;
  }
}

/** Pending suspicious transfers (SUSPICIOUS_ROW layout), at most MAX_SUSPICIOUS_PER_BATCH a batch. */
export class SuspiciousLedger {
  private rows = new Float64Array(SUSPICIOUS_FIELDS * 64);
  private peerIds = new Uint8Array(20 * 64);
  private agents: string[] = [];
  private count = 0;
  private seq = 0;
  /** Transfers dropped because a batch was full: total. */
  dropped = 0;

  /** Adds an assessed announce (dropped, and counted, when the batch is full). */
  record(
    userId: number,
    torrentId: number,
    peerId: Uint8Array,
    source: AgentSource | null,
    a: Assessment,
    now: number,
  ): void {
    const row = this.count;
    if (row >= MAX_SUSPICIOUS_PER_BATCH) {
      this.dropped++;
      return;
    }
    if ((row + 1) * SUSPICIOUS_FIELDS > this.rows.length) {
      const rows = new Float64Array(this.rows.length * 2);
      rows.set(this.rows);
      this.rows = rows;
      const ids = new Uint8Array(this.peerIds.length * 2);
      ids.set(this.peerIds);
      this.peerIds = ids;
    }
    writeSuspicious(this.rows, row * SUSPICIOUS_FIELDS, userId, torrentId, a, now);
    this.peerIds.set(peerId, row * 20);
    const agent = source?.headers.get("user-agent") ?? "";
    this.agents.push(agent.length > AGENT_MAX ? agent.slice(0, AGENT_MAX) : agent);
    this.count = row + 1;
  }

  /** The transfers since the last call, with their own sequence number; null when there are none. */
  take(): { seq: number; batch: SuspiciousBatch } | null {
    const n = this.count;
    if (n === 0) return null;
    const batch: SuspiciousBatch = {
      rows: this.rows.slice(0, n * SUSPICIOUS_FIELDS),
      peerIds: this.peerIds.slice(0, n * 20),
      agents: this.agents,
    };
    this.count = 0;
    this.agents = [];
    return { seq: ++this.seq, batch };
  }
}

/** Hash of a (member, torrent) pair for the pending-credit index: every bit mixes both ids. */
function pairHash(userId: number, torrentId: number): number {
  let h = Math.imul(userId ^ Math.imul(torrentId, 0x85ebca6b), 0x9e3779b1);
  h ^= h >>> 15;
  return Math.imul(h, 0x2c1b3c6d) ^ (h >>> 13);
}
