// The accounting rules on their own (no tracker, no server, no database), and the tracker's use of
// its credit rows where the batch grows.
import { describe, expect, test } from "bun:test";
import {
  DELTA_FIELDS,
  DELTA_ROW,
  PEER_FIELDS,
  PEER_ROW,
  SUSPICIOUS_FIELDS,
  SUSPICIOUS_ROW,
  unpackDeltas,
  unpackSuspicious,
} from "../../src/shared/channel.ts";
import {
  addCredit,
  applyFactors,
  assess,
  backingOf,
  CONSERVATION,
  type CreditRules,
  chargeLeft,
  feedable,
  impliedDownload,
  initCreditRow,
  newAssessment,
  newReport,
  REASON,
  type Report,
  shareFairly,
  siteFactorsAt,
  touchCreditRow,
  usableWindow,
  writeSuspicious,
} from "../../src/tracker/accounting.ts";
import { Conservation } from "../../src/tracker/conservation.ts";
import { CreditLedger } from "../../src/tracker/ledger.ts";
import { Tracker } from "../../src/tracker/tracker.ts";
import { announceQuery, bytes20 } from "../helpers/announce.ts";
import { testPolicy } from "../helpers/policy.ts";

const RULES: CreditRules = {
  maxRateBytesPerSecond: 1000,
  uploadNeedsLeecher: true,
  resetOnBackwardsCounter: true,
  announceIntervalSeconds: 1800,
  peerTimeoutSeconds: 0,
};
const T0 = 1_800_000_000;

/** A seeder's report 100 s after its previous one, a second leecher seen just now. */
function report(fields: Partial<Report> = {}): Report {
  return Object.assign(newReport(), {
    previousUploaded: 10_000,
    previousDownloaded: 5_000,
    previousAt: T0,
    wasSeeder: true,
    uploaded: 10_000,
    downloaded: 5_000,
    leecherAt: T0 + 100,
    leechersAt: T0 + 100,
    ...fields,
  });
}

function credit(fields: Partial<Report>, rules: Partial<CreditRules> = {}, now = T0 + 100) {
  const a = assess(newAssessment(), { ...RULES, ...rules }, report(fields), now);
  return { ...a };
}

describe("row layouts", () => {
  test("the named offsets are the wire layout: every field once, in order", () => {
    for (const [layout, fields] of [
      [DELTA_ROW, DELTA_FIELDS],
      [SUSPICIOUS_ROW, SUSPICIOUS_FIELDS],
      [PEER_ROW, PEER_FIELDS],
    ] as const) {
      expect(Object.values(layout) as number[]).toEqual(Array.from({ length: fields }, (_, i) => i));
    }
    expect(Object.keys(DELTA_ROW)).toEqual([
      "userId",
      "torrentId",
      "uploaded",
      "downloaded",
      "completed",
      "reportedUp",
      "reportedDown",
      "seedSeconds",
      "state",
      "lastAt",
      "firstAt",
    ]);
  });

  test("a credit row written through the accessors reads back as the web side unpacks it", () => {
    const rows = new Float64Array(DELTA_FIELDS * 2).fill(7);
    initCreditRow(rows, DELTA_FIELDS, 12, 34);
    const a = credit({ uploaded: 10_500, downloaded: 5_200 });
    addCredit(rows, DELTA_FIELDS, a, T0 + 100);
    expect(unpackDeltas(rows)[1]).toEqual([12, 34, 500, 200, 0, 500, 200, 100, 0, T0 + 100, T0 + 100]);
    // The row before is untouched.
    expect(Array.from(rows.subarray(0, DELTA_FIELDS))).toEqual(new Array(DELTA_FIELDS).fill(7));
  });

  test("the reason bits are the web side's reasons", () => {
    const rows = new Float64Array(SUSPICIOUS_FIELDS * 3);
    for (const [i, bit] of [REASON.rate, REASON.noLeecher, REASON.backwards].entries())
      writeSuspicious(rows, i * SUSPICIOUS_FIELDS, 1, 1, { ...newAssessment(), reasons: bit }, T0);
    const batch = { rows, peerIds: new Uint8Array(60), agents: ["", "", ""] };
    expect(unpackSuspicious(batch).map((r) => r.reasons)).toEqual([["rate"], ["no_leecher"], ["backwards"]]);
  });

  test("a suspicious row reads back as the web side unpacks it", () => {
    const rows = new Float64Array(SUSPICIOUS_FIELDS);
    const a = credit({ uploaded: 10_000 + 1e9 });
    writeSuspicious(rows, 0, 5, 6, a, T0 + 100);
    const [row] = unpackSuspicious({ rows, peerIds: new Uint8Array(20), agents: [""] });
    expect(row).toMatchObject({
      userId: 5,
      torrentId: 6,
      claimedUp: 1e9,
      claimedDown: 0,
      creditedUp: 101_000,
      creditedDown: 0,
      seconds: 100,
      reasons: ["rate"],
      at: T0 + 100,
    });
  });
});

