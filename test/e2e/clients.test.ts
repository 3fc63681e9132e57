// What real BitTorrent clients send to a tracker: transmission-cli (seeding) and aria2c (leeching,
// then seeding for a few seconds) announce to a small recording tracker on loopback that answers
// like Fairywren (compact peers, complete/incomplete, a 2 s interval). The facts drawn from the
// recording are rendered as the README's table "What real clients send", and the README must
// contain every row: when a client changes, this test fails and prints the new table.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Socket, TCPSocketListener } from "bun";
import { describeUnless, needsPrograms } from "../helpers/skip.ts";
import {
  aria2Command,
  artifactsDir,
  childEnv,
  exitWithin,
  freePorts,
  IN_CI,
  makeTorrent,
  missingTools,
  Processes,
  ROOT,
  randomFile,
  requireTools,
  transmissionCommand,
  versionLine,
  waitFor,
} from "./support.ts";

// CI installs the clients, so there a missing one fails the suite (requireTools) instead.
const describeWithClients = describeUnless(
  IN_CI || missingTools().length === 0,
  needsPrograms(missingTools()),
);
const PAYLOAD_SIZE = 1024 * 1024;
const INTERVAL = 2;

/** One request as it arrived on the socket. */
interface Recorded {
  /** Which client: the passkey segment of the path names it. */
  client: string;
  /** Connection number, in order of opening. */
  connection: number;
  method: string;
  version: string;
  kind: "announce" | "scrape" | "other";
  /** Header names and values in the order sent. */
  headers: [string, string][];
  /** Query parameters, names and raw (still percent-encoded) values, in the order sent. */
  params: [string, string][];
  head: string;
}

/** Percent-decodes a raw query value to bytes (`+` stays a plus). */
function bytesOf(raw: string): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < raw.length; i++) {
    if (raw[i] === "%") {
      out.push(Number.parseInt(raw.slice(i + 1, i + 3), 16));
      i += 2;
    } else out.push(raw.charCodeAt(i));
  }
  return new Uint8Array(out);
}

/**
 * A tracker that records every request and answers announces the way Fairywren does: compact peers
 * of the swarm (a seeder gets leechers only), `complete`, `incomplete` and `downloaded` counts,
 * `interval` and `min interval`.
 */
function recordingTracker(passkeys: Map<string, string>) {
  const requests: Recorded[] = [];
  const swarm = new Map<number, { seeder: boolean }>();
  let connections = 0;
  let snatches = 0;

  function answer(record: Recorded): Uint8Array {
    if (record.kind === "scrape") return new TextEncoder().encode("d5:filesdee");
    if (record.kind !== "announce") return new TextEncoder().encode("d14:failure reason9:not founde");
    const param = (name: string) => record.params.find(([n]) => n === name)?.[1];
    const port = Number(param("port"));
    const seeder = param("left") === "0";
    if (param("event") === "completed") snatches++;
    if (param("event") === "stopped") swarm.delete(port);
    else swarm.set(port, { seeder });
    const others = [...swarm].filter(([p, peer]) => p !== port && !(seeder && peer.seeder));
    const peers = new Uint8Array(6 * others.length);
    others.forEach(([p], i) => {
      peers.set([127, 0, 0, 1, p >> 8, p & 0xff], i * 6);
    });
    const complete = [...swarm.values()].filter((peer) => peer.seeder).length;
    const head = `d8:completei${complete}e10:downloadedi${snatches}e10:incompletei${swarm.size - complete}e8:intervali${INTERVAL}e12:min intervali${INTERVAL}e5:peers${peers.length}:`;
    return new Uint8Array([...new TextEncoder().encode(head), ...peers, 0x65]);
  }

  function parse(head: string, connection: number): Recorded {
    const [requestLine = "", ...lines] = head.split("\r\n");
    const [method = "", target = "", version = ""] = requestLine.split(" ");
    const [path = "", query = ""] = target.split("?");
    const segments = path.split("/");
    const last = segments.at(-1);
    return {
      client: passkeys.get(segments[1] ?? "") ?? "unknown",
      connection,
      method,
      version,
      kind: last === "announce" ? "announce" : last === "scrape" ? "scrape" : "other",
      headers: lines.map((line) => {
        const colon = line.indexOf(":");
        return [line.slice(0, colon), line.slice(colon + 1).trim()] as [string, string];
      }),
      params: query
        .split("&")
        .filter(Boolean)
        .map((pair) => {
          const eq = pair.indexOf("=");
          return (eq < 0 ? [pair, ""] : [pair.slice(0, eq), pair.slice(eq + 1)]) as [string, string];
        }),
      head,
    };
  }

  type State = { buffer: string; connection: number; pending: Uint8Array | null };
  const listener: TCPSocketListener<State> = Bun.listen<State>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open(socket) {
        socket.data = { buffer: "", connection: ++connections, pending: null };
      },
      data(socket: Socket<State>, chunk) {
        const state = socket.data;
        state.buffer += Buffer.from(chunk).toString("latin1");
        for (let end = state.buffer.indexOf("\r\n\r\n"); end >= 0; end = state.buffer.indexOf("\r\n\r\n")) {
          const record = parse(state.buffer.slice(0, end), state.connection);
          state.buffer = state.buffer.slice(end + 4);
          requests.push(record);
          const body = answer(record);
          const close =
            record.version === "HTTP/1.0" ||
            record.headers.some(([n, v]) => n.toLowerCase() === "connection" && /close/i.test(v));
          const head = `HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\n${close ? "Connection: close\r\n" : ""}\r\n`;
          const reply = new Uint8Array([...new TextEncoder().encode(head), ...body]);
          const written = socket.write(reply);
          if (written < reply.length) state.pending = reply.subarray(Math.max(written, 0));
          if (close) socket.end();
        }
      },
      drain(socket) {
        const pending = socket.data.pending;
        if (!pending) return;
        const written = socket.write(pending);
        socket.data.pending = written < pending.length ? pending.subarray(Math.max(written, 0)) : null;
      },
    },
  });
  return { requests, port: listener.port, stop: () => listener.stop(true) };
}

