// The contract every swarm store must keep, in the spirit of chihaya's TestPeerStore.
import { describe, expect, test } from "bun:test";
import { SwarmStore } from "../../../src/tracker/swarm.ts";
import { hex, peerId, seeded, v4, v6 } from "./helpers.ts";

const NOW = 1_000_000;

function leecher(store: SwarmStore, t: number, n: number, user = 1, now = NOW): number {
  return store.put(t, peerId(n), user, v4(10, 0, n >>> 8, n & 255), 6881 + n, false, 0, 0, now);
}

function seeder(store: SwarmStore, t: number, n: number, user = 1, now = NOW): number {
  return store.put(t, peerId(n), user, v4(10, 1, n >>> 8, n & 255), 6881 + n, true, 0, 0, now);
}

/** Slots chosen by selectSlots, as an array. */
function chosen(store: SwarmStore, t: number, except: number, leechersOnly: boolean, max: number) {
  const slots: number[] = [];
  store.selectSlots(t, except, leechersOnly, max, seeded(except + 7), (slot) => slots.push(slot));
  return slots;
}

describe("put and counts", () => {
  test("a new peer is counted as seeder or leecher", () => {
    const store = new SwarmStore();
    expect(store.seeders(0)).toBe(0);
    expect(store.leechers(0)).toBe(0);
    expect(store.find(0, peerId(1))).toBe(-1);
    leecher(store, 0, 1);
    expect(store.find(0, peerId(1))).toBeGreaterThanOrEqual(0);
    seeder(store, 0, 2);
    seeder(store, 0, 3);
    expect(store.seeders(0)).toBe(2);
    expect(store.leechers(0)).toBe(1);
    expect(store.peerCount(0)).toBe(3);
    expect(store.size).toBe(3);
    expect(store.seeders(1)).toBe(0);
    expect(store.leechers(99_999)).toBe(0);
  });

  test("updating the same peer does not duplicate it; its previous counters are readable before the update", () => {
    const store = new SwarmStore();
    const slot = store.put(3, peerId(1), 7, v4(1, 2, 3, 4), 6881, false, 100, 200, NOW);
    expect(store.find(3, peerId(1))).toBe(slot);
    expect(store.uploaded(slot)).toBe(100);
    expect(store.downloaded(slot)).toBe(200);
    expect(store.isSeeder(slot)).toBe(false);
    const big = 2 ** 53 - 1;
    expect(store.put(3, peerId(1), 7, v4(1, 2, 3, 5), 6882, false, big, 300, NOW + 5)).toBe(slot);
    expect(store.size).toBe(1);
    expect(store.leechers(3)).toBe(1);
    expect(store.uploaded(slot)).toBe(big);
    expect(store.downloaded(slot)).toBe(300);
    expect(store.lastSeen(slot)).toBe(NOW + 5);
    expect(store.ipString(slot)).toBe("1.2.3.5");
    expect(store.port(slot)).toBe(6882);
    expect(store.userId(slot)).toBe(7);
    expect(hex(store.peerIdOf(slot))).toBe(hex(peerId(1)));
    expect(store.find(3, peerId(1))).toBe(slot);
    expect(store.find(4, peerId(1))).toBe(-1);
  });

  test("counters are exact up to 2^53 in every bit pattern", () => {
    const store = new SwarmStore();
    const values = [0, 1, 2 ** 32 - 1, 2 ** 32, 2 ** 32 + 1, 2 ** 42 + 12_345, 2 ** 52 + 3, 2 ** 53 - 1];
    for (const up of values) {
      for (const down of values) {
        const slot = store.put(0, peerId(1), 1, v4(1, 1, 1, 1), 65_535, true, up, down, 2 ** 32 - 1);
        expect([store.uploaded(slot), store.downloaded(slot)]).toEqual([up, down]);
        expect([store.port(slot), store.lastSeen(slot), store.isSeeder(slot)]).toEqual([
          65_535,
          2 ** 32 - 1,
          true,
        ]);
      }
    }
  });

  test("slots and peers survive the store growing", () => {
    const store = new SwarmStore({ initialPeers: 16 });
    const first = store.put(7, peerId(0), 42, v6(1), 1234, true, 2 ** 40, 5, NOW);
    for (let n = 1; n < 20_000; n++) leecher(store, n % 300 === 0 ? 7 : 8 + (n % 1000), n);
    expect(store.find(7, peerId(0))).toBe(first);
    expect(store.userId(first)).toBe(42);
    expect(store.uploaded(first)).toBe(2 ** 40);
    expect(store.ipString(first)).toBe("2001:db8::1");
    expect(store.port(first)).toBe(1234);
    expect(store.seeders(7)).toBe(1);
    expect(store.leechers(7)).toBe(66);
  });

  test("a leecher graduating to seeder moves between the counts, and back", () => {
    const store = new SwarmStore();
    const slot = leecher(store, 0, 1);
    leecher(store, 0, 2);
    expect([store.seeders(0), store.leechers(0)]).toEqual([0, 2]);
    expect(store.isSeeder(slot)).toBe(false);
    expect(seeder(store, 0, 1)).toBe(slot);
    expect(store.isSeeder(slot)).toBe(true);
    expect([store.seeders(0), store.leechers(0)]).toEqual([1, 1]);
    seeder(store, 0, 1);
    expect(store.isSeeder(slot)).toBe(true);
    expect([store.seeders(0), store.leechers(0)]).toEqual([1, 1]);
    leecher(store, 0, 1);
    expect(store.isSeeder(slot)).toBe(false);
    expect([store.seeders(0), store.leechers(0)]).toEqual([0, 2]);
  });
});