describe("assess", () => {
  test("credits the difference from the previous report, within the cap", () => {
    expect(credit({ uploaded: 60_000, downloaded: 25_000 })).toMatchObject({
      claimedUp: 50_000,
      claimedDown: 20_000,
      up: 50_000,
      down: 20_000,
      seconds: 100,
      reasons: 0,
    });
  });

  test("rate cap: (seconds + 1) × the rate, each way, recorded as rate", () => {
    const a = credit({ uploaded: 10_000 + 500_000, downloaded: 5_000 + 101_001 });
    expect([a.up, a.down, a.claimedUp, a.reasons]).toEqual([101_000, 101_000, 500_000, REASON.rate]);
    // Exactly at the cap is no suspicion.
    expect(credit({ uploaded: 10_000 + 101_000 }).reasons).toBe(0);
    // 0 turns the cap off.
    expect(credit({ uploaded: 10_000 + 1e12 }, { maxRateBytesPerSecond: 0 }).up).toBe(1e12);
  });

  test("a counter going back starts a new session: nothing credited, recorded unless started", () => {
    const a = credit({ uploaded: 100, downloaded: 9_000 });
    expect([a.up, a.down, a.claimedUp, a.claimedDown, a.reasons]).toEqual([
      0,
      0,
      -9_900,
      4_000,
      REASON.backwards,
    ]);
    expect(credit({ uploaded: 100, downloaded: 9_000, started: true }).reasons).toBe(0);
  });

  test("without the reset, only the counter that went back is ignored", () => {
    const a = credit({ uploaded: 100, downloaded: 9_000 }, { resetOnBackwardsCounter: false });
    expect([a.up, a.down, a.reasons]).toEqual([0, 4_000, REASON.backwards]);
  });

  test("credit is never negative", () => {
    for (const reset of [true, false])
      for (const [up, down] of [
        [0, 0],
        [-1, 5_000],
        [10_000, -1],
        [1e15, 0],
      ]) {
        const a = credit({ uploaded: up!, downloaded: down! }, { resetOnBackwardsCounter: reset });
        expect(a.up).toBeGreaterThanOrEqual(0);
        expect(a.down).toBeGreaterThanOrEqual(0);
      }
  });

  test("a report identical to the previous one earns nothing but seed time", () => {
    expect(credit({})).toMatchObject({ up: 0, down: 0, reasons: 0, seedSeconds: 100 });
  });

  test("upload needs a leecher since the previous report", () => {
    const lone = credit({ uploaded: 20_000, leecherAt: T0 - 1, leechersAt: T0 - 1 });
    expect([lone.up, lone.reasons]).toEqual([0, REASON.noLeecher]);
    // A leecher needs a second one; a seeder, or a peer back from the grace store, one.
    const leecher = { wasSeeder: false, uploaded: 20_000, leecherAt: T0 + 50, leechersAt: T0 - 1 };
    expect(credit(leecher).up).toBe(0);
    expect(credit({ ...leecher, returning: true }).up).toBe(10_000);
    expect(credit({ ...leecher, wasSeeder: true }).up).toBe(10_000);
    // Off: anything goes.
    expect(credit({ uploaded: 20_000, leecherAt: 0, leechersAt: 0 }, { uploadNeedsLeecher: false }).up).toBe(
      10_000,
    );
  });

  test("seed time: only as seeder, at most the peer timeout, none for a returning peer", () => {
    expect(credit({}).seedSeconds).toBe(100);
    expect(credit({ wasSeeder: false }).seedSeconds).toBe(0);
    expect(credit({ returning: true }).seedSeconds).toBe(0);
    // The peer timeout: 1.5 × the larger of the interval and 600 s, or the configured one.
    expect(credit({}, {}, T0 + 5000).seedSeconds).toBe(2700);
    expect(credit({}, { peerTimeoutSeconds: 1000 }, T0 + 5000).seedSeconds).toBe(1000);
    // qBittorrent re-announces every 300 s whatever a 10 s interval says: all 300 s count.
    expect(credit({ previousAt: T0 }, { announceIntervalSeconds: 10 }, T0 + 300).seedSeconds).toBe(300);
    expect(credit({ previousAt: T0 }, { announceIntervalSeconds: 10 }, T0 + 2000).seedSeconds).toBe(900);
    // A clock going back earns nothing and caps at one second's worth.
    const back = credit({ uploaded: 20_000 }, {}, T0 - 10);
    expect([back.seconds, back.seedSeconds, back.up]).toEqual([0, 0, 1000]);
  });

  test("reuses the record it is given", () => {
    const out = newAssessment();
    expect(assess(out, RULES, report({ uploaded: 11_000 }), T0 + 100)).toBe(out);
    assess(out, RULES, report(), T0 + 100);
    expect(out.up).toBe(0);
  });
});

