// The per-(member, torrent) peer counts behind the per-member cap, against a plain Map.
import { expect, test } from "bun:test";
import { PairCounts } from "../../../src/tracker/pair-counts.ts";
import { seeded } from "./helpers.ts";

test("random increments and decrements agree with a Map, through growth and removals", () => {
  const rand = seeded(7);
  const counts = new PairCounts();
  const model = new Map<string, number>();
  for (let op = 0; op < 200_000; op++) {
    const user = Math.floor(rand() * 300) - 5;
    const t = Math.floor(rand() * 200) * 977;
    const key = `${user}:${t}`;
    if (rand() < 0.55) {
      counts.inc(user, t);
      model.set(key, (model.get(key) ?? 0) + 1);
    } else {
      counts.dec(user, t);
      const n = model.get(key) ?? 0;
      if (n > 1) model.set(key, n - 1);
      else model.delete(key);
    }
    if (op % 20_000 === 0 || op === 199_999) {
      expect(counts.size).toBe(model.size);
      for (const [k, n] of model) {
        const [u, tt] = k.split(":").map(Number) as [number, number];
        expect(counts.get(u, tt)).toBe(n);
      }
    }
  }
  expect(counts.get(9999, 1)).toBe(0);
});

test("counts beyond one byte stay exact, both ways", () => {
  const counts = new PairCounts();
  for (let i = 0; i < 1000; i++) counts.inc(42, 7);
  counts.inc(43, 7);
  expect([counts.get(42, 7), counts.get(43, 7), counts.size]).toEqual([1000, 1, 2]);
  for (let i = 0; i < 999; i++) counts.dec(42, 7);
  expect(counts.get(42, 7)).toBe(1);
  counts.dec(42, 7);
  expect([counts.get(42, 7), counts.size]).toEqual([0, 1]);
  // A pair that is absent is left alone.
  counts.dec(42, 7);
  expect(counts.get(43, 7)).toBe(1);
});
