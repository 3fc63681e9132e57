// Hostile traffic against the real running process over sockets: the tracker's port with raw and
// random request lines, overlong URLs and headers, every method and garbage paths; the web port with
// the same and with oversized and malformed bodies. Nothing may answer 5xx, crash or hang, the next
// request must still work, and the swarm, the credit and the database stay as they were.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { connect } from "node:net";
import { createUser } from "../../src/db/queries/users.ts";
import { hashPassword, resolvePepper } from "../../src/shared/secrets.ts";
import { parseAnnounce } from "../../src/tracker/protocol/query.ts";
import { csrfToken } from "../../src/web/context.tsx";
import { announceQuery, bytes20 } from "../helpers/announce.ts";
import { startTestServer } from "../helpers/server.ts";
import { decodeReply, failureReason } from "./bencode.ts";
import { escapeAll, leak, type Rng, seeded } from "./fuzz.ts";

let server: Awaited<ReturnType<typeof startTestServer>>;
let passkey: string;
let userId: number;
let site: { cookie: string; csrf: string };
const HASH = bytes20(0x31, 0xc3);
const SEEDER = bytes20(1, 0x2d);
const LEECHER = bytes20(2, 0x2d);
const MALFORMED = "Malformed request: ";

// ---------------------------------------------------------------------------------------------
// A raw HTTP/1.1 client: sends exactly the bytes given, reads until the server closes.

interface RawResponse {
  /** Null when the server closed the connection without an answer (or we gave up waiting). */
  status: number | null;
  head: string;
  body: Buffer;
}

function raw(port: number, request: Uint8Array | string, timeoutMs = 3000): Promise<RawResponse> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const socket = connect({ host: "127.0.0.1", port });
    const finish = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(parseResponse(Buffer.concat(chunks)));
    };
    const timer = setTimeout(finish, timeoutMs);
    socket.on("connect", () => {
      socket.write(typeof request === "string" ? Buffer.from(request, "latin1") : request);
    });
    socket.on("data", (chunk: Buffer) => {
      chunks.push(chunk);
      // One answer is all we ask for: stop once it is complete.
      const parsed = parseResponse(Buffer.concat(chunks), true);
      if (parsed.status !== null) finish();
    });
    socket.on("error", () => {});
    socket.on("close", finish);
  });
}

/** Parses one response; with `complete`, status stays null until the whole body has arrived. */
function parseResponse(bytes: Buffer, complete = false): RawResponse {
  const end = bytes.indexOf("\r\n\r\n");
  if (end < 0) return { status: null, head: bytes.toString("latin1"), body: Buffer.alloc(0) };
  const head = bytes.subarray(0, end).toString("latin1");
  const match = /^HTTP\/1\.[01] (\d{3})/.exec(head);
  let body = bytes.subarray(end + 4);
  const length = /\r\ncontent-length: *(\d+)/i.exec(head);
  if (/\r\ntransfer-encoding: *chunked/i.test(head)) {
    const out: Buffer[] = [];
    let at = 0;
    let done = false;
    while (at < body.length) {
      const line = body.indexOf("\r\n", at);
      if (line < 0) break;
      const size = Number.parseInt(body.subarray(at, line).toString(), 16);
      if (size === 0) {
        done = true;
        break;
      }
      if (line + 2 + size > body.length) break;
      out.push(body.subarray(line + 2, line + 2 + size));
      at = line + 2 + size + 2;
    }
    if (complete && !done) return { status: null, head, body: Buffer.alloc(0) };
    body = Buffer.concat(out);
  } else if (length) {
    if (complete && body.length < Number(length[1])) return { status: null, head, body: Buffer.alloc(0) };
    body = body.subarray(0, Number(length[1]));
  } else if (
    complete &&
    !/^HTTP\/1\.[01] (1\d\d|204|304)/.test(head) &&
    !/\r\nconnection: *close/i.test(head)
  ) {
    // No length and no chunking: the body ends when the server closes.
    return { status: null, head, body: Buffer.alloc(0) };
  }
  return { status: match ? Number(match[1]) : null, head, body };
}

function trackerPort(): number {
  return server.running.trackerPort;
}

function webPort(): number {
  return server.running.webPort;
}