/** The facts about one client, as the README's table shows them. */
type Facts = Record<string, string>;

function describeClient(version: string, requests: Recorded[], exitNote: string): Facts {
  const announces = requests.filter((r) => r.kind === "announce");
  const first = announces[0]!;
  const header = (r: Recorded, name: string) =>
    r.headers.find(([n]) => n.toLowerCase() === name.toLowerCase())?.[1];
  const param = (r: Recorded, name: string) => r.params.find(([n]) => n === name)?.[1];
  const distinct = (values: (string | undefined)[]) =>
    [...new Set(values)].map((v) => (v === undefined ? "not sent" : v)).join(", ");
  const event = (r: Recorded) => param(r, "event") ?? "";

  const peerId = bytesOf(param(first, "peer_id")!);
  const prefixEnd = Buffer.from(peerId.subarray(0, 10)).lastIndexOf("-") + 1;
  const prefix = Buffer.from(peerId.subarray(0, prefixEnd)).toString("latin1");
  const rest = Buffer.from(peerId.subarray(prefixEnd)).toString("latin1");
  const restText = /^[0-9a-z]+$/.test(rest) ? `${rest.length} of [0-9a-z]` : `${rest.length} random bytes`;

  const key = param(first, "key") ?? "";
  const keys = new Set(announces.map((r) => param(r, "key")));
  let keyText = `other: ${key}`;
  if (/^[0-9a-f]{1,8}$/.test(key)) keyText = "up to 8 hex digits";
  else if (Buffer.from(bytesOf(key)).equals(Buffer.from(peerId.subarray(12))))
    keyText = "8 bytes: the last 8 of the peer_id";
  keyText += keys.size === 1 ? ", the same in every announce" : ", changing";

  const escapes = announces.flatMap(
    (r) => `${param(r, "info_hash")}${param(r, "peer_id")}`.match(/%../g) ?? [],
  );
  const lower = escapes.some((e) => /[a-f]/.test(e));
  const upper = escapes.some((e) => /[A-F]/.test(e));
  const escaping = lower && upper ? "mixed-case" : lower ? "lowercase" : upper ? "uppercase" : "no";

  const started = announces.find((r) => event(r) === "started") ?? first;
  const perConnection = new Map<number, number>();
  for (const r of requests) perConnection.set(r.connection, (perConnection.get(r.connection) ?? 0) + 1);
  const counts = [...perConnection.values()];
  const reuse = counts.every((n) => n === 1)
    ? "a new connection for every request"
    : counts.length === 1
      ? "one connection, kept open for every request"
      : "connections kept open and reused";

  // From the first `started` on: what a client sends before it (Transmission sometimes announces
  // `stopped` first, after checking data on disk) depends on timing, and the prose covers it.
  const session = announces.slice(Math.max(0, announces.indexOf(started)));
  const events: string[] = [];
  for (const r of session) {
    const name = event(r) || "(none)";
    if (!events.includes(name)) events.push(name);
  }
  const stoppedNumwant = session.filter((r) => event(r) === "stopped").map((r) => param(r, "numwant"));
  const otherNumwant = session.filter((r) => event(r) !== "stopped").map((r) => param(r, "numwant"));
  const addresses = ["ip", "ipv4", "ipv6"].filter((name) =>
    announces.some((r) => param(r, name) !== undefined),
  );
  const crypto = ["supportcrypto", "requirecrypto", "cryptoport"]
    .filter((name) => announces.some((r) => param(r, name) !== undefined))
    .map((name) => `${name}=${distinct(announces.map((r) => param(r, name)))}`);
  const scrapes = requests.filter((r) => r.kind === "scrape").length;

  return {
    version: `\`${version}\``,
    "User-Agent": `\`${distinct(requests.map((r) => header(r, "user-agent")))}\``,
    "request line": `${distinct(requests.map((r) => r.method))}, ${distinct(requests.map((r) => r.version))}`,
    "headers, in order": first.headers.map(([n]) => n).join(", "),
    "other header values": first.headers
      .filter(([n]) => !["host", "user-agent"].includes(n.toLowerCase()))
      .map(([n, v]) => `${n}: \`${v}\``)
      .join("; "),
    "`Connection` header": distinct(requests.map((r) => header(r, "connection"))),
    connections: reuse,
    peer_id: `\`${prefix}\` + ${restText}`,
    "parameters, in order (with `event=started`)": started.params.map(([n]) => n).join(", "),
    "percent-encoding": `${escaping} hex; unreserved bytes sent as they are`,
    compact: distinct(announces.map((r) => param(r, "compact"))),
    no_peer_id: distinct(announces.map((r) => param(r, "no_peer_id"))),
    numwant: `${distinct(otherNumwant)}${stoppedNumwant.length ? `; ${distinct(stoppedNumwant)} with \`stopped\`` : ""}`,
    key: keyText,
    "ip / ipv6": addresses.length ? addresses.join(", ") : "not sent",
    encryption: crypto.length ? crypto.join(", ") : "not mentioned",
    "`event` values, in order seen (from `started`)": events.join(", "),
    "`stopped` on exit": exitNote,
    scrape: scrapes ? `${scrapes} scrape request(s)` : "none",
  };
}

/** The README table for both clients. */
function renderTable(transmission: Facts, aria2: Facts): string[] {
  const rows = ["| | transmission-cli (seeding) | aria2c (leeching, then seeding) |", "| --- | --- | --- |"];
  for (const name of Object.keys(transmission))
    rows.push(`| ${name} | ${transmission[name] || "—"} | ${aria2[name] || "—"} |`);
  return rows;
}

describeWithClients("what real clients send to a tracker", () => {
  let logs = "";
  let work = "";
  let procs: Processes;
  let tracker: ReturnType<typeof recordingTracker>;
  const facts: { transmission?: Facts; aria2?: Facts } = {};

  beforeAll(() => {
    logs = artifactsDir("clients");
    procs = new Processes(logs);
    work = mkdtempSync(join(tmpdir(), "fw-e2e-clients-"));
    requireTools();
  });

  afterAll(async () => {
    tracker?.stop();
    await procs?.dispose();
    if (work) rmSync(work, { recursive: true, force: true });
  }, 30_000);

  test("transmission-cli and aria2c announce; the recording is summarised", async () => {
    const home = join(work, "home");
    const seedDir = join(work, "seed");
    const leechDir = join(work, "leech");
    for (const dir of [home, seedDir, leechDir]) mkdirSync(dir);
    const passkeys = new Map([
      ["0123456789abcdef0123456789abcdef", "transmission"],
      ["fedcba9876543210fedcba9876543210", "aria2"],
    ]);
    tracker = recordingTracker(passkeys);
    const url = (passkey: string) => `http://127.0.0.1:${tracker.port}/${passkey}/announce`;
    const [trPassKey, ariaPasskey] = [...passkeys.keys()] as [string, string];
    randomFile(join(seedDir, "payload.bin"), PAYLOAD_SIZE);
    // Two .torrent files with the same info (so one info hash), each naming its client's passkey.
    await makeTorrent(join(seedDir, "payload.bin"), url(trPassKey), join(work, "transmission.torrent"));
    await makeTorrent(join(seedDir, "payload.bin"), url(ariaPasskey), join(work, "aria2.torrent"));
    const [trPort, ariaPort] = (await freePorts(2)) as [number, number];

    const transmission = procs.spawn(
      "transmission",
      transmissionCommand({
        torrent: join(work, "transmission.torrent"),
        dir: seedDir,
        configDir: join(work, "transmission-config"),
        port: trPort,
      }),
      { cwd: work, env: childEnv(home) },
    );
    const aria2 = procs.spawn(
      "aria2c",
      aria2Command({
        torrent: join(work, "aria2.torrent"),
        dir: leechDir,
        port: ariaPort,
        log: join(logs, "aria2c.log"),
        seedMinutes: 0.05,
        // 4 s for the whole payload: a regular re-announce happens on the way.
        downloadLimit: "256K",
      }),
      { cwd: work, env: childEnv(home) },
    );
    const of = (client: string) => tracker.requests.filter((r) => r.client === client);
    // aria2c downloads, announces `completed`, seeds for 3 s and leaves on its own.
    const exited = await waitFor("aria2c to finish and exit", 60_000, async () => {
      const code = await exitWithin(aria2, 100);
      return code === null ? null : { code };
    });
    expect(exited.code).toBe(0);
    await waitFor("transmission's regular re-announce", 20_000, () =>
      of("transmission").some((r) => r.kind === "announce" && !r.params.some(([n]) => n === "event")),
    );
    // Transmission is stopped the way a person stops it: Ctrl-C (SIGINT), once.
    expect(await procs.stop(transmission, "SIGINT", 15_000)).toBe(0);
    expect(readFileSync(join(leechDir, "payload.bin"))).toEqual(readFileSync(join(seedDir, "payload.bin")));

    writeFileSync(
      join(logs, "requests.txt"),
      tracker.requests.map((r) => `[${r.client}, connection ${r.connection}]\n${r.head}\n`).join("\n"),
    );
    const last = (client: string) =>
      of(client)
        .filter((r) => r.kind === "announce")
        .at(-1);
    const lastEvent = (client: string) => last(client)?.params.find(([n]) => n === "event")?.[1];
    facts.transmission = describeClient(
      await versionLine(["transmission-cli", "--version"]),
      of("transmission"),
      lastEvent("transmission") === "stopped" ? "sent on Ctrl-C (SIGINT)" : "not sent on Ctrl-C (SIGINT)",
    );
    facts.aria2 = describeClient(
      await versionLine(["aria2c", "--version"]),
      of("aria2"),
      lastEvent("aria2") === "stopped" ? "sent when `--seed-time` ends" : "not sent when `--seed-time` ends",
    );
    const table = renderTable(facts.transmission, facts.aria2);
    writeFileSync(join(logs, "facts.md"), `${table.join("\n")}\n`);

    const readme = readFileSync(join(ROOT, "README.md"), "utf8").replace(/ +/g, " ");
    // The formatter pads the separator row's dashes to the column widths: it is not compared.
    const missing = table.filter(
      (row) => !/^[|:\s-]+$/.test(row) && !readme.includes(row.replace(/ +/g, " ")),
    );
    if (missing.length)
      throw new Error(
        `README.md's "What real clients send" no longer matches the clients. Rows not found:\n${missing.join("\n")}\n\nThe table as recorded now (also in artifacts/e2e/clients/facts.md):\n${table.join("\n")}`,
      );
  }, 120_000);
});
