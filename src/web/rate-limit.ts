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

/**
 * The address as log-in throttling counts it: an IPv4 address (also one mapped into IPv6) as it
 * is, an IPv6 address by its /64, the smallest block a home or a server is given, so one machine
 * cannot pass for many.
 */
export function throttleAddress(ip: string): string {
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(ip);
  if (mapped) return mapped[1]!;
  if (!ip.includes(":")) return ip;
  const bare = ip.split("%")[0]!.toLowerCase();
  const halves = bare.split("::");
  if (halves.length > 2) return bare;
  const groups = (part: string | undefined) => (part ? part.split(":") : []);
  const head = groups(halves[0]);
  // A dotted IPv4 tail ("64:ff9b::192.0.2.1") fills the last two groups.
  const tail = groups(halves[1]).flatMap((g) => (g.includes(".") ? ["0", "0"] : [g]));
  const all =
    halves.length === 2 ? [...head, ...Array(8 - head.length - tail.length).fill("0"), ...tail] : head;
  const prefix = all.slice(0, 4).map((g) => Number.parseInt(g, 16));
  if (prefix.length < 4 || prefix.some((n) => !Number.isInteger(n) || n < 0 || n > 0xffff)) return bare;
  return `${prefix.map((n) => n.toString(16)).join(":")}::/64`;
}
