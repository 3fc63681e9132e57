// The accounting rules of the tracker, on the Tracker itself with a fixed clock: plausibility
// (rate cap, swarm balance, counters going back) and its records, the min interval whatever the
// event, completions (left reaching 0, once; none again after a restart), the grace store for
// dropped peers, and dual-stack clients.
import { describe, expect, test } from "bun:test";
import bencode from "bencode";
import { unpackDeltas, unpackSuspicious } from "../../src/shared/channel.ts";
import { Tracker, type TrackerPolicy } from "../../src/tracker/tracker.ts";
import { announceQuery, bytes20, creditOnly } from "../helpers/announce.ts";
import { testPolicy } from "../helpers/policy.ts";

const POLICY = testPolicy({
  maxRateBytesPerSecond: 1000,
  graceMaxPeers: 1000,
});
const ALICE = "a".repeat(32);
const BOB = "b".repeat(32);
const HASH = bytes20(1);
const T0 = 1_800_000_000;
const IP_A = new Uint8Array([10, 0, 0, 1]);
const IP_B = new Uint8Array([10, 0, 0, 2]);
const IP_6 = new Uint8Array([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
const peerA = bytes20(0x41, 0x2d);
const peerB = bytes20(0x42, 0x2d);
const agent = (ua: string) => ({ headers: new Headers({ "user-agent": ua }) });

function setup(policy: Partial<TrackerPolicy> = {}, snatches = 0) {
  const tracker = new Tracker({ ...POLICY, ...policy }, () => 0);
  tracker.load(
    [
      { id: 1, passkey: ALICE, disabled: false },
      { id: 2, passkey: BOB, disabled: false },
    ],
    [{ id: 10, infoHash: Buffer.from(HASH).toString("hex"), infoHashV2: null, snatches }],
  );
  return tracker;
}

/** Sends an announce of alice's peer (or `who`'s) and returns its outcome. */
function announce(
  tracker: Tracker,
  at: number,
  p: { uploaded?: number; downloaded?: number; left?: number; event?: string },
  who: { passkey: string; peerId: Uint8Array; ip: Uint8Array } = { passkey: ALICE, peerId: peerA, ip: IP_A },
) {
  const query = announceQuery({ infoHash: HASH, peerId: who.peerId, ...p });
  return tracker.announce(who.passkey, query, who.ip, at, agent("Test/1.0"));
}

/** Bob's leecher, in the swarm from `at` on: someone to upload to. */
function bobLeeches(tracker: Tracker, at: number) {
  announce(tracker, at, { left: 500 }, { passkey: BOB, peerId: peerB, ip: IP_B });
}

function credit(tracker: Tracker) {
  const batch = tracker.takeDeltas();
  return batch ? creditOnly(unpackDeltas(batch.deltas)) : [];
}

function records(tracker: Tracker) {
  const batch = tracker.takeSuspicious();
  return batch ? unpackSuspicious(batch.batch) : [];
}

function decode(body: Uint8Array): Record<string, unknown> {
  return bencode.decode(Buffer.from(body)) as Record<string, unknown>;
}

describe("rate cap", () => {
  test("a difference above (seconds + 1) × maxRate is credited up to the cap and recorded", () => {
    const tracker = setup();
    bobLeeches(tracker, T0);
    announce(tracker, T0, { left: 0 });
    announce(tracker, T0 + 1000, { left: 0, uploaded: 9_007_199_254_740_991, downloaded: 5000 });
    expect(credit(tracker)).toEqual([[1, 10, 1_001_000, 5000, 0]]);
    expect(records(tracker)).toEqual([
      {
        userId: 1,
        torrentId: 10,
        peerId: peerA,
        userAgent: "Test/1.0",
        claimedUp: 9_007_199_254_740_991,
        claimedDown: 5000,
        creditedUp: 1_001_000,
        creditedDown: 5000,
        seconds: 1000,
        reasons: ["rate"],
        at: T0 + 1000,
      },
    ]);
    // Under the cap: credited in full, nothing recorded.
    announce(tracker, T0 + 2000, { left: 0, uploaded: 9_007_199_254_740_991 + 0, downloaded: 5900 });
    expect(credit(tracker)).toEqual([[1, 10, 0, 900, 0]]);
    expect(records(tracker)).toEqual([]);
  });

  test("download is capped the same way; 0 turns the cap off", () => {
    const capped = setup();
    announce(capped, T0, {});
    bobLeeches(capped, T0);
    announce(capped, T0 + 900, { downloaded: 2_000_000 });
    expect(credit(capped)).toEqual([[1, 10, 0, 901_000, 0]]);
    const open = setup({ maxRateBytesPerSecond: 0 });
    announce(open, T0, {});
    announce(open, T0 + 900, { downloaded: 2_000_000 });
    expect(credit(open)).toEqual([[1, 10, 0, 2_000_000, 0]]);
    expect(records(open)).toEqual([]);
  });
});

describe("swarm balance", () => {
  test("a seeder alone in its swarm is not credited upload; with a leecher since its last report it is", () => {
    const tracker = setup({ maxRateBytesPerSecond: 0 });
    announce(tracker, T0, { left: 0 });
    announce(tracker, T0 + 900, { left: 0, uploaded: 1e15 });
    expect(credit(tracker)).toEqual([]);
    expect(records(tracker).map((r) => [r.claimedUp, r.creditedUp, r.reasons])).toEqual([
      [1e15, 0, ["no_leecher"]],
    ]);
    // Bob leeches for a while and leaves before alice's next report: she still had him to upload to.
    bobLeeches(tracker, T0 + 1000);
    announce(tracker, T0 + 1100, { event: "stopped", left: 500 }, { passkey: BOB, peerId: peerB, ip: IP_B });
    announce(tracker, T0 + 1800, { left: 0, uploaded: 1e15 + 300 });
    expect(credit(tracker)).toEqual([[1, 10, 300, 0, 0]]);
    // Nobody since: refused again.
    announce(tracker, T0 + 2700, { left: 0, uploaded: 1e15 + 600 });
    expect(credit(tracker)).toEqual([]);
    expect(records(tracker).map((r) => r.reasons)).toEqual([["no_leecher"]]);
  });

  test("a leecher needs another leecher: the only one cannot upload; download is credited regardless", () => {
    const tracker = setup({ maxRateBytesPerSecond: 0 });
    announce(tracker, T0, {});
    announce(tracker, T0 + 900, { uploaded: 700, downloaded: 800 });
    expect(credit(tracker)).toEqual([[1, 10, 0, 800, 0]]);
    expect(records(tracker).map((r) => r.reasons)).toEqual([["no_leecher"]]);
    bobLeeches(tracker, T0 + 1000);
    announce(tracker, T0 + 1800, { uploaded: 1700, downloaded: 800 });
    expect(credit(tracker)).toEqual([[1, 10, 1000, 0, 0]]);
  });

  test("uploadNeedsLeecher off credits a lone seeder", () => {
    const tracker = setup({ uploadNeedsLeecher: false });
    announce(tracker, T0, { left: 0 });
    announce(tracker, T0 + 900, { left: 0, uploaded: 500 });
    expect(credit(tracker)).toEqual([[1, 10, 500, 0, 0]]);
  });
});

describe("min interval whatever the event", () => {
  test("re-sent `started` is throttled like any re-announce; the credit waits for the next one", () => {
    const tracker = setup();
    bobLeeches(tracker, T0);
    announce(tracker, T0, { event: "started" });
    const again = announce(tracker, T0 + 10, { event: "started", uploaded: 1000 });
    expect(again.outcome).toBe("throttled");
    expect(credit(tracker)).toEqual([]);
    expect(announce(tracker, T0 + 900, { uploaded: 1000 }).outcome).toBe("ok");
    expect(credit(tracker)).toEqual([[1, 10, 1000, 0, 0]]);
  });

  test("`stopped` and a completion are taken at once, a second `completed` is throttled", () => {
    const tracker = setup();
    bobLeeches(tracker, T0);
    announce(tracker, T0, {});
    const done = announce(tracker, T0 + 5, { left: 0, downloaded: 1000, event: "completed" });
    expect(done.outcome).toBe("ok");
    expect(credit(tracker)).toEqual([[1, 10, 0, 1000, 1]]);
    const twice = announce(tracker, T0 + 6, { left: 0, downloaded: 1000, uploaded: 50, event: "completed" });
    expect(twice.outcome).toBe("throttled");
    expect(credit(tracker)).toEqual([]);
    const stopped = announce(tracker, T0 + 7, { left: 0, downloaded: 1000, uploaded: 50, event: "stopped" });
    expect(stopped.outcome).toBe("ok");
    expect(credit(tracker)).toEqual([[1, 10, 50, 0, 0]]);
    expect(tracker.swarms.size).toBe(1);
  });
});

describe("completions", () => {
  test("left going from above 0 to 0 is a completion without any event, counted once", () => {
    const tracker = setup({}, 4);
    announce(tracker, T0, { left: 1000 });
    tracker.takeCounts();
    const reply = decode(announce(tracker, T0 + 1, { left: 0, downloaded: 1000 }).body);
    expect([reply.complete, reply.incomplete, reply.downloaded]).toEqual([1, 0, 5]);
    expect(credit(tracker)).toEqual([[1, 10, 0, 1000, 1]]);
    expect(tracker.takeCounts()).toEqual([[10, 1, 0, 5]]);
    // Back to leeching (a re-check found damage) and done again: the same member, no second snatch.
    announce(tracker, T0 + 1000, { left: 10, downloaded: 1000 });
    announce(tracker, T0 + 1001, { left: 0, downloaded: 1010 });
    expect(credit(tracker)).toEqual([[1, 10, 0, 10, 0]]);
    expect(decode(announce(tracker, T0 + 3000, { left: 0, downloaded: 1010 }).body).downloaded).toBe(5);
  });

  test("a `stopped` with left 0 from a leecher is its completion (rtorrent sends no `completed`)", () => {
    const tracker = setup();
    announce(tracker, T0, { left: 1000 });
    announce(tracker, T0 + 60, { left: 0, downloaded: 1000, event: "stopped" });
    expect(credit(tracker)).toEqual([[1, 10, 0, 1000, 1]]);
  });

  test("who completed before the tracker started never counts again", () => {
    const tracker = setup({}, 1);
    tracker.loadCompletions(new Float64Array([1, 10, 2, 99]));
    announce(tracker, T0, { left: 1000 });
    const reply = decode(announce(tracker, T0 + 5, { left: 0, downloaded: 1000, event: "completed" }).body);
    expect(reply.downloaded).toBe(1);
    expect(credit(tracker)).toEqual([[1, 10, 0, 1000, 0]]);
    // Bob had not: his completion is a snatch.
    announce(tracker, T0, { left: 1000 }, { passkey: BOB, peerId: peerB, ip: IP_B });
    announce(tracker, T0 + 5, { left: 0, event: "completed" }, { passkey: BOB, peerId: peerB, ip: IP_B });
    // `left` fell by 1000 with nothing reported downloaded: charged what `left` implies.
    expect(credit(tracker)).toEqual([[2, 10, 0, 1000, 1]]);
  });

  test("a reload takes the database's snatch count, lower or higher, and reports it", () => {
    const tracker = setup({}, 7);
    tracker.takeCounts();
    tracker.upsertTorrent({
      id: 10,
      infoHash: Buffer.from(HASH).toString("hex"),
      infoHashV2: null,
      snatches: 3,
    });
    expect(tracker.takeCounts()).toEqual([[10, 0, 0, 3]]);
    tracker.load(
      [{ id: 1, passkey: ALICE, disabled: false }],
      [{ id: 10, infoHash: Buffer.from(HASH).toString("hex"), infoHashV2: null, snatches: 5 }],
    );
    expect(tracker.takeCounts()).toEqual([[10, 0, 0, 5]]);
  });
});

describe("grace for dropped peers", () => {
  test("a seeder dropped by the reaper is credited its upload when it comes back", () => {
    const tracker = setup({ maxRateBytesPerSecond: 0 });
    announce(tracker, T0, { left: 0, uploaded: 1000 });
    bobLeeches(tracker, T0 + 3000);
    expect(tracker.reap(T0 + 2800)).toBe(1);
    expect([tracker.swarms.size, tracker.grace!.size]).toEqual([1, 1]);
    const back = decode(announce(tracker, T0 + 3600, { left: 0, uploaded: 16_778_216 }).body);
    expect(back.complete).toBe(1);
    expect(credit(tracker)).toEqual([[1, 10, 16_777_216, 0, 0]]);
    expect(tracker.grace!.size).toBe(0);
  });

  test("a returning leecher that finished meanwhile completes; one stopping is credited and gone", () => {
    const tracker = setup({ maxRateBytesPerSecond: 0 });
    announce(tracker, T0, { left: 1000 });
    announce(tracker, T0, { left: 1000 }, { passkey: BOB, peerId: peerB, ip: IP_B });
    tracker.reap(T0 + 1);
    announce(tracker, T0 + 4000, { left: 0, downloaded: 1000 });
    expect(credit(tracker)).toEqual([[1, 10, 0, 1000, 1]]);
    announce(
      tracker,
      T0 + 5000,
      { left: 1000, downloaded: 30, event: "stopped" },
      {
        passkey: BOB,
        peerId: peerB,
        ip: IP_B,
      },
    );
    expect(credit(tracker)).toEqual([[2, 10, 0, 30, 0]]);
    expect([tracker.swarms.size, tracker.grace!.size]).toEqual([1, 0]);
  });

  test("kept counters expire after graceSeconds, are never another member's, and are bounded", () => {
    const tracker = setup({ graceSeconds: 100, graceMaxPeers: 1, maxRateBytesPerSecond: 0 });
    announce(tracker, T0, { left: 0, uploaded: 10 });
    announce(tracker, T0, { left: 1000 }, { passkey: BOB, peerId: peerB, ip: IP_B });
    tracker.reap(T0 + 1);
    // Room for one: the other was forgotten.
    expect([tracker.grace!.size, tracker.graceRefused]).toEqual([1, 1]);
    tracker.reap(T0 + 200);
    expect(tracker.grace!.size).toBe(0);
    const again = setup({ maxRateBytesPerSecond: 0 });
    announce(again, T0, { left: 0, uploaded: 10 });
    again.reap(T0 + 1);
    // Bob announcing alice's peer id finds nothing of hers, and leaves hers alone.
    announce(again, T0 + 10, { left: 0, uploaded: 5000 }, { passkey: BOB, peerId: peerA, ip: IP_B });
    expect(credit(again)).toEqual([]);
    expect(again.grace!.size).toBe(1);
  });
});

describe("dual-stack clients", () => {
  test("IPv4 then IPv6 with one peer_id: listed in peers and peers6, counted and credited once", () => {
    const tracker = setup();
    bobLeeches(tracker, T0);
    announce(tracker, T0, { left: 0, uploaded: 0, event: "started" });
    const v6 = tracker.announce(
      ALICE,
      announceQuery({ infoHash: HASH, peerId: peerA, left: 0, uploaded: 0, event: "started", port: 7000 }),
      IP_6,
      T0,
    );
    // The second announce is inside min interval: throttled, but its address is taken.
    expect(v6.outcome).toBe("throttled");
    const seen = decode(
      tracker.announce(BOB, announceQuery({ infoHash: HASH, peerId: peerB, left: 500 }), IP_B, T0 + 1).body,
    );
    expect(seen.complete).toBe(1);
    expect(Buffer.from(seen.peers as Uint8Array)).toEqual(Buffer.from([10, 0, 0, 1, 0x1a, 0xe1]));
    expect(Buffer.from(seen.peers6 as Uint8Array)).toEqual(Buffer.from([...IP_6, 0x1b, 0x58]));
    const dict = decode(
      tracker.announce(
        BOB,
        announceQuery({ infoHash: HASH, peerId: peerB, left: 500, compact: 0 }),
        IP_B,
        T0 + 2,
      ).body,
    );
    expect((dict.peers as { ip: Uint8Array }[]).map((p) => Buffer.from(p.ip).toString()).sort()).toEqual([
      "10.0.0.1",
      "2001:db8::1",
    ]);
    // Both families report the same totals: credited once.
    announce(tracker, T0 + 900, { left: 0, uploaded: 4000 });
    tracker.announce(
      ALICE,
      announceQuery({ infoHash: HASH, peerId: peerA, left: 0, uploaded: 4000, port: 7000 }),
      IP_6,
      T0 + 901,
    );
    expect(credit(tracker)).toEqual([[1, 10, 4000, 0, 0]]);
    expect(tracker.swarms.peersOfUser(0, 1)).toBe(1);
  });
});