describe("factors", () => {
  test("freeleech, double upload, and the more generous of torrent and site", () => {
    const a = () => Object.assign(newAssessment(), { up: 1001, down: 1001 });
    expect(applyFactors(a(), 0, 2, 1, 1)).toMatchObject({ up: 2002, down: 0 });
    expect(applyFactors(a(), 0.5, 1, 1, 1.5)).toMatchObject({ up: 1502, down: 501 });
    expect(applyFactors(a(), 1, 1, 1, 1)).toMatchObject({ up: 1001, down: 1001 });
    expect(applyFactors(a(), 1, 3, 0.25, 2)).toMatchObject({ up: 3003, down: 250 });
  });

  test("site windows: the most generous in force, until the next boundary", () => {
    const windows = [
      { startsAt: 100, endsAt: 200, downloadFactor: 0.5, uploadFactor: 1 },
      { startsAt: 150, endsAt: 300, downloadFactor: 1, uploadFactor: 2 },
    ];
    const at = (now: number) => ({ ...siteFactorsAt(windows, now, { down: 9, up: 9, until: 9 }) });
    expect(at(50)).toEqual({ down: 1, up: 1, until: 100 });
    expect(at(120)).toEqual({ down: 0.5, up: 1, until: 150 });
    expect(at(160)).toEqual({ down: 0.5, up: 2, until: 200 });
    expect(at(300)).toEqual({ down: 1, up: 1, until: Number.POSITIVE_INFINITY });
  });

  test("unusable windows are told apart", () => {
    const w = { startsAt: 1, endsAt: 2, downloadFactor: 0, uploadFactor: 1 };
    expect(usableWindow(w)).toBe(true);
    expect(usableWindow({ ...w, endsAt: 1 })).toBe(false);
    expect(usableWindow({ ...w, downloadFactor: -1 })).toBe(false);
    expect(usableWindow({ ...w, uploadFactor: Number.NaN })).toBe(false);
    expect(usableWindow({ ...w, startsAt: Number.NEGATIVE_INFINITY })).toBe(false);
  });
});