describe("remove", () => {
  test("removes a peer, fixes counts, and find no longer sees it", () => {
    const store = new SwarmStore();
    seeder(store, 5, 1);
    leecher(store, 5, 2);
    expect(store.remove(5, peerId(1))).toBe(true);
    expect(store.find(5, peerId(1))).toBe(-1);
    expect(store.find(5, peerId(2))).toBeGreaterThanOrEqual(0);
    expect([store.seeders(5), store.leechers(5), store.size]).toEqual([0, 1, 1]);
    expect(store.remove(5, peerId(2))).toBe(true);
    expect([store.seeders(5), store.leechers(5), store.size]).toEqual([0, 0, 0]);
  });

  test("one peer_id announced by two members is two peers; each is found and removed by its member", () => {
    const store = new SwarmStore();
    const hers = seeder(store, 5, 1, 7);
    const his = leecher(store, 5, 1, 8);
    expect(his).not.toBe(hers);
    expect([store.size, store.seeders(5), store.leechers(5)]).toEqual([2, 1, 1]);
    expect([store.find(5, peerId(1), 7), store.find(5, peerId(1), 8), store.find(5, peerId(1), 9)]).toEqual([
      hers,
      his,
      -1,
    ]);
    expect(store.remove(5, peerId(1), 9)).toBe(false);
    expect(store.remove(5, peerId(1), 8)).toBe(true);
    expect(store.find(5, peerId(1), 7)).toBe(hers);
    expect([store.size, store.userId(hers), store.isSeeder(hers)]).toEqual([1, 7, true]);
  });

  test("removing a missing peer returns false", () => {
    const store = new SwarmStore();
    expect(store.remove(0, peerId(1))).toBe(false);
    expect(store.remove(1_000_000, peerId(1))).toBe(false);
    leecher(store, 0, 1);
    expect(store.remove(0, peerId(2))).toBe(false);
    expect(store.remove(1, peerId(1))).toBe(false);
    expect(store.remove(0, peerId(1))).toBe(true);
    expect(store.remove(0, peerId(1))).toBe(false);
  });
});