/** A request line and headers, with Connection: close. */
function request(method: string, target: string, headers: Record<string, string> = {}, body = ""): string {
  const lines = [`${method} ${target} HTTP/1.1`, "Host: 127.0.0.1", "Connection: close"];
  for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
  if (body) lines.push(`Content-Length: ${Buffer.byteLength(body, "latin1")}`);
  return `${lines.join("\r\n")}\r\n\r\n${body}`;
}

// ---------------------------------------------------------------------------------------------

/** The seeder's announce, always with the same counters so that a repeat earns no credit. */
function seederQuery(extra?: string): string {
  return announceQuery({ infoHash: HASH, peerId: SEEDER, left: 0, uploaded: 100, downloaded: 100, extra });
}

async function announce(peerId: Uint8Array, left: number, event?: string) {
  const response = await fetch(
    `${server.tracker}/${passkey}/announce?${announceQuery({ infoHash: HASH, peerId, left, event, uploaded: 100, downloaded: 100 })}`,
  );
  return decodeReply(new Uint8Array(await response.arrayBuffer()));
}

/** Seeders, leechers and snatches of the test torrent, from a scrape. */
async function counts(): Promise<string> {
  const response = await fetch(`${server.tracker}/${passkey}/scrape?info_hash=${escapeAll(HASH)}`);
  expect(response.status).toBe(200);
  const files = decodeReply(new Uint8Array(await response.arrayBuffer())).get("files") as Map<
    string,
    Map<string, number>
  >;
  const entry = [...files.values()][0]!;
  return `${entry.get("complete")}/${entry.get("incomplete")}/${entry.get("downloaded")}`;
}

/** Credit and rows in the database. */
async function database(): Promise<string> {
  const sql = server.running.db.sql;
  const [row] = await sql`
    select
      (select count(*) from users)::int as users,
      (select count(*) from torrents)::int as torrents,
      (select count(*) from sessions)::int as sessions,
      (select count(*) from invites)::int as invites,
      (select coalesce(sum(uploaded), 0)::text || '/' || coalesce(sum(downloaded), 0)::text from users) as totals,
      (select count(*) from user_torrent_stats)::int as stats
  `;
  return JSON.stringify(row);
}

/** The tracker and the site still answer normal requests. */
async function stillWorks() {
  const reply = await announce(SEEDER, 0);
  expect(failureReason(reply)).toBeNull();
  expect((await fetch(`${server.web}/health`)).status).toBe(200);
  expect((await fetch(`${server.tracker}/health`)).status).toBe(200);
}

/**
 * The checks for one tracker answer. Returns a problem, or null. With `brokenLine` (a request line
 * that is not HTTP: spaces or control characters in the target, an unknown version), Bun's own
 * parser answers before the app sees anything, with 400 or 505 (HTTP Version Not Supported).
 */
function trackerProblem(response: RawResponse, brokenLine = false): string | null {
  if (response.status === null) return null; // refused at the socket: allowed, as long as it stays up
  if (brokenLine && (response.status === 400 || response.status === 505)) return null;
  if (response.status >= 500) return `HTTP ${response.status}`;
  const text = response.body.toString("latin1");
  const leaked = leak(text);
  if (leaked) return `leaks ${leaked}`;
  if ([200, 404, 405].includes(response.status) && response.body.length > 0) {
    try {
      const reply = decodeReply(new Uint8Array(response.body));
      const reason = failureReason(reply);
      if (reason === null && !reply.has("interval") && !reply.has("files") && text !== '{"status":"ok"}')
        return "a reply that is neither a failure nor an announce or scrape answer";
    } catch (error) {
      if (text !== '{"status":"ok"}') return `body does not decode: ${(error as Error).message}`;
    }
  }
  return null;
}

let before: { counts: string; database: string };

