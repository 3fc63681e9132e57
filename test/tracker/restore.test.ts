// The peers' changes the tracker hands over with each credit batch, and its restore from them: a
// tracker restored from the changes of every batch taken so far credits the next announce exactly
// as the tracker that took them would have (no database here; the bridge's side is tested over
// real processes in test/reliability/restart.test.ts).
import { describe, expect, test } from "bun:test";
import {
  PAIR_STATE,
  SWARM_FIELDS,
  SWARM_FLAG,
  SWARM_ROW,
  type SwarmChanges,
  type SwarmPeers,
  unpackDeltas,
  WAITING_FIELDS,
  WAITING_ROW,
} from "../../src/shared/channel.ts";
import { Tracker } from "../../src/tracker/tracker.ts";
import { announceQuery, bytes20 } from "../helpers/announce.ts";
import { testPolicy } from "../helpers/policy.ts";

const T0 = 1_800_000_000;
const HASH = bytes20(0x31);
const IP4 = new Uint8Array([10, 0, 0, 7]);
const IP6 = new Uint8Array([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9]);
const users = [
  { id: 1, passkey: "a".repeat(32), disabled: false },
  { id: 2, passkey: "b".repeat(32), disabled: false },
];
const torrents = [{ id: 5, infoHash: Buffer.from(HASH).toString("hex"), infoHashV2: null, snatches: 0 }];
const policy = testPolicy({ minAnnounceIntervalSeconds: 0, peerTimeoutSeconds: 100, graceSeconds: 1000 });

function tracker(): Tracker {
  const t = new Tracker(policy, () => 0.5);
  t.load(users, torrents);
  return t;
}

/** What the table would hold: every batch's changes applied in order, as the bridge does. */
class Table {
  readonly rows = new Map<string, { row: number[]; peerId: Uint8Array; address: Uint8Array }>();
  /** Byte conservation's waiting rows by torrent id, replaced whole per torrent as the bridge does. */
  readonly waiting = new Map<number, number[][]>();

  apply(changes: SwarmChanges | null): void {
    if (!changes) return;
    const { removed, removedIds, peers } = changes;
    if (changes.waiting) {
      for (const id of changes.waiting.torrents) this.waiting.set(id, []);
      const rows = changes.waiting.rows;
      for (let o = 0; o < rows.length; o += WAITING_FIELDS)
        this.waiting
          .get(rows[o + WAITING_ROW.torrentId]!)!
          .push(Array.from(rows.subarray(o, o + WAITING_FIELDS)));
    }
    for (let i = 0; i < removed.length / 2; i++)
      this.rows.delete(`${removed[i * 2]}/${removed[i * 2 + 1]}/${removedIds.subarray(i * 20, i * 20 + 20)}`);
    for (let i = 0; i < peers.rows.length / SWARM_FIELDS; i++) {
      const row = Array.from(peers.rows.subarray(i * SWARM_FIELDS, (i + 1) * SWARM_FIELDS));
      const peerId = peers.peerIds.slice(i * 20, i * 20 + 20);
      this.rows.set(`${row[SWARM_ROW.torrentId]}/${row[SWARM_ROW.userId]}/${peerId}`, {
        row,
        peerId,
        address: peers.addresses.slice(i * 16, i * 16 + 16),
      });
    }
  }

  packed(): SwarmPeers {
    const list = [...this.rows.values()];
    const rows = new Float64Array(list.length * SWARM_FIELDS);
    const peerIds = new Uint8Array(list.length * 20);
    const addresses = new Uint8Array(list.length * 16);
    list.forEach((r, i) => {
      rows.set(r.row, i * SWARM_FIELDS);
      peerIds.set(r.peerId, i * 20);
      addresses.set(r.address, i * 16);
    });
    return { rows, peerIds, addresses };
  }

  packedWaiting(): Float64Array {
    return Float64Array.from([...this.waiting.values()].flat(2));
  }
}

function announce(t: Tracker, user: number, p: Parameters<typeof announceQuery>[0], now: number, ip = IP4) {
  const reply = t.announce(users[user - 1]!.passkey, announceQuery(p), ip, now);
  expect(reply.outcome).toBe("ok");
}

/** Credit of a batch per member: [uploaded, downloaded]. */
function creditOf(batch: ReturnType<Tracker["takeDeltas"]>): Map<number, [number, number]> {
  const out = new Map<number, [number, number]>();
  for (const r of batch ? unpackDeltas(batch.deltas) : []) {
    const [up, down] = out.get(r[0]) ?? [0, 0];
    out.set(r[0], [up + r[2], down + r[3]]);
  }
  return out;
}

