// Random operations on the store checked against a plain Map-based model: many torrents, sparse
// and large torrent numbers, growth, shrinking and slot reuse after removal.
import { expect, test } from "bun:test";
import { SwarmStore } from "../../../src/tracker/swarm.ts";
import { hex, peerId, seeded, v4, v6 } from "./helpers.ts";

interface ModelPeer {
  user: number;
  seeder: boolean;
  uploaded: number;
  downloaded: number;
  /** IPv4 and IPv6 ports; 0 when the peer has no address of that family. */
  port4: number;
  port6: number;
  seen: number;
}

function check(store: SwarmStore, model: Map<string, ModelPeer>, torrents: number[], ids: number): void {
  expect(store.size).toBe(model.size);
  for (const t of torrents) {
    let seeders = 0;
    let leechers = 0;
    const slots = new Set<number>();
    for (let n = 0; n < ids; n++) {
      const peer = model.get(`${t}:${n}`);
      const slot = store.find(t, peerId(n));
      if (!peer) {
        expect(slot).toBe(-1);
        continue;
      }
      expect(slot).toBeGreaterThanOrEqual(0);
      slots.add(slot);
      peer.seeder ? seeders++ : leechers++;
      expect(store.userId(slot)).toBe(peer.user);
      expect(store.isSeeder(slot)).toBe(peer.seeder);
      expect(store.uploaded(slot)).toBe(peer.uploaded);
      expect(store.downloaded(slot)).toBe(peer.downloaded);
      expect(store.isIPv6(slot)).toBe(peer.port6 > 0);
      expect(store.isDualStack(slot)).toBe(peer.port4 > 0 && peer.port6 > 0);
      expect(store.port(slot)).toBe(peer.port6 || peer.port4);
      if (store.isDualStack(slot)) expect(store.dualIPv4Port(slot)).toBe(peer.port4);
      expect(store.lastSeen(slot)).toBe(peer.seen);
      expect(hex(store.peerIdOf(slot))).toBe(hex(peerId(n)));
    }
    expect([t, store.seeders(t), store.leechers(t)]).toEqual([t, seeders, leechers]);
    for (let user = 1; user <= 5; user++) {
      let owned = 0;
      for (let n = 0; n < ids; n++) if (model.get(`${t}:${n}`)?.user === user) owned++;
      expect([t, user, store.peersOfUser(t, user)]).toEqual([t, user, owned]);
    }
    const selected: number[] = [];
    store.selectSlots(t, -1, false, 1_000_000, Math.random, (slot) => selected.push(slot));
    expect(new Set(selected)).toEqual(slots);
  }
}

function runModel(ops: number, seed: number, hashSeed?: number): void {
  const rand = seeded(seed);
  const store = new SwarmStore({ initialPeers: 16, hashSeed });
  const model = new Map<string, ModelPeer>();
  // A few big torrents, many small ones, and some far-apart torrent numbers.
  const torrents = [0, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144, 1000, 65_537, 3_000_000];
  const ids = 600;
  let now = 1000;
  for (let op = 0; op < ops; op++) {
    const t = torrents[Math.floor(rand() ** 2 * torrents.length)]!;
    const n = Math.floor(rand() * (t < 3 ? ids : 40));
    const key = `${t}:${n}`;
    const r = rand();
    if (r < 0.3) {
      expect(store.remove(t, peerId(n))).toBe(model.delete(key));
    } else if (r < 0.999) {
      const seeder = rand() < 0.4;
      const isV6 = rand() < 0.1;
      // A peer is one member's: the store keys it by member and peer_id.
      const user = 1 + (n % 5);
      const uploaded = Math.floor(rand() * 2 ** 53);
      const downloaded = rand() < 0.5 ? Math.floor(rand() * 2 ** 53) : Math.floor(rand() * 2 ** 20);
      const port = 1 + Math.floor(rand() * 65_535);
      const before = model.get(key);
      const ip = isV6 ? v6(n) : v4(10, 0, n >>> 8, n & 255);
      // What the tracker reads before a put: the peer's slot and its last counters, if it is there.
      const found = store.find(t, peerId(n));
      expect(found >= 0).toBe(before !== undefined);
      if (before && found >= 0) {
        expect(store.uploaded(found)).toBe(before.uploaded);
        expect(store.downloaded(found)).toBe(before.downloaded);
        expect(store.isSeeder(found)).toBe(before.seeder);
      }
      const slot = store.put(t, peerId(n), user, ip, port, seeder, uploaded, downloaded, now);
      if (found >= 0) expect(slot).toBe(found);
      // Another family adds its address; the same family replaces it.
      const port4 = isV6 ? (before?.port4 ?? 0) : port;
      const port6 = isV6 ? port : (before?.port6 ?? 0);
      model.set(key, { user, seeder, uploaded, downloaded, port4, port6, seen: now });
    } else {
      const cutoff = now - 50;
      let stale = 0;
      for (const [k, peer] of model) {
        if (peer.seen < cutoff) {
          model.delete(k);
          stale++;
        }
      }
      expect(store.reap(cutoff)).toBe(stale);
    }
    if (op % 200 === 0) now++;
    if (op % 10_000 === 9_999) check(store, model, torrents, ids);
    if (op === ops >> 1) {
      store.removeTorrent(1);
      for (const k of [...model.keys()]) if (k.startsWith("1:")) model.delete(k);
    }
  }
  check(store, model, torrents, ids);
}

test("100k random operations agree with a Map model", () => {
  runModel(100_000, 2024);
});

test("other hash seeds give other probe layouts and the same answers", () => {
  runModel(30_000, 99, 1);
  runModel(30_000, 100, 0xdeadbeef);
});

test("freed slots and table blocks are reused under churn", () => {
  const rand = seeded(7);
  const store = new SwarmStore();
  const live: [number, number][] = [];
  const churn = (ops: number) => {
    for (let op = 0; op < ops; op++) {
      if (live.length >= 1000 || (live.length > 0 && rand() < 0.5)) {
        const [t, n] = live.splice(Math.floor(rand() * live.length), 1)[0]!;
        expect(store.remove(t, peerId(n))).toBe(true);
      } else {
        const t = Math.floor(rand() ** 3 * 50);
        const n = op;
        store.put(t, peerId(n), 1, v4(1, 1, 1, 1), 1, false, 0, 0, 1);
        live.push([t, n]);
      }
    }
  };
  churn(20_000);
  const settled = store.memoryBytes();
  churn(100_000);
  expect(store.size).toBe(live.length);
  expect(store.memoryBytes()).toBeLessThanOrEqual(settled * 1.25);
  expect(store.memoryBytes()).toBeLessThan(200_000);
});

test("draining big swarms shrinks their tables and leaves the rest intact", () => {
  const store = new SwarmStore();
  for (let n = 0; n < 20_000; n++) {
    store.put(n % 2, peerId(n), 1, v4(1, 2, 3, 4), 1, n % 5 === 0, 0, 0, 1);
  }
  for (let n = 0; n < 20_000; n += 2) if (n % 1000 !== 0) expect(store.remove(0, peerId(n))).toBe(true);
  expect(store.peerCount(0)).toBe(20);
  expect(store.seeders(0)).toBe(20);
  for (let n = 0; n < 20_000; n++) {
    expect(store.find(n % 2, peerId(n)) >= 0).toBe(n % 2 === 1 || n % 1000 === 0);
  }
  const slots: number[] = [];
  store.selectSlots(0, -1, false, 100, seeded(1), (slot) => slots.push(slot));
  expect(slots).toHaveLength(20);
});