beforeAll(async () => {
  server = await startTestServer({ FAIRYWREN_MIN_ANNOUNCE_INTERVAL: "0", FAIRYWREN_LOG_LEVEL: "error" });
  const sql = server.running.db.sql;
  const { user } = await createUser(sql, { name: "hostile_peer", passwordHash: "x" });
  await server.running.sync.user(user.id);
  userId = user.id;
  passkey = ((await sql`select passkey from users where id = ${user.id}`)[0] as { passkey: string }).passkey;
  const [row] = await sql`
    insert into torrents (info_hash, title, size, files, metainfo)
    values (${Buffer.from(HASH)}, 'Hostile', 1000, '[]', ${Buffer.from("de")})
    returning id
  `;
  await server.running.sync.torrent(row!.id);
  // One seeder and one leecher, both with a first report; their credit starts here.
  expect(failureReason(await announce(SEEDER, 0, "started"))).toBeNull();
  expect(failureReason(await announce(LEECHER, 500, "started"))).toBeNull();
  // A member of the site with the upload role, logged in over HTTP.
  const pepper = resolvePepper(server.config.salt, server.config.dataDir);
  await createUser(sql, {
    name: "site_uploader",
    passwordHash: await hashPassword("password123", pepper),
    roles: ["upload"],
  });
  const login = await fetch(`${server.web}/login`, {
    method: "POST",
    body: new URLSearchParams({ name: "site_uploader", password: "password123" }),
    headers: { origin: server.web },
    redirect: "manual",
  });
  expect(login.status).toBe(303);
  const cookie = login.headers.get("set-cookie")!.split(";")[0]!;
  site = { cookie, csrf: csrfToken(decodeURIComponent(cookie.split("=")[1]!)) };
  // The first announces' batch (their history row) reaches the database before the baseline.
  const deadline = Date.now() + 10_000;
  for (;;) {
    const [row] = await sql<{ n: number }[]>`
      select count(*)::int as n from user_torrent_stats where user_id = ${userId}
    `;
    if (row!.n > 0 && server.running.stats.pending.batches === 0) break;
    if (Date.now() > deadline) throw new Error("the first announces' batch never reached the database");
    await Bun.sleep(50);
  }
  before = { counts: await counts(), database: await database() };
  expect(before.counts).toBe("1/1/0");
});
afterAll(async () => {
  await server?.stop();
});

// ---------------------------------------------------------------------------------------------