describe("credit rows", () => {
  test("a first announce is only a time: nothing credited", () => {
    const rows = new Float64Array(DELTA_FIELDS);
    initCreditRow(rows, 0, 1, 2);
    touchCreditRow(rows, 0, T0);
    touchCreditRow(rows, 0, T0 + 5);
    expect(unpackDeltas(rows)).toEqual([[1, 2, 0, 0, 0, 0, 0, 0, 0, T0 + 5, T0]]);
  });

  test("reports add up; reported bytes count gains only", () => {
    const rows = new Float64Array(DELTA_FIELDS);
    initCreditRow(rows, 0, 1, 2);
    addCredit(rows, 0, credit({ uploaded: 12_000 }), T0 + 100);
    addCredit(rows, 0, credit({ uploaded: 100, downloaded: 100 }), T0 + 200);
    const [row] = unpackDeltas(rows);
    expect(row).toEqual([1, 2, 2_000, 0, 0, 2_000, 0, 200, 0, T0 + 200, T0 + 100]);
  });

  test("the ledger keeps one row per pair until taken, then starts afresh", () => {
    const ledger = new CreditLedger();
    const offsets = new Map<string, number>();
    for (let user = 1; user <= 3000; user++)
      for (const torrent of [1, 2]) offsets.set(`${user}/${torrent}`, ledger.rowOf(user, torrent));
    expect(new Set(offsets.values()).size).toBe(6000);
    for (const [pair, o] of offsets) {
      const [user, torrent] = pair.split("/").map(Number);
      expect(ledger.rowOf(user!, torrent!)).toBe(o);
    }
    const taken = ledger.take()!;
    expect([taken.seq, taken.deltas.length]).toEqual([1, 6000 * DELTA_FIELDS]);
    expect(ledger.take()).toBeNull();
    expect(ledger.rowOf(3000, 2)).toBe(0);
  });
});

describe("the tracker's credit rows", () => {
  test("a completion is kept when its row is the one that grows the batch", () => {
    const hash = new Uint8Array(20).fill(7);
    const users = Array.from({ length: 1025 }, (_, i) => ({
      id: i + 1,
      passkey: (i + 1).toString(16).padStart(32, "0"),
      disabled: false,
    }));
    const tracker = new Tracker(testPolicy(), () => 0);
    tracker.load(users, [
      { id: 9, infoHash: Buffer.from(hash).toString("hex"), infoHashV2: null, snatches: 0 },
    ]);
    const announce = (i: number, left: number, event: string) =>
      tracker.announce(
        users[i]!.passkey,
        announceQuery({ infoHash: hash, peerId: bytes20(i & 255, 0x40 + (i >> 8)), left, event }),
        new Uint8Array([10, 0, i >> 8, i & 255]),
        T0,
      ).outcome;
    for (let i = 0; i < 1024; i++) expect(announce(i, 1000, "started")).toBe("ok");
    expect(announce(1024, 0, "completed")).toBe("ok");
    const rows = unpackDeltas(tracker.takeDeltas()!.deltas);
    expect(rows).toHaveLength(1025);
    expect(rows.filter((r) => r[DELTA_ROW.completed] === 1).map((r) => r[DELTA_ROW.userId])).toEqual([1025]);
  });
});

