import { describe, expect, test } from "bun:test";
import bencode from "bencode";
import { unpackDeltas, unpackSuspicious } from "../../src/shared/channel.ts";
import type { TrackerPolicy } from "../../src/tracker/tracker.ts";
import { Tracker } from "../../src/tracker/tracker.ts";
import { announceQuery, bytes20, creditOnly, escapeBytes } from "../helpers/announce.ts";
import { testPolicy } from "../helpers/policy.ts";

/**
 * The tracker's pending credit, unpacked into rows of the credit fields; rows that carry only
 * history (no credit, no snatch) are left out, and a batch of only those is null.
 */
function taken(tracker: Tracker) {
  const batch = tracker.takeDeltas();
  const deltas = batch ? creditOnly(unpackDeltas(batch.deltas)) : [];
  return batch && deltas.length ? { seq: batch.seq, deltas } : null;
}

/** The tracker's pending suspicious transfers, unpacked ([] when there are none). */
function suspicious(tracker: Tracker) {
  const batch = tracker.takeSuspicious();
  return batch ? unpackSuspicious(batch.batch) : [];
}

/** A realistic clock: the swarm-balance rule compares times, and 0 is before everything. */
const T0 = 1_800_000_000;

const POLICY = testPolicy();
const ALICE = "a".repeat(32);
const BOB = "b".repeat(32);
const CAROL = "c".repeat(32);
const HASH = bytes20(1);
const V2 = new Uint8Array(32).fill(9);
const OTHER = bytes20(2);
const IP_A = new Uint8Array([10, 0, 0, 1]);
const IP_B = new Uint8Array([10, 0, 0, 2]);
const IP_6 = new Uint8Array([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5]);

function hex(b: Uint8Array): string {
  return Buffer.from(b).toString("hex");
}

/** A tracker with three members (carol disabled) and two torrents, one of them hybrid. */
function setup(policy: Partial<TrackerPolicy> = {}) {
  const tracker = new Tracker({ ...POLICY, ...policy }, () => 0);
  tracker.load(
    [
      { id: 1, passkey: ALICE, disabled: false },
      { id: 2, passkey: BOB, disabled: false },
      { id: 3, passkey: CAROL, disabled: true },
    ],
    [
      { id: 10, infoHash: hex(HASH), infoHashV2: hex(V2), snatches: 4 },
      { id: 11, infoHash: hex(OTHER), infoHashV2: null, snatches: 0 },
    ],
  );
  return tracker;
}

type Decoded = Record<string, unknown>;
function decode(body: Uint8Array): Decoded {
  return bencode.decode(Buffer.from(body)) as Decoded;
}
function failure(body: Uint8Array): string | null {
  const reason = decode(body)["failure reason"];
  return reason ? Buffer.from(reason as Uint8Array).toString() : null;
}
const peerA = bytes20(0x41, 0x2d);
const peerB = bytes20(0x42, 0x2d);

describe("announce refusals", () => {
  test.each([
    // Nobody has this passkey.
    ["unknown passkey", "f".repeat(32), announceQuery({ infoHash: HASH, peerId: peerA }), "Unknown passkey"],
    // Carol's account is disabled.
    ["disabled account", CAROL, announceQuery({ infoHash: HASH, peerId: peerA }), "account is disabled"],
    // The hash is not a torrent of the site.
    ["unregistered torrent", ALICE, announceQuery({ infoHash: bytes20(7), peerId: peerA }), "not registered"],
    // A parameter the parser rejects, named in the reason.
    ["malformed", ALICE, "info_hash=abc&peer_id=x", "info_hash"],
  ])("%s", (_name, passkey, query, expected) => {
    const tracker = setup();
    const reply = tracker.announce(passkey, query, IP_A, 1000);
    expect(failure(reply.body)).toContain(expected);
    expect(tracker.swarms.size).toBe(0);
    expect(taken(tracker)).toBeNull();
  });

  test("a client not on the allow-list is refused; one on it is served", () => {
    const tracker = setup({ allowedClients: ["-TR", "-qB"] });
    const refused = tracker.announce(
      ALICE,
      announceQuery({ infoHash: HASH, peerId: bytes20(1, 0x58) }),
      IP_A,
      1,
    );
    expect(refused.outcome).toBe("client_not_allowed");
    const id = new TextEncoder().encode("-TR4060-abcdefghijkl");
    expect(tracker.announce(ALICE, announceQuery({ infoHash: HASH, peerId: id }), IP_A, 1).outcome).toBe(
      "ok",
    );
  });
});

