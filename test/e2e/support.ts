// Shared by the end-to-end suites: real BitTorrent clients (Debian packages) as child processes,
// free loopback ports, bounded waits, and logs kept under artifacts/e2e/.
import { createHash } from "node:crypto";
import { mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Subprocess } from "bun";
import { freePort } from "../helpers/ports.ts";

export const ROOT = resolve(import.meta.dir, "../..");
/** The executable that `npm run build` writes. */
export const BINARY = join(ROOT, "dist", "fairywren");
/** CI installs the clients (.ci/run), so there a missing one is a failure, not a reason to skip. */
export const IN_CI = process.env.CI === "true";
/** The programs the suites drive. */
export const CLIENT_TOOLS = ["transmission-cli", "aria2c", "mktorrent"] as const;
/** The libtorrent-based and rtorrent clients of the credit suite. */
export const MORE_CLIENT_TOOLS = ["qbittorrent-nox", "rtorrent", "mktorrent"] as const;

/** Which of `tools` are not on PATH. */
export function missingTools(tools: readonly string[] = CLIENT_TOOLS): string[] {
  return tools.filter((tool) => !Bun.which(tool));
}

/** Fails with a message naming the fix when a client is missing (reached only in CI). */
export function requireTools(tools: readonly string[] = CLIENT_TOOLS): void {
  const missing = missingTools(tools);
  if (missing.length)
    throw new Error(`missing ${missing.join(", ")}: install the Debian packages listed in .ci/run`);
}

/** An empty artifacts/e2e/<name> folder for this run's logs (left in place afterwards). */
export function artifactsDir(name: string): string {
  const dir = join(ROOT, "artifacts", "e2e", name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** Distinct free ports (a port just released could otherwise be handed out twice). */
export async function freePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort());
  return [...ports];
}

/** Calls `probe` every `everyMs` until it returns something truthy; fails after `deadlineMs`. */
export async function waitFor<T>(
  what: string,
  deadlineMs: number,
  probe: () => Promise<T | null | undefined | false> | T | null | undefined | false,
  everyMs = 200,
): Promise<T> {
  const end = Date.now() + deadlineMs;
  let last: unknown = null;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() >= end)
      throw new Error(
        `timed out after ${deadlineMs} ms waiting for ${what}${last ? ` (last error: ${String(last)})` : ""}`,
      );
    await Bun.sleep(everyMs);
  }
}