describe("the tracker's port", () => {
  test(
    "random binary query strings over raw sockets (150 requests): bencoded answers or a refusal",
    seeded("server random queries", async ({ rng, note }) => {
      const problems: string[] = [];
      let acceptedByChance = 0;
      for (let i = 0; i < 150; i++) {
        const query = randomQuery(rng);
        const path = rng.pick([`/${passkey}/announce`, `/${passkey}/scrape`, `/${"0".repeat(32)}/announce`]);
        const bytes = Buffer.concat([
          Buffer.from(`GET ${path}?`),
          query,
          Buffer.from(" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
        ]);
        note(bytes);
        const response = await raw(trackerPort(), bytes);
        // Raw bytes outside printable ASCII make the request line invalid HTTP.
        const problem = trackerProblem(
          response,
          query.some((b) => b < 0x21 || b > 0x7e),
        );
        if (problem) problems.push(`${problem}: ${escapeAll(query.subarray(0, 100))}`);
        if (response.status === 200 && path.endsWith("/announce") && path.includes(passkey)) {
          const reason = failureReason(decodeReply(new Uint8Array(response.body)));
          // A random query accepted as an announce must really be one: the pure parser agrees,
          // and it names the registered torrent. (Rare draws mutate the valid template harmlessly.)
          if (reason === null) {
            const parsed = parseAnnounce(query.toString("latin1"), { numwantDefault: 50, numwantMax: 100 });
            if ("error" in parsed)
              problems.push(`accepted a malformed announce: ${escapeAll(query.subarray(0, 100))}`);
            else acceptedByChance++;
          }
        }
      }
      expect(problems).toEqual([]);
      await stillWorks();
      // A valid announce drawn by chance adds its peer (never credit: it is a first announce).
      if (acceptedByChance > 0) before.counts = await counts();
      expect(await counts()).toBe(before.counts);
    }),
  );

  test("hostile but well-formed queries through fetch: malformed ones are named, nothing changes", async () => {
    const base = announceQuery({ infoHash: HASH, peerId: bytes20(9, 0x2d) });
    const cases = [
      `${base.replace("port=6881", "port=-1")}`,
      `${base.replace("port=6881", "port=1e400")}`,
      `${base.replace("port=6881", "port=NaN")}`,
      `${base.replace("uploaded=0", "uploaded=99999999999999999999")}`,
      `${base.replace("left=1000", "left=Infinity")}`,
      `${base.replace("left=1000", "left=-5")}`,
      `${base}&event=bogus`,
      `${base}&numwant=-1`,
      `${base}&key=${"k".repeat(300)}`,
      base.replace(/info_hash=[^&]*/, "info_hash=%zz"),
      base.replace(/peer_id=[^&]*/, "peer_id=short"),
      `&&&=&==&${base.replace(/info_hash=[^&]*/, "info_hash=")}`,
      `${base}&pad=${"x".repeat(9000)}`,
    ];
    for (const query of cases) {
      const response = await fetch(`${server.tracker}/${passkey}/announce?${query}`);
      expect(response.status).toBe(200);
      const reason = failureReason(decodeReply(new Uint8Array(await response.arrayBuffer())));
      expect(reason).toStartWith(MALFORMED);
    }
    // numwant beyond any number is clamped, not refused.
    const huge = await fetch(
      `${server.tracker}/${passkey}/announce?${seederQuery("numwant=99999999999999999999")}`,
    );
    expect(failureReason(decodeReply(new Uint8Array(await huge.arrayBuffer())))).toBeNull();
    expect(await counts()).toBe(before.counts);
  });

  test("a scrape with 1000 info hashes gets a clear failure", async () => {
    // Escaped, 1000 hashes make a 71 KB URL: Bun may refuse it itself (431) before the tracker sees it.
    const query = Array.from(
      { length: 1000 },
      (_, i) => `info_hash=${escapeAll(bytes20(i & 255, i >> 8))}`,
    ).join("&");
    const response = await fetch(`${server.tracker}/${passkey}/scrape?${query}`);
    if (response.status !== 431) {
      expect(response.status).toBe(200);
      expect(failureReason(decodeReply(new Uint8Array(await response.arrayBuffer())))).toStartWith(MALFORMED);
    }
    // Bun refuses request heads over 16 KiB; 400 unescaped hashes (12 KB) reach the tracker.
    const rawHashes = Array.from({ length: 400 }, () => `info_hash=${"h".repeat(20)}`).join("&");
    const refused = await fetch(`${server.tracker}/${passkey}/scrape?${rawHashes}`);
    expect(refused.status).toBe(200);
    expect(failureReason(decodeReply(new Uint8Array(await refused.arrayBuffer())))).toStartWith(MALFORMED);
    const short = Array.from({ length: 150 }, () => `info_hash=${escapeAll(HASH)}`).join("&");
    const many = await fetch(`${server.tracker}/${passkey}/scrape?${short}`);
    expect(failureReason(decodeReply(new Uint8Array(await many.arrayBuffer())))).toContain("at most");
  });

  test("a 64 KiB URL, a 1 MiB URL and a 100 KiB header: refused or answered, and the next request works", async () => {
    const problems: string[] = [];
    const huge = [
      request("GET", `/${passkey}/announce?${"a".repeat(64 * 1024)}`),
      request(
        "GET",
        `/${passkey}/announce?${announceQuery({ infoHash: HASH, peerId: SEEDER })}&x=${"%41".repeat(350_000)}`,
      ),
      request("GET", `/${passkey}/scrape?${`info_hash=${escapeAll(HASH)}&`.repeat(17_000)}`),
      request("GET", `/${passkey}/announce?x=1`, { "X-Big": "b".repeat(100 * 1024) }),
      request(
        "GET",
        `/${passkey}/announce?x=1`,
        Object.fromEntries(Array.from({ length: 2000 }, (_, i) => [`X-H${i}`, "v".repeat(50)])),
      ),
      request("GET", `/${"p".repeat(100_000)}/announce`),
    ];
    for (const text of huge) {
      const response = await raw(trackerPort(), text, 10_000);
      const problem = trackerProblem(response);
      if (problem) problems.push(`${problem}: ${text.slice(0, 80)}`);
      await stillWorks();
    }
    expect(problems).toEqual([]);
    expect(await counts()).toBe(before.counts);
  });

  test("every method on announce, scrape and elsewhere: 405 or 404 with a bencoded reason", async () => {
    const problems: string[] = [];
    for (const method of [
      "POST",
      "PUT",
      "DELETE",
      "PATCH",
      "OPTIONS",
      "HEAD",
      "TRACE",
      "FOO",
      "CONNECT",
      "PROPFIND",
    ]) {
      for (const path of [
        `/${passkey}/announce?${seederQuery("event=stopped")}`,
        `/${passkey}/scrape`,
        "/x/y",
        "/health",
      ]) {
        const response = await raw(
          trackerPort(),
          request(method, path, {}, method === "POST" || method === "PUT" ? "x=1" : ""),
        );
        const problem = trackerProblem(response);
        if (problem) problems.push(`${method} ${path}: ${problem}`);
        if (response.status === 200 && path.includes("announce"))
          problems.push(`${method} ${path}: answered as an announce`);
      }
    }
    expect(problems).toEqual([]);
    // The stopped event above was sent with other methods only: both peers are still there.
    expect(await counts()).toBe(before.counts);
  });

  test("garbage paths and request lines: never a 5xx, the tracker keeps answering", async () => {
    const problems: string[] = [];
    const targets: (string | Buffer)[] = [
      "/../../etc/passwd",
      "/%2e%2e/%2e%2e/etc/passwd",
      `/${passkey}/../announce`,
      "/%00/announce",
      `/${passkey}%00/announce`,
      `/${passkey}/announce%00`,
      `/${passkey}/ANNOUNCE`,
      `/${passkey}/announce/`,
      "//announce",
      "/announce",
      "/scrape",
      `/${passkey}//announce`,
      `/a/b/c/${passkey}/announce`,
      "*",
      "http://evil.example/x/announce",
      `http://evil.example/${passkey}/announce?${seederQuery()}`,
      `/${"é".repeat(20)}/announce`,
      Buffer.from([0x2f, 0xff, 0xfe, 0x00, 0x2f, 0x61, 0x6e, 0x6e, 0x6f, 0x75, 0x6e, 0x63, 0x65]),
      `/${passkey}/announce?${"\u0001\u007f"}`,
      "",
      "/ /announce",
      `/${passkey}/announce#frag`,
    ];
    for (const target of targets) {
      const bytes = typeof target === "string" ? Buffer.from(target, "utf8") : target;
      const line = Buffer.concat([
        Buffer.from("GET "),
        bytes,
        Buffer.from(" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
      ]);
      const brokenLine = /[\s\x00-\x1f\x7f]/.test(bytes.toString("latin1"));
      const problem = trackerProblem(await raw(trackerPort(), line), brokenLine);
      if (problem) problems.push(`${String(target).slice(0, 60)}: ${problem}`);
    }
    // Broken request lines and framing.
    for (const text of [
      "GARBAGE\r\n\r\n",
      "GET\r\n\r\n",
      "GET / HTTP/9.9\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\n",
      "\r\n\r\n\r\n",
      "\u0000\u0000\u0000\u0000",
      `GET /${passkey}/announce HTTP/1.1\r\nHost: x\r\nX: a\u0000b\r\n\r\n`,
    ]) {
      const problem = trackerProblem(await raw(trackerPort(), text, 1500), true);
      if (problem) problems.push(`${JSON.stringify(text)}: ${problem}`);
    }
    expect(problems).toEqual([]);
    await stillWorks();
    expect(await counts()).toBe(before.counts);
  });
});

describe("the web port", () => {
  test("a 20 MiB upload gets 413 or a closed connection, a clear refusal, and the site keeps working", async () => {
    const sessionsBefore = await database();
    const form = new FormData();
    form.set("_csrf", site.csrf);
    form.set("file", new File([new Uint8Array(20 * 1024 * 1024).fill(0x64)], "big.torrent"));
    let status: number | null = null;
    try {
      const response = await fetch(`${server.web}/upload`, {
        method: "POST",
        body: form,
        headers: { cookie: site.cookie, origin: server.web },
        redirect: "manual",
      });
      status = response.status;
      await response.arrayBuffer();
    } catch {
      // The server may close the connection once the body is past its limit.
    }
    if (status !== null) expect(status).toBe(413);
    // Just under the body limit, past the upload limit: the site's own message.
    const form2 = new FormData();
    form2.set("_csrf", site.csrf);
    form2.set(
      "file",
      new File([new Uint8Array(server.config.webapi.maxTorrentBytes + 1000).fill(0x64)], "big.torrent"),
    );
    const response = await fetch(`${server.web}/upload`, {
      method: "POST",
      body: form2,
      headers: { cookie: site.cookie, origin: server.web },
      redirect: "manual",
    });
    expect(response.status).toBe(413);
    expect(await response.text()).toContain("larger than");
    expect(await database()).toBe(sessionsBefore);
    await stillWorks();
  });

  test("overlong URLs and headers, garbage paths and framing: never a 5xx or a leak", async () => {
    const problems: string[] = [];
    const check = (label: string, response: RawResponse) => {
      if (response.status !== null && response.status >= 500)
        problems.push(`${label}: HTTP ${response.status}`);
      const leaked = leak(response.body.toString("latin1"));
      if (leaked) problems.push(`${label}: leaks ${leaked}`);
    };
    const texts: [string, string][] = [
      ["64 KiB URL", request("GET", `/torrents?q=${"a".repeat(64 * 1024)}`)],
      ["1 MiB URL", request("GET", `/torrents?q=${"a".repeat(1024 * 1024)}`)],
      ["100 KiB header", request("GET", "/login", { "X-Big": "b".repeat(100 * 1024) })],
      ["100 KiB cookie", request("GET", "/torrents", { Cookie: `fw_session=${"c".repeat(100 * 1024)}` })],
      ["bad cookie", request("GET", "/torrents", { Cookie: "fw_session=%FF%00; fw_session=x; =;;" })],
      ["traversal", request("GET", "/static/../../package.json")],
      ["encoded traversal", request("GET", "/static/%2e%2e/%2e%2e/package.json")],
      ["NUL path", request("GET", "/torrents/%00")],
      ["bad escape path", request("GET", "/register/%FF")],
      ["unicode path", request("GET", "/t\u00f6rrents")],
      ["absolute form", request("GET", "http://evil.example/login")],
      ["asterisk", request("OPTIONS", "*")],
      [
        "lying length",
        "POST /login HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nname=a",
      ],
      [
        "bad chunks",
        "POST /login HTTP/1.1\r\nHost: x\r\nConnection: close\r\nTransfer-Encoding: chunked\r\nContent-Type: application/x-www-form-urlencoded\r\n\r\nZZZ\r\nname=a\r\n0\r\n\r\n",
      ],
      [
        "both lengths",
        "POST /login HTTP/1.1\r\nHost: x\r\nConnection: close\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n",
      ],
      [
        "invalid UTF-8 form",
        request(
          "POST",
          "/login",
          { "Content-Type": "application/x-www-form-urlencoded" },
          "name=\xff\xfe\xc3&password=\x80\x80\x80\x80\x80\x80\x80\x80",
        ),
      ],
      [
        "raw UTF-8 form",
        request(
          "POST",
          "/login",
          { "Content-Type": "application/x-www-form-urlencoded" },
          "name=\xc3\xa9\xc3&password=a\x00bcdefgh",
        ),
      ],
      ["no boundary", request("POST", "/login", { "Content-Type": "multipart/form-data" }, "--xx\r\n\r\n--")],
      [
        "JSON login",
        request("POST", "/login", { "Content-Type": "application/json" }, '{"name":["a"],"password":{}}'),
      ],
      [
        "deep JSON",
        request(
          "POST",
          "/login",
          { "Content-Type": "application/json" },
          `${"[".repeat(200_000)}${"]".repeat(200_000)}`,
        ),
      ],
      ["FOO method", request("FOO", "/login")],
      ["TRACE", request("TRACE", "/login")],
    ];
    for (const [label, text] of texts) {
      check(label, await raw(webPort(), text, label === "lying length" ? 1000 : 5000));
      expect((await fetch(`${server.web}/health`)).status).toBe(200);
    }
    expect(problems).toEqual([]);
  });

  test(
    "random bytes as form bodies over HTTP (60 requests): never a 5xx, nothing changes",
    seeded("server web bodies", async ({ rng, note }) => {
      const problems: string[] = [];
      const state = await database();
      for (let i = 0; i < 60; i++) {
        const path = rng.pick([
          "/login",
          "/upload",
          "/invites",
          "/account/password",
          "/account/passkey",
          "/torrents/1/edit",
          "/register/x",
        ]);
        const type = rng.pick([
          "application/x-www-form-urlencoded",
          "multipart/form-data",
          "multipart/form-data; boundary=zz",
          "application/json",
          "text/plain",
        ]);
        const body = rng.bytes(rng.pick([0, 10, 1000, 100_000]));
        // Logged in but without the CSRF token: nothing may change whatever the body.
        const headers: Record<string, string> = { "content-type": type, origin: server.web };
        if (rng.chance(0.5)) headers.cookie = site.cookie;
        note({ path, type, length: body.length, loggedIn: Boolean(headers.cookie) });
        try {
          const response = await fetch(`${server.web}${path}`, {
            method: "POST",
            body,
            headers,
            redirect: "manual",
          });
          const text = await response.text();
          if (response.status >= 500) problems.push(`${path} ${type}: HTTP ${response.status}`);
          if (leak(text)) problems.push(`${path} ${type}: leaks ${leak(text)}`);
        } catch (error) {
          problems.push(`${path} ${type}: ${(error as Error).message}`);
        }
      }
      expect(problems).toEqual([]);
      expect(await database()).toBe(state);
    }),
  );
});

describe("after all of it", () => {
  test("no credit, no peers and no 5xx came out of the hostile traffic", async () => {
    // Wait for the tracker's first metrics report made after the traffic ended (it reports every
    // 2 s, and sends credit more often): whatever it credited has been sent by then, and written
    // once the web side's queue is empty.
    const since = Date.now();
    const deadline = since + 10_000;
    while (server.running.metrics.trackerSeenAt <= since || server.running.stats.pending.batches > 0) {
      if (Date.now() > deadline) throw new Error("no metrics report from the tracker within 10 s");
      await Bun.sleep(50);
    }
    await server.running.stats.flush();
    expect(await counts()).toBe(before.counts);
    const [stats] = await server.running.db.sql`select uploaded, downloaded from users where id = ${userId}`;
    expect(JSON.parse(before.database).totals).toBe(`${stats!.uploaded}/${stats!.downloaded}`);
    const metrics = await (await fetch(`http://127.0.0.1:${server.running.metricsPort}/metrics`)).text();
    expect(metrics).not.toMatch(/fairywren_tracker_requests_total\{[^}]*outcome="internal"[^}]*\} [1-9]/);
    // The web side counts every answer by status class: none may be a 5xx.
    expect(metrics.match(/fairywren_web_request_seconds_count\{[^}]*status="5xx"[^}]*\} \d+/g) ?? []).toEqual(
      [],
    );
    // Two peers were set up; a valid announce drawn by chance (see above) adds one.
    const peers = before.counts.split("/").slice(0, 2).map(Number);
    expect(metrics).toMatch(new RegExp(`fairywren_peers ${peers[0]! + peers[1]!}\\b`));
    await stillWorks();
  });
});