describe("swarm replies", () => {
  test("a leecher gets the other peers, never itself; a seeder gets leechers only", () => {
    const tracker = setup();
    tracker.announce(ALICE, announceQuery({ infoHash: HASH, peerId: peerA, left: 0, port: 1111 }), IP_A, 100);
    const bob = decode(
      tracker.announce(BOB, announceQuery({ infoHash: HASH, peerId: peerB, port: 2222 }), IP_B, 100).body,
    );
    expect(bob.complete).toBe(1);
    expect(bob.incomplete).toBe(1);
    expect(bob.downloaded).toBe(4);
    expect(Buffer.from(bob.peers as Uint8Array)).toEqual(Buffer.from([10, 0, 0, 1, 0x04, 0x57]));
    expect(bob.interval).toBe(1800);
    expect(bob["min interval"]).toBe(900);
    // A second seeder sees the leecher bob but not the seeder alice.
    const carolId = bytes20(0x43, 0x2d);
    const seeder = decode(
      tracker.announce(BOB, announceQuery({ infoHash: HASH, peerId: carolId, left: 0 }), IP_6, 100).body,
    );
    expect(Buffer.from(seeder.peers as Uint8Array)).toEqual(Buffer.from([10, 0, 0, 2, 0x08, 0xae]));
    expect(seeder.peers6).toBeUndefined();
    // A leecher gets the IPv6 seeder in peers6 (BEP 7).
    const leecher = decode(
      tracker.announce(ALICE, announceQuery({ infoHash: HASH, peerId: bytes20(0x44, 0x2d) }), IP_A, 100).body,
    );
    expect((leecher.peers6 as Uint8Array).length).toBe(18);
    expect((leecher.peers as Uint8Array).length).toBe(12);
  });

  test("compact=0 lists peers as dictionaries of address and port, without peer ids", () => {
    const tracker = setup();
    tracker.announce(ALICE, announceQuery({ infoHash: HASH, peerId: peerA, port: 1111 }), IP_A, 100);
    const reply = decode(
      tracker.announce(BOB, announceQuery({ infoHash: HASH, peerId: peerB, compact: 0 }), IP_B, 100).body,
    );
    const peers = reply.peers as Decoded[];
    expect(peers).toHaveLength(1);
    expect(Buffer.from(peers[0]!.ip as Uint8Array).toString()).toBe("10.0.0.1");
    expect(peers[0]!.port).toBe(1111);
    // Another member's peer_id would let a squatter announce it (BEP 3 clients do without it).
    expect(Object.keys(peers[0]!).sort()).toEqual(["ip", "port"]);
  });

  test("the v1 hash and the truncated v2 hash of a hybrid torrent reach the same swarm", () => {
    const tracker = setup();
    tracker.announce(ALICE, announceQuery({ infoHash: HASH, peerId: peerA, left: 0 }), IP_A, 100);
    const viaV2 = decode(
      tracker.announce(BOB, announceQuery({ infoHash: V2.subarray(0, 20), peerId: peerB }), IP_B, 100).body,
    );
    expect(viaV2.complete).toBe(1);
    expect((viaV2.peers as Uint8Array).length).toBe(6);
  });

  test("numwant limits the peers returned", () => {
    const tracker = setup({ maxPeersPerUserPerTorrent: 50 });
    for (let i = 0; i < 20; i++)
      tracker.announce(ALICE, announceQuery({ infoHash: HASH, peerId: bytes20(i, 0x2d) }), IP_A, 100);
    const reply = decode(
      tracker.announce(BOB, announceQuery({ infoHash: HASH, peerId: peerB, numwant: 5 }), IP_B, 100).body,
    );
    expect((reply.peers as Uint8Array).length).toBe(30);
  });

  test("a member may have at most the configured number of peers in one swarm", () => {
    const tracker = setup({ maxPeersPerUserPerTorrent: 2 });
    for (const n of [1, 2]) {
      const reply = tracker.announce(
        ALICE,
        announceQuery({ infoHash: HASH, peerId: bytes20(n, 0x2d) }),
        IP_A,
        100,
      );
      expect(reply.outcome).toBe("ok");
    }
    const third = tracker.announce(
      ALICE,
      announceQuery({ infoHash: HASH, peerId: bytes20(3, 0x2d) }),
      IP_A,
      100,
    );
    expect(third.outcome).toBe("too_many_peers");
    expect(tracker.swarms.size).toBe(2);
    // Other torrents and other members are not affected.
    expect(
      tracker.announce(ALICE, announceQuery({ infoHash: OTHER, peerId: bytes20(3, 0x2d) }), IP_A, 100)
        .outcome,
    ).toBe("ok");
    expect(
      tracker.announce(BOB, announceQuery({ infoHash: HASH, peerId: bytes20(3, 0x2d) }), IP_A, 100).outcome,
    ).toBe("ok");
  });

  test("another member's peer id in the same swarm is another peer: it never touches the first", () => {
    const tracker = setup();
    tracker.announce(ALICE, announceQuery({ infoHash: HASH, peerId: peerA }), IP_A, 100);
    const reply = tracker.announce(
      BOB,
      announceQuery({ infoHash: HASH, peerId: peerA, event: "stopped" }),
      IP_B,
      100,
    );
    expect(reply.outcome).toBe("ok");
    expect(tracker.swarms.size).toBe(1);
    expect(tracker.announce(BOB, announceQuery({ infoHash: HASH, peerId: peerA }), IP_B, 100).outcome).toBe(
      "ok",
    );
    expect([tracker.swarms.size, tracker.swarms.leechers(0)]).toEqual([2, 2]);
    tracker.announce(BOB, announceQuery({ infoHash: HASH, peerId: peerA, event: "stopped" }), IP_B, 100);
    const alice = tracker.swarms.find(0, peerA, tracker.swarms.userId(tracker.swarms.find(0, peerA)));
    expect(tracker.swarms.size).toBe(1);
    expect(tracker.swarms.ipString(alice)).toBe("10.0.0.1");
  });
});

