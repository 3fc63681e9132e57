// Podman for the container test: a Debian base image the suite makes itself (no registry is
// needed), and the podman flags that work on this machine, found by trying them.
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";

/** The base image the suite imports from a debootstrap root. */
export const BASE_IMAGE = "localhost/fairywren-test-base:bookworm";
/**
 * The debootstrap root is kept here as a tarball, outside any checkout, so later runs on the same
 * machine import it in seconds instead of fetching packages again (FAIRYWREN_TEST_CACHE overrides).
 */
export const CACHE_DIR = process.env.FAIRYWREN_TEST_CACHE ?? "/var/cache/fairywren-test";

/** Output and exit code of a command. */
export interface Run {
  code: number;
  out: string;
  err: string;
}

/** Runs a command to its end, collecting its output. */
export async function run(cmd: string[], options: { stdin?: Blob; timeoutMs?: number } = {}): Promise<Run> {
  const proc = Bun.spawn(cmd, {
    stdin: options.stdin ?? "ignore",
    stdout: "pipe",
    stderr: "pipe",
    timeout: options.timeoutMs ?? 300_000,
  });
  const [out, err, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { code, out, err };
}

/** Runs a command and throws with its output when it fails. */
export async function runOk(
  cmd: string[],
  options: { stdin?: Blob; timeoutMs?: number } = {},
): Promise<string> {
  const result = await run(cmd, options);
  if (result.code !== 0)
    throw new Error(`${cmd.join(" ")} exited ${result.code}:\n${result.err.trim()}\n${result.out.trim()}`);
  return result.out;
}

/** The Debian mirror and release apt already uses here (debootstrap fetches from the same). */
export function debianSource(): { mirror: string; suite: string } {
  let mirror = "http://deb.debian.org/debian";
  const deb822 = "/etc/apt/sources.list.d/debian.sources";
  const classic = "/etc/apt/sources.list";
  const text = [deb822, classic]
    .filter(existsSync)
    .map((f) => readFileSync(f, "utf8"))
    .join("\n");
  // The first archive named (not the security one) in either format.
  const found =
    text.match(/^URIs:\s*(\S+\/debian)\/?\s*$/m)?.[1] ??
    text.match(/^deb\s+(?:\[[^\]]*\]\s+)?(\S+\/debian)\/?\s/m)?.[1];
  if (found) mirror = found;
  const release = existsSync("/etc/os-release") ? readFileSync("/etc/os-release", "utf8") : "";
  const suite = release.match(/^VERSION_CODENAME=(\w+)/m)?.[1] ?? "bookworm";
  return { mirror, suite };
}

/**
 * Makes sure BASE_IMAGE exists: already in podman's store, or imported from the cached tarball, or
 * built with `debootstrap --variant=minbase` (about 30 s and 200 MB) and cached first.
 */
export async function ensureBaseImage(podman: string[]): Promise<void> {
  if ((await run([...podman, "image", "exists", BASE_IMAGE])).code === 0) return;
  const { mirror, suite } = debianSource();
  const tarball = join(CACHE_DIR, `${suite}-minbase.tar`);
  if (!existsSync(tarball)) {
    mkdirSync(CACHE_DIR, { recursive: true });
    // Roots left by runs that died half-way.
    for (const entry of readdirSync(CACHE_DIR))
      if (entry.startsWith("root-")) rmSync(join(CACHE_DIR, entry), { recursive: true, force: true });
    const root = join(CACHE_DIR, `root-${process.pid}`);
    try {
      await runOk(["debootstrap", "--variant=minbase", suite, root, mirror], { timeoutMs: 600_000 });
      // Written beside the final name, then renamed: a concurrent run never reads half a tarball.
      await runOk(["tar", "-C", root, "-cf", `${tarball}.${process.pid}`, "."]);
      renameSync(`${tarball}.${process.pid}`, tarball);
    } finally {
      rmSync(root, { recursive: true, force: true });
      rmSync(`${tarball}.${process.pid}`, { force: true });
    }
  }
  await runOk([...podman, "import", tarball, BASE_IMAGE]);
}

/** Flags for podman itself, for `podman run` and for `podman build`. */
export interface PodmanFlags {
  global: string[];
  run: string[];
  build: string[];
}

// Rootful podman inside a virtual machine or a container may not be allowed to raise resource
// limits to its defaults, and crun refuses a cgroup v1 host with a controller left on v2 (runc
// accepts it): so plain podman is tried first, then with modest limits, then with runc.
const LIMITS = ["--ulimit", "nofile=16384:16384", "--ulimit", "nproc=4096:4096"];

function candidates(): PodmanFlags[] {
  const list: PodmanFlags[] = [
    { global: [], run: [], build: [] },
    { global: [], run: LIMITS, build: LIMITS },
  ];
  if (Bun.which("runc"))
    list.push({
      global: ["--runtime", "runc"],
      run: LIMITS,
      build: ["--runtime", "runc", ...LIMITS],
    });
  return list;
}

/**
 * Where podman can run containers here: the first set of flags with which the base image runs
 * `true`, or the reason none did.
 */
export async function probePodman(): Promise<{ flags: PodmanFlags } | { reason: string }> {
  if (!Bun.which("podman")) return { reason: "podman is not installed (Debian package podman)" };
  const info = await run(["podman", "info", "--format", "{{.Store.GraphDriverName}}"]);
  if (info.code !== 0) return { reason: `podman info failed: ${info.err.trim()}` };
  if (!Bun.which("debootstrap"))
    return { reason: "debootstrap is not installed (Debian package debootstrap)" };
  try {
    await ensureBaseImage(["podman"]);
  } catch (error) {
    return { reason: `cannot make the base image: ${(error as Error).message}` };
  }
  const errors: string[] = [];
  for (const flags of candidates()) {
    const tried = await run(["podman", ...flags.global, "run", "--rm", ...flags.run, BASE_IMAGE, "true"]);
    if (tried.code === 0) return { flags };
    errors.push(`${[...flags.global, ...flags.run].join(" ") || "(no flags)"}: ${tried.err.trim()}`);
  }
  return { reason: `podman cannot run a container here:\n  ${errors.join("\n  ")}` };
}
