/** The outcome of counting one request. */
export interface RateDecision {
  readonly allowed: boolean;
  readonly limit: number;
  /** Requests left in the current window (0 when refused). */
  readonly remaining: number;
  /** Whole seconds until the window ends (at least 1). */
  readonly resetSeconds: number;
}

/**
 * Fixed-window request counting in memory, per key (a token, a member, an address): at most `limit`
 * requests per `windowMs`, the window starting at a key's first request. Keys whose window ended are
 * swept once a window, so memory holds only the keys seen in the last window or two.
 */
export class FixedWindowLimiter {
  private readonly windows = new Map<string, { start: number; count: number }>();
  private lastSweep: number;

  constructor(
    readonly limit: number,
    readonly windowMs = 60_000,
    private readonly now: () => number = Date.now,
  ) {
    this.lastSweep = now();
  }

  /** Counts one request for `key`; refused requests count too, so hammering does not reset. */
  hit(key: string): RateDecision {
    const now = this.now();
    if (now - this.lastSweep >= this.windowMs) this.sweep(now);
    let window = this.windows.get(key);
    if (!window || now - window.start >= this.windowMs) {
      window = { start: now, count: 0 };
      this.windows.set(key, window);
    }
    window.count++;
    const resetSeconds = Math.max(1, Math.ceil((window.start + this.windowMs - now) / 1000));
    const allowed = window.count <= this.limit;
    return {
      allowed,
      limit: this.limit,
      remaining: allowed ? this.limit - window.count : 0,
      resetSeconds,
    };
  }

  /** Number of keys held (for tests). */
  get size(): number {
    return this.windows.size;
  }

  private sweep(now: number): void {
    for (const [key, window] of this.windows)
      if (now - window.start >= this.windowMs) this.windows.delete(key);
    this.lastSweep = now;
  }
}