describe("byte conservation, the pure rules", () => {
  const share = (claims: number[], amount: number) => {
    const paid = new Float64Array(claims.length);
    const total = shareFairly(Float64Array.from(claims), claims.length, amount, paid);
    return { total, paid: [...paid] };
  };

  test("download is shared in equal parts, no claim paid beyond itself, the rest to the others", () => {
    expect(share([100], 1000)).toEqual({ total: 100, paid: [100] });
    expect(share([600, 600], 1000)).toEqual({ total: 1000, paid: [500, 500] });
    expect(share([100, 600, 600], 1000)).toEqual({ total: 1000, paid: [100, 450, 450] });
    expect(share([0, 300], 1000)).toEqual({ total: 300, paid: [0, 300] });
    expect(share([], 1000)).toEqual({ total: 0, paid: [] });
  });

  test("a liar claiming 1 TB takes at most an equal share, never the honest seeder's whole", () => {
    const { paid } = share([1e12, 16_777_216], 16_777_216);
    expect(paid[1]).toBe(8_388_608);
    expect(paid[0]).toBe(8_388_608);
    // What the honest seeder claimed below an equal share is paid in full.
    expect(share([1e12, 1_000_000], 16_777_216).paid).toEqual([15_777_216, 1_000_000]);
  });

  test("whole bytes: what does not divide stays unshared", () => {
    expect(share([10, 10, 10], 10)).toEqual({ total: 9, paid: [3, 3, 3] });
    expect(share([10, 10], 1)).toEqual({ total: 0, paid: [0, 0] });
  });

  test("the allowance covers Transmission's and libtorrent's overhead, not more than half a percent", () => {
    expect(backingOf(16_777_216)).toBeGreaterThanOrEqual(16_790_528);
    expect(backingOf(16_777_216)).toBeGreaterThanOrEqual(16_809_984);
    expect(backingOf(16_777_216)).toBeLessThanOrEqual(16_777_216 * 1.005);
    expect(CONSERVATION.allowance).toBe(0.005);
  });

  test("the size multiple: a member's download beyond twice the size in a period feeds nothing", () => {
    expect(feedable(0, 1_000, 1_000)).toBe(1_000);
    expect(feedable(1_500, 1_000, 1_000)).toBe(500);
    expect(feedable(2_000, 1_000, 1_000)).toBe(0);
    expect(feedable(5_000, 1_000, 0)).toBe(1_000);
  });

  test("`left` falling by more than the download reported implies the rest, less the allowance", () => {
    const size = 1_000_000;
    expect(impliedDownload(size, 0, 0, size)).toBe(995_000);
    expect(impliedDownload(size, 0, size, size)).toBe(0);
    expect(impliedDownload(size, 0, 996_000, size)).toBe(0);
    expect(impliedDownload(0, size, 0, size)).toBe(0);
    expect(impliedDownload(1, 0, 0, size)).toBe(0);
    expect(impliedDownload(1000, 0, 0, 0)).toBe(1000);
    const a = chargeLeft(Object.assign(newAssessment(), { claimedDown: 0, down: 0 }), size, 0, size);
    expect([a.down, a.impliedDown, a.reasons]).toEqual([995_000, 995_000, REASON.leftImplied]);
    const honest = chargeLeft(
      Object.assign(newAssessment(), { claimedDown: size, down: size }),
      size,
      0,
      size,
    );
    expect([honest.down, honest.impliedDown, honest.reasons]).toEqual([size, 0, 0]);
  });
});

