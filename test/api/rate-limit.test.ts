import { describe, expect, test } from "bun:test";
import { FixedWindowLimiter } from "../../src/web/rate-limit.ts";

describe("FixedWindowLimiter", () => {
  test("allows `limit` requests per window and key, then refuses until the window ends", () => {
    let now = 1_000_000;
    const limiter = new FixedWindowLimiter(3, 60_000, () => now);
    expect([1, 2, 3].map(() => limiter.hit("a").remaining)).toEqual([2, 1, 0]);
    const refused = limiter.hit("a");
    expect(refused).toEqual({ allowed: false, limit: 3, remaining: 0, resetSeconds: 60 });
    expect(limiter.hit("b").allowed).toBe(true);
    now += 45_500;
    expect(limiter.hit("a")).toMatchObject({ allowed: false, resetSeconds: 15 });
    now += 14_500;
    expect(limiter.hit("a")).toMatchObject({ allowed: true, remaining: 2, resetSeconds: 60 });
  });

  test("Retry-After is never 0 and keys whose window ended are forgotten", () => {
    let now = 0;
    const limiter = new FixedWindowLimiter(1, 1_000, () => now);
    limiter.hit("x");
    now = 999;
    expect(limiter.hit("x")).toMatchObject({ allowed: false, resetSeconds: 1 });
    for (let i = 0; i < 100; i++) limiter.hit(`k${i}`);
    expect(limiter.size).toBe(101);
    now = 2_500;
    limiter.hit("fresh");
    expect(limiter.size).toBe(1);
  });
});