describe("restoring the swarm from the changes handed over with the credit", () => {
  test("the first announce after a restore is credited its full delta, on both sides", () => {
    const a = tracker();
    const table = new Table();
    announce(a, 1, { infoHash: HASH, peerId: bytes20(1), left: 1000, event: "started" }, T0);
    announce(a, 2, { infoHash: HASH, peerId: bytes20(2), left: 0, event: "started", port: 7000 }, T0, IP6);
    const first = a.takeDeltas()!;
    expect(first.swarm?.peers.rows.length).toBe(2 * SWARM_FIELDS);
    table.apply(first.swarm);
    announce(a, 1, { infoHash: HASH, peerId: bytes20(1), left: 600, downloaded: 400 }, T0 + 10);
    announce(a, 2, { infoHash: HASH, peerId: bytes20(2), left: 0, uploaded: 400, port: 7000 }, T0 + 10, IP6);
    const second = a.takeDeltas()!;
    expect(creditOf(second).get(2)).toEqual([400, 0]);
    table.apply(second.swarm);

    const b = tracker();
    expect(b.restore(table.packed())).toBe(2);
    expect(b.swarms.seeders(0)).toBe(1);
    expect(b.swarms.leechers(0)).toBe(1);
    // Counts of the restored swarm go out as after any change.
    expect(b.takeCounts()).toEqual([[5, 1, 1, 0]]);
    announce(b, 1, { infoHash: HASH, peerId: bytes20(1), left: 100, downloaded: 900 }, T0 + 40);
    announce(b, 2, { infoHash: HASH, peerId: bytes20(2), left: 0, uploaded: 900, port: 7000 }, T0 + 40, IP6);
    const after = creditOf(b.takeDeltas());
    expect(after.get(1)).toEqual([0, 500]);
    expect(after.get(2)).toEqual([500, 0]);
    // The IPv6 address and port came back with the peer.
    const slot = b.swarms.find(0, bytes20(2));
    expect(b.swarms.ipString(slot)).toBe("2001:db8::9");
    expect(b.swarms.port(slot)).toBe(7000);
  });

  test("peers that stop or are dropped leave the table; dropped ones' counters are kept and restored", () => {
    const a = tracker();
    const table = new Table();
    announce(a, 1, { infoHash: HASH, peerId: bytes20(1), left: 1000, event: "started" }, T0);
    announce(a, 2, { infoHash: HASH, peerId: bytes20(2), left: 0, event: "started" }, T0);
    announce(a, 2, { infoHash: HASH, peerId: bytes20(3), left: 0, event: "started" }, T0);
    table.apply(a.takeDeltas()!.swarm);
    announce(a, 2, { infoHash: HASH, peerId: bytes20(2), left: 0, uploaded: 50, event: "stopped" }, T0 + 50);
    announce(a, 1, { infoHash: HASH, peerId: bytes20(1), left: 1000, downloaded: 70 }, T0 + 150);
    // Peer 3 has been silent past the timeout: dropped, its counters kept.
    expect(a.reap(T0 + 150 - policy.peerTimeoutSeconds)).toBe(1);
    announce(a, 2, { infoHash: HASH, peerId: bytes20(3), left: 0, uploaded: 30, event: "stopped" }, T0 + 150);
    table.apply(a.takeDeltas()!.swarm);
    expect([...table.rows.values()].map((r) => r.row[SWARM_ROW.userId])).toEqual([1]);

    // Peer 2 is dropped this time, and comes back after a restore.
    const c = tracker();
    const table2 = new Table();
    announce(c, 2, { infoHash: HASH, peerId: bytes20(2), left: 0, uploaded: 10, event: "started" }, T0);
    announce(c, 1, { infoHash: HASH, peerId: bytes20(1), left: 1000, event: "started" }, T0 + 150);
    table2.apply(c.takeDeltas()!.swarm);
    c.reap(T0 + 150 - policy.peerTimeoutSeconds);
    const reaped = c.takeDeltas()!;
    table2.apply(reaped.swarm);
    const kept = [...table2.rows.values()].find((r) => r.row[SWARM_ROW.userId] === 2)!;
    expect(kept.row[SWARM_ROW.flags]! & SWARM_FLAG.kept).toBe(SWARM_FLAG.kept);
    const d = tracker();
    expect(d.restore(table2.packed())).toBe(2);
    expect(d.grace!.size).toBe(1);
    announce(d, 1, { infoHash: HASH, peerId: bytes20(1), left: 800, downloaded: 200 }, T0 + 160);
    announce(d, 2, { infoHash: HASH, peerId: bytes20(2), left: 0, uploaded: 210 }, T0 + 160);
    expect(creditOf(d.takeDeltas()).get(2)).toEqual([200, 0]);
  });

  test("peers of a member disabled meanwhile are not restored, leave the table and stop seeding", () => {
    const a = tracker();
    const table = new Table();
    announce(a, 1, { infoHash: HASH, peerId: bytes20(1), left: 1000, event: "started" }, T0);
    announce(a, 2, { infoHash: HASH, peerId: bytes20(2), left: 0, event: "started" }, T0);
    table.apply(a.takeDeltas()!.swarm);
    const b = new Tracker(policy, () => 0.5);
    b.load([users[0]!, { ...users[1]!, disabled: true }], torrents);
    expect(b.restore(table.packed())).toBe(1);
    expect(b.swarms.seeders(0)).toBe(0);
    const batch = b.takeDeltas()!;
    expect(Array.from(batch.swarm!.removed)).toEqual([5, 2]);
    const rows = unpackDeltas(batch.deltas);
    expect(rows.map((r) => [r[0], r[1], r[8]])).toEqual([[2, 5, PAIR_STATE.gone]]);
  });

  test("a batch with no credit still carries the peers' changes; none when nothing changed", () => {
    const a = tracker();
    announce(a, 1, { infoHash: HASH, peerId: bytes20(1), left: 1000, event: "started" }, T0);
    a.takeDeltas();
    expect(a.takeDeltas()).toBeNull();
    // A torrent removed: its peers go from the table too.
    a.removeTorrent(5);
    const batch = a.takeDeltas()!;
    expect(batch.deltas.length).toBe(0);
    expect(Array.from(batch.swarm!.removed)).toEqual([5, 1]);
  });

  test("upload claims waiting for their download under byte conservation survive a restore", () => {
    const conserving = testPolicy({
      minAnnounceIntervalSeconds: 0,
      peerTimeoutSeconds: 100,
      byteConservation: true,
      claimHoldSeconds: 5,
    });
    const make = () => {
      const t = new Tracker(conserving, () => 0.5);
      t.load(users, torrents);
      return t;
    };
    const a = make();
    const table = new Table();
    announce(a, 1, { infoHash: HASH, peerId: bytes20(1), left: 1000, event: "started" }, T0);
    announce(a, 2, { infoHash: HASH, peerId: bytes20(2), left: 0, event: "started" }, T0);
    table.apply(a.takeDeltas()!.swarm);
    // The seeder reports 400 bytes sent before its leecher reports them received: a waiting claim.
    announce(a, 2, { infoHash: HASH, peerId: bytes20(2), left: 0, uploaded: 400 }, T0 + 10);
    a.settle(T0 + 10);
    const waiting = a.takeDeltas()!;
    expect(creditOf(waiting).get(2)).toEqual([0, 0]);
    expect(Array.from(waiting.swarm!.waiting!.torrents)).toEqual([5]);
    table.apply(waiting.swarm);
    expect(table.waiting.get(5)).toEqual([[5, 2, 0, 400, 0, T0 + 10, 0]]);

    // Restarted: the leecher's download now backs the restored claim.
    const b = make();
    expect(b.restore(table.packed())).toBe(2);
    expect(b.restoreWaiting(table.packedWaiting())).toBe(1);
    expect(b.conservation.claimOf(0, 2)).toBe(400);
    announce(b, 1, { infoHash: HASH, peerId: bytes20(1), left: 600, downloaded: 400 }, T0 + 20);
    b.settle(T0 + 30);
    const paid = b.takeDeltas()!;
    expect(creditOf(paid).get(2)).toEqual([400, 0]);
    expect(creditOf(paid).get(1)).toEqual([0, 400]);
    // The claim is paid in full: no claim is left for the torrent, and the table says so (the
    // leecher's download period stays, with the allowance's backing not yet used).
    table.apply(paid.swarm);
    expect(table.waiting.get(5)!.filter((r) => r[WAITING_ROW.kind] === 0)).toEqual([]);
    expect(table.waiting.get(5)!.map((r) => [r[WAITING_ROW.userId], r[WAITING_ROW.fed]])).toEqual([[1, 400]]);

    // Without the waiting claims, the same restart would have credited the seeder nothing.
    const c = make();
    c.restore(table.packed());
    expect(c.conservation.claimOf(0, 2)).toBe(0);
  });
});
