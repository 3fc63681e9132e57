/**
 * Seeded randomness for the hostile-input suite. Every run picks one base seed (or takes
 * HOSTILE_SEED from the environment); each test derives its own generator from it and its name, so
 * one failing test can be replayed alone with `HOSTILE_SEED=<seed> bun test test/hostile -t <name>`.
 * A failure's message ends with the seed and the last input the test noted.
 */

/** The run's base seed: HOSTILE_SEED when set, otherwise random. */
export const BASE_SEED: number = (() => {
  const fromEnv = process.env.HOSTILE_SEED;
  if (fromEnv !== undefined && /^[0-9]+$/.test(fromEnv)) return Number(fromEnv) >>> 0;
  return (Math.random() * 2 ** 32) >>> 0;
})();

/** mulberry32: small, fast and good enough to pick test inputs. */
export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Integer in [lo, hi]. */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }

  bytes(n: number): Uint8Array<ArrayBuffer> {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.int(256);
    return out;
  }

  /** A string of `n` characters drawn from `alphabet`. */
  chars(n: number, alphabet: string): string {
    let out = "";
    for (let i = 0; i < n; i++) out += alphabet[this.int(alphabet.length)];
    return out;
  }

  /**
   * Text full of trouble: ASCII, controls, NUL, Latin-1, astral characters, lone surrogates,
   * bidi overrides, HTML and SQL metacharacters.
   */
  nastyText(n: number): string {
    const pieces = [
      "\u0000",
      "\u0001",
      "\t",
      "\n",
      "\r\n",
      "\u007f",
      "é",
      "ÿ",
      "\u00a0",
      "\u200b",
      "\u202e",
      "\ufeff",
      "\ufffd",
      "\ud800",
      "\udfff",
      "😀",
      "𝕏",
      "<script>",
      "'",
      '"',
      "\\",
      "%",
      "%00",
      "&",
      "=",
      "+",
      "/",
      "..",
      "; drop table users; --",
      "$" + "{x}",
      "{{x}}",
    ];
    let out = "";
    while (out.length < n) {
      out += this.chance(0.5)
        ? this.chars(this.range(1, 6), "abcdefghijklmnopqrstuvwxyz0123456789 _-.")
        : this.pick(pieces);
    }
    return out;
  }
}

/** FNV-1a of a string, to give each test its own stream from the base seed. */
function hashName(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** What a fuzz body gets: its generator and a way to record the input under test. */
export interface FuzzContext {
  rng: Rng;
  /** Remembers the current input; shown (shortened) if the test fails. */
  note(input: unknown): void;
}

function describeInput(input: unknown): string {
  let text: string;
  if (input instanceof Uint8Array) {
    text = `bytes(${input.length}) hex ${Buffer.from(input.subarray(0, 200)).toString("hex")}`;
  } else if (typeof input === "string") {
    text = JSON.stringify(input.length > 400 ? `${input.slice(0, 400)}…(${input.length} chars)` : input);
  } else {
    try {
      text = JSON.stringify(input, (_k, v) =>
        typeof v === "string" && v.length > 200 ? `${v.slice(0, 200)}…(${v.length} chars)` : v,
      );
    } catch {
      text = String(input);
    }
  }
  return text.length > 1200 ? `${text.slice(0, 1200)}…` : text;
}

/**
 * Wraps a test body: gives it a generator seeded from BASE_SEED and `name`, and on failure adds the
 * seed and the last noted input to the error message (and prints them).
 */
export function seeded(name: string, body: (ctx: FuzzContext) => void | Promise<void>): () => Promise<void> {
  return async () => {
    const rng = new Rng((BASE_SEED ^ hashName(name)) >>> 0);
    let last: unknown;
    let noted = false;
    try {
      await body({
        rng,
        note(input) {
          last = input;
          noted = true;
        },
      });
    } catch (error) {
      const where = `[hostile] "${name}" failed; reproduce with HOSTILE_SEED=${BASE_SEED}${
        noted ? `\n[hostile] last input: ${describeInput(last)}` : ""
      }`;
      console.error(where);
      if (error instanceof Error) error.message = `${error.message}\n${where}`;
      throw error;
    }
  };
}

/** Percent-encodes every byte. */
export function escapeAll(bytes: Uint8Array): string {
  let out = "";
  for (const b of bytes) out += `%${b.toString(16).padStart(2, "0")}`;
  return out;
}

/**
 * Signs that a response leaks internals: a stack frame, a source path, a package folder, a driver
 * error name. Returns the first match or null.
 */
export function leak(body: string): string | null {
  const patterns = [
    /\bat [^\n]*\.(?:ts|tsx|js|mjs):\d+/,
    /\.tsx?:\d+:\d+/,
    /node_modules/,
    /\/work\/main|\/src\/(?:web|db|tracker)\//,
    /PostgresError|TypeError:|RangeError:|SyntaxError:|ReferenceError:/,
  ];
  for (const pattern of patterns) {
    const match = pattern.exec(body);
    if (match) return match[0];
  }
  return null;
}