describe("byte conservation in the tracker", () => {
  const SIZE = 16_777_216;
  const HOLD = 60;
  const hash = bytes20(0x77);
  const passkey = (id: number) => id.toString(16).padStart(32, "0");
  function setup() {
    const tracker = new Tracker(
      testPolicy({ byteConservation: true, claimHoldSeconds: HOLD, minAnnounceIntervalSeconds: 0 }),
      () => 0,
    );
    tracker.load(
      [1, 2, 3, 4].map((id) => ({ id, passkey: passkey(id), disabled: false })),
      [{ id: 9, infoHash: Buffer.from(hash).toString("hex"), infoHashV2: null, snatches: 0, size: SIZE }],
    );
    return tracker;
  }
  const say = (
    tracker: Tracker,
    user: number,
    peer: number,
    at: number,
    p: { uploaded?: number; downloaded?: number; left: number; event?: string },
  ) =>
    tracker.announce(
      passkey(user),
      announceQuery({ infoHash: hash, peerId: bytes20(peer, 0x2d), ...p }),
      new Uint8Array([10, 0, user, peer]),
      at,
    ).outcome;
  const credited = (tracker: Tracker) => {
    const out: Record<number, [number, number]> = {};
    for (const r of unpackDeltas(tracker.takeDeltas()?.deltas ?? new Float64Array())) {
      const [u, , up, down] = r as readonly number[];
      const was = out[u!] ?? [0, 0];
      out[u!] = [was[0] + up!, was[1] + down!];
    }
    return out;
  };
  const reasons = (tracker: Tracker) =>
    unpackSuspicious(
      tracker.takeSuspicious()?.batch ?? { rows: new Float64Array(), peerIds: new Uint8Array(), agents: [] },
    );

  test("an honest seeder is credited what its leecher downloaded, Transmission's overhead included, after the hold", () => {
    const tracker = setup();
    // Carol's idle leecher is not heard from again: the download waits its whole hold.
    say(tracker, 3, 3, T0, { left: SIZE, event: "started" });
    say(tracker, 1, 1, T0, { left: 0, event: "started" });
    say(tracker, 2, 2, T0, { left: SIZE, event: "started" });
    say(tracker, 2, 2, T0 + 10, { downloaded: SIZE, left: 0, event: "completed" });
    say(tracker, 1, 1, T0 + 20, { uploaded: 16_790_528, left: 0 });
    expect(credited(tracker)).toEqual({ 1: [0, 0], 2: [0, SIZE], 3: [0, 0] });
    tracker.settle(T0 + 10 + HOLD - 1);
    expect(credited(tracker)).toEqual({});
    tracker.settle(T0 + 10 + HOLD);
    expect(credited(tracker)).toEqual({ 1: [16_790_528, 0] });
    expect(tracker.conservation.creditedUp).toBe(16_790_528);
    expect(tracker.conservation.reportedDown).toBe(SIZE);
  });

  test("a claim that comes first waits for the download and is paid when it is reported and held", () => {
    const tracker = setup();
    say(tracker, 1, 1, T0, { left: 0 });
    say(tracker, 2, 2, T0, { left: SIZE });
    say(tracker, 1, 1, T0 + 10, { uploaded: SIZE, left: 0 });
    say(tracker, 2, 2, T0 + 20, { downloaded: SIZE, left: 0 });
    tracker.settle(T0 + 20 + HOLD);
    expect(credited(tracker)[1]).toEqual([SIZE, 0]);
  });

  test("the hold ends early once every peer of the swarm announced after the download", () => {
    const tracker = setup();
    say(tracker, 1, 1, T0, { left: 0 });
    say(tracker, 3, 3, T0, { left: 0 });
    say(tracker, 2, 2, T0, { left: SIZE });
    say(tracker, 1, 1, T0 + 10, { uploaded: SIZE, left: 0 });
    say(tracker, 2, 2, T0 + 20, { downloaded: SIZE, left: 0 });
    tracker.settle(T0 + 21);
    expect(credited(tracker)).toEqual({ 1: [0, 0], 2: [0, SIZE], 3: [0, 0] });
    // Carol's seeder announces (claiming nothing): everyone has been heard since the download.
    say(tracker, 3, 3, T0 + 22, { left: 0 });
    say(tracker, 1, 1, T0 + 22, { uploaded: SIZE, left: 0, event: "stopped" });
    tracker.settle(T0 + 23);
    expect(credited(tracker)[1]).toEqual([SIZE, 0]);
  });

  test("a member alone with two peer_ids, or flipping left, is credited no upload; the claim expires recorded", () => {
    const tracker = setup();
    say(tracker, 1, 1, T0, { left: 0 });
    say(tracker, 1, 2, T0, { left: SIZE });
    say(tracker, 1, 2, T0 + 5, { downloaded: SIZE, left: 0 });
    say(tracker, 1, 1, T0 + 10, { uploaded: 1e12, left: 0 });
    say(tracker, 1, 1, T0 + 11, { uploaded: 1e12, left: 1 });
    say(tracker, 1, 1, T0 + 11, { uploaded: 1e12 + 5e9, left: 0 });
    tracker.settle(T0 + 10 + HOLD);
    expect(credited(tracker)[1]![0]).toBe(0);
    reasons(tracker);
    // Expiry: the peer timeout (2700 s here) plus the hold after the claim last grew.
    tracker.settle(T0 + 11 + 2700 + HOLD);
    const expired = reasons(tracker);
    expect(expired.map((r) => [r.userId, r.reasons])).toEqual([[1, ["unbacked"]]]);
    expect(tracker.conservation.size).toBe(0);
  });

  test("claims beyond the download share it: a liar's 1 TB takes half, the honest seeder the other half", () => {
    const tracker = setup();
    say(tracker, 1, 1, T0, { left: 0 });
    say(tracker, 3, 3, T0, { left: 0 });
    say(tracker, 2, 2, T0, { left: SIZE });
    say(tracker, 1, 1, T0 + 10, { uploaded: SIZE, left: 0 });
    say(tracker, 3, 3, T0 + 10, { uploaded: 1e12, left: 0 });
    say(tracker, 2, 2, T0 + 20, { downloaded: SIZE, left: 0 });
    tracker.settle(T0 + 20 + HOLD);
    const c = credited(tracker);
    const backing = Math.floor(backingOf(SIZE));
    expect(c[1]![0]).toBe(Math.floor(backing / 2));
    expect(c[3]![0]).toBe(Math.floor(backing / 2));
  });

  test("download beyond twice the size in a period backs nothing and is recorded", () => {
    const tracker = setup();
    say(tracker, 1, 1, T0, { left: 0 });
    say(tracker, 2, 2, T0, { left: SIZE });
    say(tracker, 2, 2, T0 + 10, { downloaded: 3 * SIZE, left: SIZE });
    say(tracker, 1, 1, T0 + 10, { uploaded: 3 * SIZE, left: 0 });
    tracker.settle(T0 + 10 + HOLD);
    expect(credited(tracker)).toEqual({ 1: [Math.floor(backingOf(2 * SIZE)), 0], 2: [0, 3 * SIZE] });
    expect(reasons(tracker).map((r) => r.reasons)).toEqual([["over_size"]]);
    // Further download past the multiple in the same period is not recorded again, nor does it back.
    say(tracker, 2, 2, T0 + 20, { downloaded: 4 * SIZE, left: SIZE });
    expect(reasons(tracker)).toEqual([]);
  });

  test("freeleech does not starve the seeder: the reported download backs the upload", () => {
    const tracker = setup();
    tracker.upsertTorrent({
      id: 9,
      infoHash: Buffer.from(hash).toString("hex"),
      infoHashV2: null,
      snatches: 0,
      size: SIZE,
      downloadFactor: 0,
    });
    say(tracker, 1, 1, T0, { left: 0 });
    say(tracker, 2, 2, T0, { left: SIZE });
    say(tracker, 2, 2, T0 + 10, { downloaded: SIZE, left: 0 });
    say(tracker, 1, 1, T0 + 10, { uploaded: SIZE, left: 0 });
    tracker.settle(T0 + 10 + HOLD);
    expect(credited(tracker)).toEqual({ 1: [SIZE, 0], 2: [0, 0] });
  });
});

