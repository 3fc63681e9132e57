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
  type CreditRules,
  initCreditRow,
  newAssessment,
  newReport,
  REASON,
  type Report,
  siteFactorsAt,
  touchCreditRow,
  usableWindow,
  writeSuspicious,
} from "../../src/tracker/accounting.ts";
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
