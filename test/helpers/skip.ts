// Suites that need a program or a server this machine may lack are skipped, and say so.
import { describe } from "bun:test";
import { relative, resolve } from "node:path";

const ROOT = resolve(import.meta.dir, "../..");
const said = new Set<string>();

/** Why the suites that use a real PostgreSQL server are skipped without one. */
export const NEEDS_POSTGRES =
  "needs a PostgreSQL server: run with DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres (as CI does)";

/** The Debian package that provides each program the suites drive. */
const PACKAGES: Record<string, string> = {
  "transmission-cli": "transmission-cli",
  "transmission-create": "transmission-cli",
  aria2c: "aria2",
  mktorrent: "mktorrent",
  chromium: "chromium",
};

/** Why a suite that drives `programs` is skipped: what is missing and how to install it. */
export function needsPrograms(missing: readonly string[]): string {
  const packages = [...new Set(missing.map((p) => PACKAGES[p] ?? p))];
  return `needs ${missing.join(", ")} (apt-get install ${packages.join(" ")})`;
}

/** The test file that called the function calling this one. */
function callerFile(): string {
  const lines = new Error().stack?.split("\n") ?? [];
  for (const line of lines) {
    const path = /((?:\/|[A-Za-z]:\\)[^\s()]+?\.[jt]sx?):\d+:\d+/.exec(line)?.[1];
    if (path && resolve(path) !== resolve(import.meta.path)) return relative(ROOT, path);
  }
  return "a test file";
}

/**
 * True when a suite must be skipped because what it needs (`condition`) is missing: for
 * `describe.skipIf(skipUnless(...))`. Says once, on standard error, which file is skipped and why.
 */
export function skipUnless(condition: boolean, reason: string): boolean {
  if (condition) return false;
  const line = `skipped ${callerFile()}: ${reason}`;
  if (!said.has(line)) {
    said.add(line);
    console.warn(line);
  }
  return true;
}

/**
 * `describe` that runs only when `condition` holds. Skipped, it says why twice: once on standard
 * error (skipUnless) and on every skipped test's own line, its suite's name ending in the reason.
 */
export function describeUnless(condition: boolean, reason: string) {
  const skip = skipUnless(condition, reason);
  return (name: string, suite: () => void) =>
    skip ? describe.skip(`${name} [skipped: ${reason}]`, suite) : describe(name, suite);
}