describe("the conservation store", () => {
  test("claims by (swarm, member) stay found through growth, expiry and reuse, checked against a Map", () => {
    const store = new Conservation(1 << 16);
    const model = new Map<string, number>();
    let seed = 12345;
    const rand = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed % n;
    };
    let now = T0;
    for (let round = 0; round < 20; round++) {
      for (let i = 0; i < 3000; i++) {
        const t = rand(200);
        const user = 1 + rand(300);
        expect(store.claim(t, user, 10, now)).toBe(true);
        model.set(`${t}:${user}`, (model.get(`${t}:${user}`) ?? 0) + 10);
      }
      now += 10;
      // Every other round, everything expires.
      if (round % 2 === 1) {
        for (let t = 0; t < 200; t++) store.expire(t, now, 5, () => {});
        model.clear();
        expect(store.size).toBe(0);
      }
      for (let t = 0; t < 200; t += 7)
        for (let user = 1; user <= 300; user += 13)
          expect(store.claimOf(t, user)).toBe(model.get(`${t}:${user}`) ?? 0);
    }
  });

  test("a full store refuses a claim and feeds no download", () => {
    const store = new Conservation(2);
    expect(store.claim(0, 1, 10, T0)).toBe(true);
    expect(store.claim(0, 2, 10, T0)).toBe(true);
    expect(store.claim(0, 3, 10, T0)).toBe(false);
    expect(store.download(0, 4, 10, 0, T0, 100)).toBe(0);
    expect(store.reportedDown).toBe(0);
  });
});