/** A query string as raw bytes: random, percent soup, or a real announce with bytes broken. */
function randomQuery(rng: Rng): Buffer {
  switch (rng.int(5)) {
    case 0: {
      // Raw bytes, but no CR, LF or space, which would end the request line.
      const bytes = rng.bytes(rng.range(0, 400));
      for (let i = 0; i < bytes.length; i++)
        if (bytes[i] === 0x0d || bytes[i] === 0x0a || bytes[i] === 0x20) bytes[i] = 0x25;
      return Buffer.from(bytes);
    }
    case 1:
      return Buffer.from(
        Array.from({ length: rng.range(1, 80) }, () =>
          rng.pick(["%", "%%", "%FF", "%C3%28", "&", "=", "&&&", "info_hash=", "+", "%00", "%0D%0A"]),
        ).join(""),
      );
    case 2: {
      const good = Buffer.from(
        announceQuery({ infoHash: HASH, peerId: bytes20(rng.int(200) + 10, 0x2d), left: rng.int(2) }),
      );
      // Every change really changes a byte: an unchanged query would be a valid announce.
      for (let n = rng.range(1, 3); n > 0; n--) {
        const at = rng.int(good.length);
        const options = [0x25, 0x26, 0x3d, 0x80, 0xff, 0x00, 0x2b].filter((b) => b !== good[at]);
        good[at] = rng.pick(options);
      }
      return good;
    }
    case 3:
      return Buffer.from(escapeAll(rng.bytes(rng.range(0, 300))));
    default: {
      const q = announceQuery({ infoHash: rng.bytes(20), peerId: rng.bytes(20) });
      return Buffer.from(`${q}&${"&".repeat(rng.int(50))}${"=".repeat(rng.int(50))}`);
    }
  }
}