describe("accounting", () => {
  test("one pending row per (member, torrent), across thousands of pairs and from batch to batch", () => {
    const tracker = new Tracker(
      { ...POLICY, minAnnounceIntervalSeconds: 0, uploadNeedsLeecher: false },
      () => 0,
    );
    const members = 3000;
    const passkey = (m: number) => m.toString(16).padStart(32, "0");
    tracker.load(
      Array.from({ length: members }, (_, i) => ({ id: i + 1, passkey: passkey(i + 1), disabled: false })),
      [
        { id: 10, infoHash: hex(HASH), infoHashV2: null, snatches: 0 },
        { id: 11, infoHash: hex(OTHER), infoHashV2: null, snatches: 0 },
      ],
    );
    const peer = (m: number, k: number) => {
      const id = new Uint8Array(20);
      new DataView(id.buffer).setUint32(0, m);
      id[4] = k;
      return id;
    };
    const round = (now: number, uploaded: number) => {
      for (let m = 1; m <= members; m++)
        for (const [hash, k] of [
          [HASH, 0],
          [HASH, 1],
          [OTHER, 2],
        ] as const)
          tracker.announce(
            passkey(m),
            announceQuery({ infoHash: hash, peerId: peer(m, k), uploaded: uploaded * m, left: 1 }),
            IP_A,
            now,
          );
    };
    round(T0, 0);
    tracker.takeDeltas();
    for (let batch = 1; batch <= 2; batch++) {
      round(T0 + batch, batch);
      const rows = unpackDeltas(tracker.takeDeltas()!.deltas);
      // Two peers of a member in torrent 10 share its row: 2 rows a member, never more.
      expect(rows.length).toBe(members * 2);
      const byPair = new Map(rows.map((r) => [`${r[0]}:${r[1]}`, r[2]]));
      expect(byPair.size).toBe(members * 2);
      for (const m of [1, 1234, members]) {
        expect(byPair.get(`${m}:10`)).toBe(2 * m);
        expect(byPair.get(`${m}:11`)).toBe(m);
      }
    }
  });

  test("no credit on a first announce; the difference on the next one", () => {
    const tracker = setup();
    tracker.announce(
      ALICE,
      announceQuery({ infoHash: HASH, peerId: peerA, uploaded: 500, downloaded: 700 }),
      IP_A,
      0,
    );
    expect(taken(tracker)).toBeNull();
    tracker.announce(
      ALICE,
      announceQuery({ infoHash: HASH, peerId: peerA, uploaded: 1500, downloaded: 900 }),
      IP_A,
      1000,
    );
    // Batch 1 held the first announce's presence (history), no credit.
    expect(taken(tracker)).toEqual({ seq: 2, deltas: [[1, 10, 1000, 200, 0]] });
  });

  test("re-announcing before min interval changes nothing; the credit comes with the next announce", () => {
    const tracker = setup();
    tracker.announce(ALICE, announceQuery({ infoHash: HASH, peerId: peerA }), IP_A, 0);
    const early = tracker.announce(
      ALICE,
      announceQuery({ infoHash: HASH, peerId: peerA, uploaded: 100 }),
      IP_A,
      899,
    );
    expect(early.outcome).toBe("throttled");
    expect(decode(early.body).interval).toBe(1800);
    expect(taken(tracker)).toBeNull();
    tracker.announce(ALICE, announceQuery({ infoHash: HASH, peerId: peerA, uploaded: 300 }), IP_A, 900);
    expect(taken(tracker)?.deltas).toEqual([[1, 10, 300, 0, 0]]);
  });

  test("a counter going backwards starts a new session: no credit at all, new baseline, a record", () => {
    const tracker = setup();
    tracker.announce(BOB, announceQuery({ infoHash: HASH, peerId: peerB }), IP_B, T0);
    tracker.announce(
      ALICE,
      announceQuery({ infoHash: HASH, peerId: peerA, uploaded: 5000, downloaded: 5000 }),
      IP_A,
      T0,
    );
    tracker.announce(
      ALICE,
      announceQuery({ infoHash: HASH, peerId: peerA, uploaded: 10, downloaded: 6000 }),
      IP_A,
      T0 + 1000,
    );
    expect(taken(tracker)).toBeNull();
    expect(suspicious(tracker)).toEqual([
      expect.objectContaining({
        userId: 1,
        torrentId: 10,
        claimedUp: -4990,
        claimedDown: 1000,
        creditedUp: 0,
        creditedDown: 0,
        seconds: 1000,
        reasons: ["backwards"],
      }),
    ]);
    tracker.announce(
      ALICE,
      announceQuery({ infoHash: HASH, peerId: peerA, uploaded: 110, downloaded: 6000 }),
      IP_A,
      T0 + 2000,
    );
    expect(taken(tracker)?.deltas).toEqual([[1, 10, 100, 0, 0]]);
    // A new session announced as such (`started`) is not worth a record.
    tracker.announce(
      ALICE,
      announceQuery({ infoHash: HASH, peerId: peerA, event: "started" }),
      IP_A,
      T0 + 3000,
    );
    expect(tracker.takeSuspicious()).toBeNull();
  });

  test("with resetOnBackwardsCounter off, only the counter that went back is ignored", () => {
    const tracker = setup({ resetOnBackwardsCounter: false });
    tracker.announce(BOB, announceQuery({ infoHash: HASH, peerId: peerB }), IP_B, T0);
    tracker.announce(
      ALICE,
      announceQuery({ infoHash: HASH, peerId: peerA, uploaded: 5000, downloaded: 5000 }),
      IP_A,
      T0,
    );
    tracker.announce(
      ALICE,
      announceQuery({ infoHash: HASH, peerId: peerA, uploaded: 10, downloaded: 6000 }),
      IP_A,
      T0 + 1000,
    );
    expect(taken(tracker)?.deltas).toEqual([[1, 10, 0, 1000, 0]]);
    expect(suspicious(tracker).map((r) => r.reasons)).toEqual([["backwards"]]);
  });

  test("stopped credits the last difference and leaves the swarm", () => {
    const tracker = setup();
    tracker.announce(ALICE, announceQuery({ infoHash: HASH, peerId: peerA }), IP_A, 0);
    const stopped = tracker.announce(
      ALICE,
      announceQuery({ infoHash: HASH, peerId: peerA, uploaded: 42, event: "stopped" }),
      IP_A,
      10,
    );
    expect(stopped.outcome).toBe("ok");
    expect(decode(stopped.body).incomplete).toBe(0);
    expect(tracker.swarms.size).toBe(0);
    expect(taken(tracker)?.deltas).toEqual([[1, 10, 42, 0, 0]]);
    expect(tracker.takeCounts()).toEqual([[10, 0, 0, 4]]);
  });

  test("completed is one snatch per member and torrent and moves the peer to the seeders", () => {
    const tracker = setup();
    tracker.announce(ALICE, announceQuery({ infoHash: HASH, peerId: peerA, left: 100 }), IP_A, 0);
    tracker.takeCounts();
    const done = decode(
      tracker.announce(
        ALICE,
        announceQuery({ infoHash: HASH, peerId: peerA, left: 0, downloaded: 100, event: "completed" }),
        IP_A,
        5,
      ).body,
    );
    expect(done.complete).toBe(1);
    expect(done.incomplete).toBe(0);
    expect(done.downloaded).toBe(5);
    expect(taken(tracker)?.deltas).toEqual([[1, 10, 0, 100, 1]]);
    expect(tracker.takeCounts()).toEqual([[10, 1, 0, 5]]);
    // Completing again (another client of the same member) is not another snatch.
    tracker.announce(
      ALICE,
      announceQuery({ infoHash: HASH, peerId: peerB, left: 0, event: "completed" }),
      IP_A,
      6,
    );
    expect(taken(tracker)).toBeNull();
    expect(tracker.takeCounts()).toEqual([[10, 2, 0, 5]]);
  });

  test("credit for one member and torrent is summed into one row per batch; sequence numbers increase", () => {
    const tracker = setup({ minAnnounceIntervalSeconds: 0 });
    tracker.announce(BOB, announceQuery({ infoHash: HASH, peerId: peerB }), IP_B, 0);
    tracker.announce(ALICE, announceQuery({ infoHash: HASH, peerId: peerA }), IP_A, 0);
    for (const up of [10, 30, 60])
      tracker.announce(ALICE, announceQuery({ infoHash: HASH, peerId: peerA, uploaded: up }), IP_A, up);
    expect(taken(tracker)).toEqual({ seq: 1, deltas: [[1, 10, 60, 0, 0]] });
    tracker.announce(ALICE, announceQuery({ infoHash: HASH, peerId: peerA, uploaded: 70 }), IP_A, 100);
    expect(taken(tracker)?.seq).toBe(2);
  });

  test("thousands of members' credit in one batch: one packed row each, nothing lost or mixed up", () => {
    const members = 3000;
    const tracker = new Tracker({ ...POLICY, minAnnounceIntervalSeconds: 0 }, () => 0);
    const passkey = (i: number) => i.toString(16).padStart(32, "0");
    tracker.load(
      Array.from({ length: members }, (_, i) => ({ id: i + 1, passkey: passkey(i + 1), disabled: false })),
      [{ id: 10, infoHash: hex(HASH), infoHashV2: null, snatches: 0 }],
    );
    for (let round = 0; round < 3; round++)
      for (let i = 1; i <= members; i++) {
        const peerId = bytes20(i & 0xff, (i >> 8) + 1);
        const query = announceQuery({ infoHash: HASH, peerId, uploaded: round * i, downloaded: round * 7 });
        tracker.announce(passkey(i), query, IP_A, round);
      }
    const batch = taken(tracker)!;
    expect(batch.deltas).toHaveLength(members);
    batch.deltas.sort((a, b) => a[0] - b[0]);
    for (const [k, row] of batch.deltas.entries()) expect(row).toEqual([k + 1, 10, 2 * (k + 1), 14, 0]);
    expect(taken(tracker)).toBeNull();
  });
});