describe("selection", () => {
  test("never returns the requester and respects max", () => {
    const store = new SwarmStore();
    const slots: number[] = [];
    for (let n = 0; n < 40; n++) slots.push(n % 2 ? seeder(store, 1, n) : leecher(store, 1, n));
    for (const me of slots) {
      const got = chosen(store, 1, me, false, 100);
      expect(got).toHaveLength(39);
      expect(got).not.toContain(me);
      expect(new Set(got).size).toBe(39);
      expect(chosen(store, 1, me, false, 10)).toHaveLength(10);
    }
    expect(chosen(store, 1, -1, false, 100)).toHaveLength(40);
    expect(chosen(store, 1, -1, false, 0)).toHaveLength(0);
    expect(chosen(store, 2, -1, false, 50)).toHaveLength(0);
  });

  test("seeders get only leechers, leechers get both", () => {
    const store = new SwarmStore();
    for (let n = 0; n < 30; n++) if (n < 10) seeder(store, 0, n);
    for (let n = 10; n < 30; n++) leecher(store, 0, n);
    const me = store.find(0, peerId(0));
    const forSeeder = chosen(store, 0, me, true, 50);
    expect(forSeeder).toHaveLength(20);
    for (const slot of forSeeder) expect(store.isSeeder(slot)).toBe(false);
    const forLeecher = chosen(store, 0, store.find(0, peerId(15)), false, 50);
    expect(forLeecher).toHaveLength(29);
    expect(forLeecher.filter((slot) => store.isSeeder(slot))).toHaveLength(10);
  });

  test("a seeder asking in a swarm of seeders gets nothing", () => {
    const store = new SwarmStore();
    for (let n = 0; n < 20; n++) seeder(store, 0, n);
    store.selectCompact(0, 0, true, 50, new Uint8Array(300), new Uint8Array(900), seeded(1));
    expect(store.selected4 + store.selected6).toBe(0);
  });

  test("the random offset covers different peers over many calls", () => {
    const store = new SwarmStore();
    for (let n = 0; n < 200; n++) leecher(store, 9, n);
    const rand = seeded(42);
    const seen = new Set<number>();
    const firsts = new Set<number>();
    for (let call = 0; call < 100; call++) {
      const got: number[] = [];
      store.selectSlots(9, -1, false, 10, rand, (slot) => got.push(slot));
      expect(got).toHaveLength(10);
      firsts.add(got[0]!);
      for (const slot of got) seen.add(slot);
    }
    expect(firsts.size).toBeGreaterThan(50);
    expect(seen.size).toBeGreaterThan(190);
  });

  test("IPv4 and IPv6 peers go to their own buffers in compact form", () => {
    const store = new SwarmStore();
    for (let n = 0; n < 12; n++) {
      if (n % 3 === 0) store.put(0, peerId(n), 1, v6(n), 50_000 + n, false, 0, 0, NOW);
      else store.put(0, peerId(n), 1, v4(192, 168, 0, n), 50_000 + n, false, 0, 0, NOW);
    }
    const out4 = new Uint8Array(6 * 50);
    const out6 = new Uint8Array(18 * 50);
    store.selectCompact(0, -1, false, 50, out4, out6, seeded(3));
    expect(store.selected4).toBe(8);
    expect(store.selected6).toBe(4);
    const got4 = new Set<string>();
    for (let i = 0; i < store.selected4; i++) {
      const r = out4.subarray(i * 6, i * 6 + 6);
      expect([r[0], r[1], r[2]]).toEqual([192, 168, 0]);
      expect(r[3]! % 3).not.toBe(0);
      expect((r[4]! << 8) | r[5]!).toBe(50_000 + r[3]!);
      got4.add(hex(r));
    }
    expect(got4.size).toBe(8);
    for (let i = 0; i < store.selected6; i++) {
      const r = out6.subarray(i * 18, i * 18 + 18);
      const n = (r[14]! << 8) | r[15]!;
      expect(hex(r.subarray(0, 16))).toBe(hex(v6(n)));
      expect(n % 3).toBe(0);
      expect((r[16]! << 8) | r[17]!).toBe(50_000 + n);
    }
    const slot6 = store.find(0, peerId(3));
    expect(store.isIPv6(slot6)).toBe(true);
    expect(store.ipString(slot6)).toBe("2001:db8::3");
    expect(store.isIPv6(store.find(0, peerId(1)))).toBe(false);
    store.selectCompact(0, slot6, false, 5, out4, out6, seeded(4));
    expect(store.selected4 + store.selected6).toBe(5);
  });

  test("a dual-stack peer keeps both addresses and is listed in both buffers, once", () => {
    const store = new SwarmStore();
    const slot = store.put(0, peerId(1), 1, v6(1), 1000, false, 0, 0, NOW);
    store.put(0, peerId(2), 1, v6(2), 1000, false, 0, 0, NOW);
    expect(store.put(0, peerId(1), 1, v4(8, 8, 8, 8), 1001, false, 5, 0, NOW)).toBe(slot);
    expect([store.size, store.leechers(0), store.peersOfUser(0, 1)]).toEqual([2, 2, 2]);
    expect(store.isIPv6(slot)).toBe(true);
    expect(store.isDualStack(slot)).toBe(true);
    expect([store.dualIPv4String(slot), store.dualIPv4Port(slot)]).toEqual(["8.8.8.8", 1001]);
    expect([store.ipString(slot), store.port(slot)]).toEqual(["2001:db8::1", 1000]);
    expect(store.uploaded(slot)).toBe(5);
    const out4 = new Uint8Array(60);
    const out6 = new Uint8Array(180);
    store.selectCompact(0, -1, false, 10, out4, out6, seeded(5));
    expect([store.selected4, store.selected6]).toEqual([1, 2]);
    expect([...out4.subarray(0, 6)]).toEqual([8, 8, 8, 8, 3, 233]);
    expect(new Set([hex(out6.subarray(0, 16)), hex(out6.subarray(18, 34))])).toEqual(
      new Set([hex(v6(1)), hex(v6(2))]),
    );
    // One peer towards max, even with two addresses.
    store.selectCompact(0, store.find(0, peerId(2)), false, 1, out4, out6, seeded(5));
    expect([store.selected4, store.selected6]).toEqual([1, 1]);
    // A later address of the same family replaces that family's address only.
    store.put(0, peerId(1), 1, v6(9), 1002, false, 5, 0, NOW);
    expect(store.ipString(slot)).toBe("2001:db8::9");
    expect(store.dualIPv4String(slot)).toBe("8.8.8.8");
    store.put(0, peerId(1), 1, v4(9, 9, 9, 9), 1003, false, 5, 0, NOW);
    expect([store.dualIPv4String(slot), store.dualIPv4Port(slot), store.port(slot)]).toEqual([
      "9.9.9.9",
      1003,
      1002,
    ]);
    expect(store.ipString(store.find(0, peerId(2)))).toBe("2001:db8::2");
    // Gone with its record: removing it frees both.
    expect(store.remove(0, peerId(1))).toBe(true);
    store.selectCompact(0, -1, false, 10, out4, out6, seeded(5));
    expect([store.selected4, store.selected6]).toEqual([0, 1]);
  });

  test("a peer first seen over IPv4 gains its IPv6 address; addAddress changes nothing else", () => {
    const store = new SwarmStore();
    const slot = store.put(3, peerId(1), 7, v4(10, 0, 0, 1), 6881, true, 100, 200, NOW);
    expect(store.hasFamily(slot, v6(1))).toBe(false);
    expect(store.hasFamily(slot, v4(1, 1, 1, 1))).toBe(true);
    store.addAddress(3, slot, v6(4), 6882, NOW + 1);
    expect(store.hasFamily(slot, v6(1))).toBe(true);
    expect(store.isDualStack(slot)).toBe(true);
    expect([store.ipString(slot), store.port(slot)]).toEqual(["2001:db8::4", 6882]);
    expect([store.dualIPv4String(slot), store.dualIPv4Port(slot)]).toEqual(["10.0.0.1", 6881]);
    expect([store.uploaded(slot), store.downloaded(slot), store.lastSeen(slot)]).toEqual([100, 200, NOW]);
    expect([store.isSeeder(slot), store.seeders(3)]).toEqual([true, 1]);
    const out4 = new Uint8Array(60);
    const out6 = new Uint8Array(180);
    // The table entry routes it as IPv6 now: a leecher asking gets both addresses.
    store.selectCompact(3, -1, false, 10, out4, out6, seeded(1));
    expect([store.selected4, store.selected6]).toEqual([1, 1]);
    expect(store.find(3, peerId(1))).toBe(slot);
  });

  test("an address family that went quiet is dropped at the next announce", () => {
    const store = new SwarmStore({ familyStaleSeconds: 100 });
    const slot = store.put(0, peerId(1), 1, v4(10, 0, 0, 1), 6881, false, 0, 0, NOW);
    store.put(0, peerId(1), 1, v6(1), 6881, false, 0, 0, NOW + 10);
    expect(store.isDualStack(slot)).toBe(true);
    // Only IPv6 announces for longer than 100 s: the IPv4 address is dropped.
    store.put(0, peerId(1), 1, v6(1), 6881, false, 0, 0, NOW + 200);
    expect(store.isDualStack(slot)).toBe(false);
    expect(store.ipString(slot)).toBe("2001:db8::1");
    // And the other way round: IPv4 back, IPv6 silent since NOW + 200.
    store.put(0, peerId(1), 1, v4(10, 0, 0, 2), 6881, false, 0, 0, NOW + 250);
    expect(store.isDualStack(slot)).toBe(true);
    store.put(0, peerId(1), 1, v4(10, 0, 0, 2), 6881, false, 0, 0, NOW + 400);
    expect([store.isIPv6(slot), store.ipString(slot)]).toEqual([false, "10.0.0.2"]);
    const out4 = new Uint8Array(60);
    const out6 = new Uint8Array(180);
    store.selectCompact(0, -1, false, 10, out4, out6, seeded(1));
    expect([store.selected4, store.selected6]).toEqual([1, 0]);
  });

  test("buffers too small for max are never overrun", () => {
    const store = new SwarmStore();
    for (let n = 0; n < 10; n++) leecher(store, 0, n);
    const out4 = new Uint8Array(6 * 3);
    store.selectCompact(0, -1, false, 50, out4, new Uint8Array(0), seeded(6));
    expect(store.selected4).toBe(3);
  });
});