/** Resolves with the exit code, or null when the process is still running after `ms`. */
export async function exitWithin(proc: Subprocess, ms: number): Promise<number | null> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<null>((done) => {
    timer = setTimeout(() => done(null), ms);
  });
  try {
    return await Promise.race([proc.exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Every child process a suite starts, each with its standard output and error written straight to
 * files in the artifacts folder (kept even when the test process dies).
 */
export class Processes {
  private readonly running: { name: string; proc: Subprocess }[] = [];
  private readonly onExit = () => this.killAll();

  constructor(readonly logDir: string) {
    process.on("exit", this.onExit);
  }

  spawn(name: string, cmd: string[], options: { cwd: string; env: Record<string, string>; stdin?: string }) {
    writeFileSync(join(this.logDir, `${name}.cmd.txt`), `${cmd.join(" ")}\n`);
    const proc = Bun.spawn(cmd, {
      cwd: options.cwd,
      env: options.env,
      stdin: options.stdin === undefined ? "ignore" : new TextEncoder().encode(options.stdin),
      stdout: Bun.file(join(this.logDir, `${name}.stdout.log`)),
      stderr: Bun.file(join(this.logDir, `${name}.stderr.log`)),
    });
    this.running.push({ name, proc });
    return proc;
  }

  /** Sends `signal` and waits up to `ms` for the exit; then SIGKILL. Returns the exit code. */
  async stop(proc: Subprocess, signal: NodeJS.Signals, ms: number): Promise<number | null> {
    if (proc.exitCode !== null || proc.signalCode !== null) return proc.exitCode;
    proc.kill(signal);
    const code = await exitWithin(proc, ms);
    if (code === null) {
      proc.kill("SIGKILL");
      await exitWithin(proc, 5000);
    }
    return code;
  }

  /** Kills, by pid, every process still running. */
  killAll(): void {
    for (const { proc } of this.running)
      if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGKILL");
  }

  async dispose(): Promise<void> {
    this.killAll();
    await Promise.all(this.running.map(({ proc }) => exitWithin(proc, 5000)));
    process.off("exit", this.onExit);
  }
}

/** A minimal environment for a child: nothing inherited but PATH, so no stray setting leaks in. */
export function childEnv(home: string, extra: Record<string, string> = {}): Record<string, string> {
  return { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home, LANG: "C.UTF-8", ...extra };
}

/** Writes `size` random bytes to `path`. */
export function randomFile(path: string, size: number): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(size);
  for (let at = 0; at < size; at += 65536) crypto.getRandomValues(bytes.subarray(at, at + 65536));
  writeFileSync(path, bytes);
  return bytes;
}

/** Makes a private .torrent of `target` with mktorrent, 256 KiB pieces. */
export async function makeTorrent(
  target: string,
  announce: string,
  output: string,
): Promise<Uint8Array<ArrayBuffer>> {
  const proc = Bun.spawn(["mktorrent", "-l", "18", "-p", "-a", announce, "-o", output, target], {
    stdout: "pipe",
    stderr: "pipe",
  });
  const [out, err, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  if (code !== 0) throw new Error(`mktorrent failed (${code}): ${out}${err}`);
  return new Uint8Array(await Bun.file(output).arrayBuffer());
}

/** The raw bytes of the bencoded value starting at `at`, and where it ends. */
function skipValue(bytes: Uint8Array, at: number): number {
  const c = bytes[at];
  if (c === 0x69) return bytes.indexOf(0x65, at) + 1;
  if (c === 0x6c || c === 0x64) {
    let i = at + 1;
    while (bytes[i] !== 0x65) i = skipValue(bytes, i);
    return i + 1;
  }
  const colon = bytes.indexOf(0x3a, at);
  return colon + 1 + Number(Buffer.from(bytes.subarray(at, colon)).toString("latin1"));
}

/** SHA-1 of the `info` dictionary exactly as stored in the .torrent: the v1 info hash. */
export function infoHash(torrent: Uint8Array): Uint8Array {
  if (torrent[0] !== 0x64) throw new Error("not a bencoded dictionary");
  let i = 1;
  while (torrent[i] !== 0x65) {
    const keyEnd = skipValue(torrent, i);
    const key = Buffer.from(torrent.subarray(i, keyEnd)).toString("latin1");
    const valueEnd = skipValue(torrent, keyEnd);
    if (key === "4:info")
      return new Uint8Array(createHash("sha1").update(torrent.subarray(keyEnd, valueEnd)).digest());
    i = valueEnd;
  }
  throw new Error("no info dictionary");
}

/** Transmission's settings.json: no DHT, PEX, LPD, uTP or port mapping; loopback only; TCP peers. */
export function transmissionConfig(dir: string): string {
  mkdirSync(dir, { recursive: true });
  const settings = {
    "dht-enabled": false,
    "pex-enabled": false,
    "lpd-enabled": false,
    "utp-enabled": false,
    "port-forwarding-enabled": false,
    "rpc-enabled": false,
    "bind-address-ipv4": "127.0.0.1",
    "bind-address-ipv6": "::1",
    "peer-port-random-on-start": false,
    "speed-limit-up-enabled": false,
    "speed-limit-down-enabled": false,
    "ratio-limit-enabled": false,
    "blocklist-enabled": false,
    "message-level": 3,
  };
  writeFileSync(join(dir, "settings.json"), JSON.stringify(settings, null, 2));
  return dir;
}

/** transmission-cli seeding or downloading `torrent` in `dir`, peers on `port`. */
export function transmissionCommand(options: {
  torrent: string;
  dir: string;
  configDir: string;
  port: number;
}): string[] {
  return [
    "transmission-cli",
    "-g",
    transmissionConfig(options.configDir),
    "-w",
    options.dir,
    "-p",
    String(options.port),
    "-M",
    "-B",
    "-U",
    "-D",
    options.torrent,
  ];
}

/** aria2c for one torrent: no DHT, PEX or LPD; peers on `port`; seeds for `seedMinutes` then exits. */
export function aria2Command(options: {
  torrent: string;
  dir: string;
  port: number;
  log: string;
  seedMinutes: number;
  downloadLimit?: string;
}): string[] {
  return [
    "aria2c",
    "--no-conf=true",
    `--dir=${options.dir}`,
    `--listen-port=${options.port}`,
    "--enable-dht=false",
    "--enable-dht6=false",
    "--enable-peer-exchange=false",
    "--bt-enable-lpd=false",
    "--disable-ipv6=true",
    "--seed-ratio=0.0",
    `--seed-time=${options.seedMinutes}`,
    `--max-download-limit=${options.downloadLimit ?? "0"}`,
    "--check-integrity=true",
    "--file-allocation=none",
    "--auto-file-renaming=false",
    "--allow-overwrite=true",
    "--summary-interval=0",
    "--console-log-level=notice",
    `--log=${options.log}`,
    "--log-level=info",
    // Dies with the test process, whatever happens to it.
    `--stop-with-process=${process.pid}`,
    options.torrent,
  ];
}

/** The first line a program prints for --version (standard output or error). */
export async function versionLine(cmd: string[]): Promise<string> {
  const proc = Bun.spawn(cmd, { stdout: "pipe", stderr: "pipe" });
  const [out, err] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  await proc.exited;
  return `${out}\n${err}`.trim().split("\n")[0]!.trim();
}

/**
 * qBittorrent's configuration for a fresh profile (`<profile>/qBittorrent/config`): legal notice
 * accepted, no DHT, PEX, LSD or port mapping, peers only on `address`, and the WebUI on loopback
 * without log-in for local requests. SSRF mitigation is off: libtorrent otherwise refuses a tracker
 * on a loopback address whose path is not exactly /announce (ours are /<passkey>/announce). Several
 * connections from one address are allowed, as every peer here is on loopback.
 */
export function qbittorrentProfile(
  profile: string,
  options: { address: string; peerPort: number; webPort: number; saveDir: string },
): void {
  const dir = join(profile, "qBittorrent", "config");
  mkdirSync(dir, { recursive: true });
  const settings = [
    "[LegalNotice]",
    "Accepted=true",
    "",
    "[BitTorrent]",
    "Session\\DHTEnabled=false",
    "Session\\PeXEnabled=false",
    "Session\\LSDEnabled=false",
    `Session\\Port=${options.peerPort}`,
    `Session\\InterfaceAddress=${options.address}`,
    "Session\\SSRFMitigation=false",
    "Session\\MultiConnectionsPerIp=true",
    "Session\\QueueingSystemEnabled=false",
    "Session\\AnonymousModeEnabled=false",
    `Session\\DefaultSavePath=${options.saveDir}`,
    "",
    "[Network]",
    "PortForwardingEnabled=false",
    "",
    "[Preferences]",
    `WebUI\\Port=${options.webPort}`,
    "WebUI\\Address=127.0.0.1",
    "WebUI\\LocalHostAuth=false",
    "WebUI\\HostHeaderValidation=false",
    "WebUI\\CSRFProtection=false",
    "Connection\\UPnP=false",
    "",
  ];
  writeFileSync(join(dir, "qBittorrent.conf"), settings.join("\n"));
}

/** One torrent as qBittorrent's WebUI API lists it (the fields the suites read). */
export interface QbTorrent {
  hash: string;
  name: string;
  state: string;
  progress: number;
  uploaded: number;
  downloaded: number;
  amount_left: number;
}

/** A small client of qBittorrent's WebUI API (v2) on a loopback port. */
export function qbittorrentApi(webPort: number) {
  const base = `http://127.0.0.1:${webPort}/api/v2`;
  async function call(path: string, form?: FormData | "post"): Promise<Response> {
    const init = form === "post" ? { method: "POST" } : form ? { method: "POST", body: form } : undefined;
    const response = await fetch(`${base}${path}`, init);
    if (!response.ok) throw new Error(`qBittorrent ${path}: ${response.status} ${await response.text()}`);
    return response;
  }
  return {
    version: async () => (await call("/app/version")).text(),
    /** Adds a .torrent, saving (or finding, for seeding) its data in `saveDir`. */
    async add(torrent: string, saveDir: string): Promise<void> {
      const form = new FormData();
      form.set("torrents", Bun.file(torrent), "file.torrent");
      form.set("savepath", saveDir);
      const text = await (await call("/torrents/add", form)).text();
      if (text.trim() !== "Ok.") throw new Error(`qBittorrent refused the torrent: ${text}`);
    },
    torrents: async (): Promise<QbTorrent[]> => (await (await call("/torrents/info")).json()) as QbTorrent[],
    /** Pauses every torrent: libtorrent announces `stopped` for each. */
    async pauseAll(): Promise<void> {
      const form = new FormData();
      form.set("hashes", "all");
      await call("/torrents/pause", form);
    },
    async shutdown(): Promise<void> {
      await call("/app/shutdown", "post");
    },
  };
}

/**
 * rtorrent's configuration for running headless: no curses (daemon mode), XML-RPC on a unix socket,
 * no DHT, PEX or UDP trackers, peers and tracker requests from `address`.
 */
export function rtorrentConfig(
  dir: string,
  options: { address: string; port: number; socket: string; downloadDir: string },
): string {
  const session = join(dir, "session");
  mkdirSync(session, { recursive: true });
  const rc = join(dir, "rtorrent.rc");
  writeFileSync(
    rc,
    [
      `directory.default.set = ${options.downloadDir}`,
      `session.path.set = ${session}`,
      `network.port_range.set = ${options.port}-${options.port}`,
      "network.port_random.set = no",
      `network.bind_address.set = ${options.address}`,
      "dht.mode.set = disable",
      "protocol.pex.set = no",
      "trackers.use_udp.set = no",
      "system.daemon.set = true",
      `network.scgi.open_local = ${options.socket}`,
      `log.open_file = "main", ${join(dir, "rtorrent.log")}`,
      'log.add_output = "info", "main"',
      "",
    ].join("\n"),
  );
  return rc;
}

function xmlEscape(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");
}

/**
 * Calls rtorrent over XML-RPC on its SCGI unix socket; returns the first value of the answer as
 * text (an XML-RPC fault throws).
 */
export async function rtorrentCall(socket: string, method: string, ...params: string[]): Promise<string> {
  const body = `<?xml version="1.0"?><methodCall><methodName>${method}</methodName><params>${params
    .map((p) => `<param><value><string>${xmlEscape(p)}</string></value></param>`)
    .join("")}</params></methodCall>`;
  const length = Buffer.byteLength(body);
  // SCGI: a netstring of NUL-separated header names and values, then the body.
  const headers = `CONTENT_LENGTH\u0000${length}\u0000SCGI\u00001\u0000`;
  const chunks: Uint8Array[] = [];
  const done = Promise.withResolvers<void>();
  const connection = await Bun.connect({
    unix: socket,
    socket: {
      data: (_, chunk) => void chunks.push(new Uint8Array(chunk)),
      close: () => done.resolve(),
      error: (_, error) => done.reject(error),
    },
  });
  connection.write(`${Buffer.byteLength(headers)}:${headers},${body}`);
  await done.promise;
  const text = Buffer.concat(chunks).toString();
  if (text.includes("<fault>")) throw new Error(`rtorrent ${method}: ${text}`);
  const value = text.match(/<value>(?:<(?:i4|i8|int|string)>)?([^<]*)/);
  if (!value) throw new Error(`rtorrent ${method}: no value in ${text}`);
  return value[1]!;
}

/** Rebuilds dist/fairywren when it is missing or older than anything it is built from. */
export async function ensureBinary(): Promise<void> {
  const sources = ["src", "views", "sql", "public", "scripts/build.ts", "package.json", "bun.lock"];
  let newest = 0;
  for (const entry of sources) {
    const path = join(ROOT, entry);
    const stat = statSync(path, { throwIfNoEntry: false });
    if (!stat) continue;
    if (!stat.isDirectory()) newest = Math.max(newest, stat.mtimeMs);
    else
      for (const file of readdirSync(path, { recursive: true }) as string[])
        newest = Math.max(newest, statSync(join(path, file), { throwIfNoEntry: false })?.mtimeMs ?? 0);
  }
  const built = statSync(BINARY, { throwIfNoEntry: false });
  if (built && built.mtimeMs >= newest) return;
  const proc = Bun.spawn([process.execPath, "scripts/build.ts"], {
    cwd: ROOT,
    stdout: "pipe",
    stderr: "pipe",
  });
  const [out, err, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  if (code !== 0) throw new Error(`npm run build failed (${code}):\n${out}${err}`);
}

/** A browser-like visitor of the site: keeps its session cookie, sends Origin on state changes. */
export class Visitor {
  cookie = "";
  constructor(
    readonly web: string,
    readonly password: string,
  ) {}

  async request(path: string, init: { method?: string; body?: FormData | URLSearchParams } = {}) {
    const headers = new Headers();
    if (this.cookie) headers.set("cookie", this.cookie);
    const method = init.method ?? (init.body ? "POST" : "GET");
    if (method !== "GET") headers.set("origin", this.web);
    const response = await fetch(`${this.web}${path}`, {
      method,
      headers,
      body: init.body,
      redirect: "manual",
    });
    const set = response.headers.get("set-cookie");
    if (set?.startsWith("fw_session=")) this.cookie = set.split(";")[0]!;
    return response;
  }

  async page(path: string): Promise<string> {
    const response = await this.request(path);
    if (response.status !== 200) throw new Error(`GET ${path}: ${response.status}`);
    return response.text();
  }

  /** The CSRF token the site puts in its forms. */
  async csrf(): Promise<string> {
    const html = await this.page("/account");
    const token = html.match(/name="_csrf" value="([^"]+)"/)?.[1];
    if (!token) throw new Error("no CSRF token on /account");
    return token;
  }

  async login(name: string): Promise<void> {
    const response = await this.request("/login", {
      body: new URLSearchParams({ name, password: this.password }),
    });
    if (response.status !== 303)
      throw new Error(`log-in of ${name}: ${response.status} ${await response.text()}`);
  }
}