describe("state changes from the web side", () => {
  test("a new torrent that reuses a deleted one's swarm slot starts with no snatches recorded", () => {
    const tracker = setup();
    tracker.announce(
      ALICE,
      announceQuery({ infoHash: OTHER, peerId: peerA, left: 0, event: "completed" }),
      IP_A,
      0,
    );
    expect(taken(tracker)?.deltas).toEqual([[1, 11, 0, 0, 1]]);
    tracker.removeTorrent(11);
    const third = bytes20(3);
    tracker.upsertTorrent({ id: 12, infoHash: hex(third), infoHashV2: null, snatches: 0 });
    tracker.announce(
      ALICE,
      announceQuery({ infoHash: third, peerId: peerA, left: 0, event: "completed" }),
      IP_A,
      1,
    );
    expect(taken(tracker)?.deltas).toEqual([[1, 12, 0, 0, 1]]);
  });

  test("a disabled member, a rotated passkey and a removed torrent are refused at once", () => {
    const tracker = setup();
    tracker.announce(ALICE, announceQuery({ infoHash: HASH, peerId: peerA }), IP_A, 0);
    tracker.upsertUser({ id: 2, passkey: BOB, disabled: true });
    expect(tracker.announce(BOB, announceQuery({ infoHash: HASH, peerId: peerB }), IP_B, 1).outcome).toBe(
      "disabled_account",
    );
    const rotated = "d".repeat(32);
    tracker.upsertUser({ id: 1, passkey: rotated, disabled: false });
    expect(tracker.announce(ALICE, announceQuery({ infoHash: OTHER, peerId: peerA }), IP_A, 1).outcome).toBe(
      "unknown_passkey",
    );
    expect(
      tracker.announce(rotated, announceQuery({ infoHash: OTHER, peerId: peerA }), IP_A, 1).outcome,
    ).toBe("ok");
    tracker.removeTorrent(10);
    expect(tracker.announce(rotated, announceQuery({ infoHash: HASH, peerId: peerA }), IP_A, 1).outcome).toBe(
      "unregistered_torrent",
    );
    expect(tracker.swarms.seeders(0) + tracker.swarms.leechers(0)).toBe(0);
  });

  test("stale peers are reaped and the counts follow", () => {
    const tracker = setup();
    tracker.announce(ALICE, announceQuery({ infoHash: HASH, peerId: peerA }), IP_A, 100);
    tracker.announce(BOB, announceQuery({ infoHash: HASH, peerId: peerB, left: 0 }), IP_B, 3000);
    tracker.takeCounts();
    expect(tracker.reap(2000)).toBe(1);
    expect(tracker.takeCounts()).toEqual([[10, 1, 0, 4]]);
  });
});