describe("reap and removeTorrent", () => {
  test("reap removes only stale peers and fixes counts", () => {
    const store = new SwarmStore();
    for (let n = 0; n < 100; n++) {
      const t = n % 7;
      const now = n % 3 === 0 ? NOW - 100 : NOW;
      if (n % 2) seeder(store, t, n, 1, now);
      else leecher(store, t, n, 1, now);
    }
    const touched: number[] = [];
    expect(store.reap(NOW - 50, (t) => touched.push(t))).toBe(34);
    expect(touched.sort()).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(store.size).toBe(66);
    for (let n = 0; n < 100; n++) {
      const slot = store.find(n % 7, peerId(n));
      if (n % 3 === 0) expect(slot).toBe(-1);
      else expect(store.isSeeder(slot)).toBe(n % 2 === 1);
    }
    for (let t = 0; t < 7; t++) {
      let seeders = 0;
      let leechers = 0;
      for (let n = t; n < 100; n += 7) if (n % 3 !== 0) n % 2 ? seeders++ : leechers++;
      expect([store.seeders(t), store.leechers(t)]).toEqual([seeders, leechers]);
    }
    expect(store.reap(NOW - 50)).toBe(0);
    expect(store.reap(NOW + 1)).toBe(66);
    expect(store.size).toBe(0);
  });

  test("reap of a big swarm keeps every fresh peer findable", () => {
    const store = new SwarmStore();
    for (let n = 0; n < 5000; n++) leecher(store, 2, n, 1, n % 4 === 0 ? 10 : 20);
    expect(store.reap(15)).toBe(1250);
    for (let n = 0; n < 5000; n++) expect(store.find(2, peerId(n)) >= 0).toBe(n % 4 !== 0);
    expect(store.leechers(2)).toBe(3750);
  });

  test("removeTorrent drops the torrent's peers only", () => {
    const store = new SwarmStore();
    for (let n = 0; n < 50; n++) leecher(store, n % 2, n);
    store.removeTorrent(1);
    store.removeTorrent(1);
    store.removeTorrent(12345);
    expect(store.size).toBe(25);
    expect([store.seeders(1), store.leechers(1)]).toEqual([0, 0]);
    expect(store.find(1, peerId(1))).toBe(-1);
    expect(store.find(0, peerId(0))).toBeGreaterThanOrEqual(0);
    expect(chosen(store, 1, -1, false, 50)).toHaveLength(0);
    leecher(store, 1, 1);
    expect(store.leechers(1)).toBe(1);
  });
});

test("peersOfUser counts one member's peers in one torrent", () => {
  const store = new SwarmStore();
  for (let n = 0; n < 30; n++) leecher(store, n % 3, n, n % 4);
  expect(store.peersOfUser(0, 0)).toBe(3);
  expect(store.peersOfUser(0, 1)).toBe(2);
  expect(store.peersOfUser(2, 3)).toBe(2);
  expect(store.peersOfUser(9, 3)).toBe(0);
  store.remove(0, peerId(0));
  expect(store.peersOfUser(0, 0)).toBe(2);
});

test("input is validated", () => {
  const store = new SwarmStore();
  expect(() => store.put(0, new Uint8Array(19), 1, v4(1, 1, 1, 1), 1, false, 0, 0, NOW)).toThrow();
  expect(() => store.put(0, peerId(1), 1, new Uint8Array(5), 1, false, 0, 0, NOW)).toThrow();
  expect(() => store.put(-1, peerId(1), 1, v4(1, 1, 1, 1), 1, false, 0, 0, NOW)).toThrow();
  expect(() => store.put(2 ** 31, peerId(1), 1, v4(1, 1, 1, 1), 1, false, 0, 0, NOW)).toThrow();
  for (const bad of [-1, 0.5, 2 ** 53, Number.NaN, Number.POSITIVE_INFINITY]) {
    expect(() => store.put(0, peerId(1), 1, v4(1, 1, 1, 1), 1, false, bad, 0, NOW)).toThrow();
    expect(() => store.put(0, peerId(1), 1, v4(1, 1, 1, 1), 1, false, 0, bad, NOW)).toThrow();
  }
  expect(store.size).toBe(0);
});

test("ipString formats IPv6 per RFC 5952", () => {
  const store = new SwarmStore();
  const cases: [number[], string][] = [
    [[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1], "2001:db8::1:0:0:1"],
    [[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], "::1"],
    [[0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], "fe80::"],
    [[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 1, 2, 3, 4], "::ffff:1.2.3.4"],
    [[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1], "2001:db8:0:1:1:1:1:1"],
  ];
  cases.forEach(([bytes, text], n) => {
    const slot = store.put(0, peerId(n), 1, Uint8Array.from(bytes), 1, false, 0, 0, NOW);
    expect(store.ipString(slot)).toBe(text);
  });
});