describe("memory limits", () => {
  test("beyond maxPeers new peers are told the tracker is full; known peers are still served", () => {
    const limits: string[] = [];
    const tracker = new Tracker(
      { ...POLICY, maxPeers: 2 },
      () => 0,
      (what) => limits.push(what),
    );
    tracker.load(
      [{ id: 1, passkey: ALICE, disabled: false }],
      [{ id: 10, infoHash: hex(HASH), infoHashV2: null, snatches: 0 }],
    );
    for (const n of [1, 2])
      tracker.announce(ALICE, announceQuery({ infoHash: HASH, peerId: bytes20(n, 0x2d) }), IP_A, 0);
    const third = tracker.announce(
      ALICE,
      announceQuery({ infoHash: HASH, peerId: bytes20(3, 0x2d) }),
      IP_A,
      0,
    );
    expect(failure(third.body)).toContain("at capacity");
    expect(limits).toEqual(["peers"]);
    expect(tracker.swarms.size).toBe(2);
    const known = tracker.announce(
      ALICE,
      announceQuery({ infoHash: HASH, peerId: bytes20(1, 0x2d) }),
      IP_A,
      5000,
    );
    expect(known.outcome).toBe("ok");
  });

  test("beyond maxTorrents further torrents are left out and reported", () => {
    const limits: string[] = [];
    const tracker = new Tracker(
      { ...POLICY, maxTorrents: 1 },
      () => 0,
      (what) => limits.push(what),
    );
    tracker.load(
      [],
      [
        { id: 10, infoHash: hex(HASH), infoHashV2: null, snatches: 0 },
        { id: 11, infoHash: hex(OTHER), infoHashV2: null, snatches: 0 },
      ],
    );
    expect(tracker.state.torrentCount).toBe(1);
    tracker.upsertTorrent({ id: 12, infoHash: hex(bytes20(9)), infoHashV2: null, snatches: 0 });
    expect(tracker.state.torrentCount).toBe(1);
    expect(limits).toEqual(["torrents", "torrents"]);
  });
});

describe("scrape", () => {
  test("counts for each registered hash asked for; unknown hashes are left out", () => {
    const tracker = setup();
    tracker.announce(ALICE, announceQuery({ infoHash: HASH, peerId: peerA, left: 0 }), IP_A, 0);
    tracker.announce(BOB, announceQuery({ infoHash: HASH, peerId: peerB }), IP_B, 0);
    const query = [HASH, OTHER, bytes20(77)].map((h) => `info_hash=${escapeBytes(h)}`);
    const reply = decode(tracker.scrape(ALICE, query.join("&")).body);
    const files = reply.files as Record<string, Decoded>;
    expect(Object.keys(files).sort()).toEqual([hex(HASH), hex(OTHER)].sort());
    expect(files[hex(HASH)]).toEqual({ complete: 1, incomplete: 1, downloaded: 4 });
    expect(files[hex(OTHER)]).toEqual({ complete: 0, incomplete: 0, downloaded: 0 });
  });

  test("scrape refuses unknown and disabled passkeys and an empty request", () => {
    const tracker = setup();
    expect(tracker.scrape("e".repeat(32), "").outcome).toBe("unknown_passkey");
    expect(tracker.scrape(CAROL, "").outcome).toBe("disabled_account");
    expect(tracker.scrape(ALICE, "").outcome).toBe("scrape_needs_hash");
  });
});
