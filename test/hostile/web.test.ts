// Hostile requests to every form of the web site (and the JSON API, when present), through
// `app.handle`: malformed, mistyped, oversized and mis-encoded bodies, hostile ids and paths. Never
// a 5xx, never a stack trace or a source path, a readable 4xx, and no change in the database when
// a request is refused.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createInvite } from "../../src/db/queries/invites.ts";
import { ALL_ROLES, nameProblem, passwordProblem } from "../../src/db/queries/users.ts";
import { parseTorrent } from "../../src/web/metainfo.ts";
import { webHarness } from "../helpers/web.ts";
import { buildInfo, content, torrentBytes } from "../web/metainfo/fixtures.ts";
import { type Body, encodeBody, hostileValue, pickFields } from "./bodies.ts";
import { type FuzzContext, leak, type Rng, seeded } from "./fuzz.ts";

type Harness = Awaited<ReturnType<typeof webHarness>>;
interface Session {
  id: number;
  name: string;
  password: string;
  cookie: string;
  csrf: string;
}

let web: Harness;
let admin: Session;
let uploader: Session;
let member: Session;
let targetId: number;
let torrentId: number;
let inviteSecret: string;

const PASSWORD = "password123";

async function session(name: string, roles: Parameters<Harness["member"]>[1]): Promise<Session> {
  const user = await web.member(name, roles, PASSWORD);
  const { cookie, csrf } = await web.login(name, PASSWORD);
  return { id: user.id, name, password: PASSWORD, cookie, csrf };
}

function validTorrent(name: string): Buffer {
  const { info } = buildInfo({
    kind: "v1",
    name,
    files: [{ path: [], data: content(40000, name.length + 7) }],
  });
  return torrentBytes(info);
}

beforeAll(async () => {
  // Comments are throttled per minute: high enough here for the fuzzing to reach past it.
  web = await webHarness({ FAIRYWREN_SITE_NAME: "Wren", FAIRYWREN_COMMENTS_PER_MINUTE: "1000" });
  admin = await session("root_admin", []);
  uploader = await session("up_loader", ["upload"]);
  member = await session("plain_member", []);
  targetId = (await web.member("role_target", [])).id;
  const form = new FormData();
  form.set("_csrf", uploader.csrf);
  form.set("file", new File([new Uint8Array(validTorrent("Hostile target"))], "x.torrent"));
  const response = await web.request("/upload", { cookie: uploader.cookie, form });
  expect(response.status).toBe(303);
  torrentId = Number(/torrents\/(\d+)/.exec(response.headers.get("location")!)![1]);
  inviteSecret = (await createInvite(web.db.sql, { inviterId: admin.id, days: 7 })).secret;
});
afterAll(async () => {
  await web?.close();
});

// ---------------------------------------------------------------------------------------------

interface Sent {
  status: number;
  text: string;
  type: string;
  location: string | null;
}

async function send(
  path: string,
  init: {
    method?: string;
    body?: Body | null;
    as?: Session | null;
    csrf?: "good" | "bad" | "none";
    headers?: Record<string, string>;
    ip?: string;
  } = {},
): Promise<Sent> {
  const headers = new Headers(init.headers);
  headers.set("host", "site.test");
  headers.set("x-fairywren-ip", init.ip ?? "192.0.2.1");
  const method = init.method ?? "POST";
  if (method !== "GET" && method !== "HEAD" && !headers.has("origin"))
    headers.set("origin", "http://site.test");
  if (init.as) {
    headers.set("cookie", init.as.cookie);
    const csrf = init.csrf ?? "good";
    if (csrf === "good") headers.set("x-csrf-token", init.as.csrf);
    else if (csrf === "bad") headers.set("x-csrf-token", `${init.as.csrf.slice(0, -2)}xx`);
  }
  if (init.body?.type) headers.set("content-type", init.body.type);
  const request = new Request(`http://site.test${path}`, {
    method,
    headers,
    body: method === "GET" || method === "HEAD" ? null : (init.body?.body ?? null),
  });
  const response = await web.app.handle(request);
  const type = response.headers.get("content-type") ?? "";
  // Event streams never end; their first bytes are all there is to check.
  const text = type.startsWith("text/event-stream") ? "" : await response.text();
  if (type.startsWith("text/event-stream")) await response.body?.cancel();
  return { status: response.status, text, type, location: response.headers.get("location") };
}

/** Everything a refused request must leave alone, as one comparable string. */
async function snapshot(): Promise<string> {
  const [row] = await web.db.sql`
    select
      (select count(*) from users)::int as users,
      (select count(*) from torrents)::int as torrents,
      (select count(*) from invites)::int as invites,
      (select count(*) from sessions)::int as sessions,
      (select count(*) from user_roles)::int as roles,
      (select md5(coalesce(string_agg(id || ':' || torrent_id || ':' || body, ',' order by id), '')) from comments) as comments_hash,
      (select md5(coalesce(string_agg(id || ':' || name || ':' || icon || ':' || position, ',' order by id), '')) from categories) as categories_hash,
      (select md5(coalesce(string_agg(tag_id || ':' || torrent_id, ',' order by tag_id, torrent_id), '')) from torrent_tags) as tags_hash,
      (select md5(coalesce(string_agg(id || ':' || coalesce(category_id::text, '-'), ',' order by id), '')) from torrents) as torrent_categories_hash,
      (select md5(coalesce(string_agg(id || ':' || name || ':' || passkey || ':' || password_hash || ':' || disabled, ',' order by id), '')) from users) as users_hash,
      (select md5(coalesce(string_agg(id || ':' || title || ':' || description, ',' order by id), '')) from torrents) as torrents_hash,
      (select md5(coalesce(string_agg(id || ':' || coalesce(claimed_at::text, '-') || ':' || coalesce(revoked_at::text, '-'), ',' order by id), '')) from invites) as invites_hash,
      (select md5(coalesce(string_agg(user_id || ':' || role, ',' order by user_id, role), '')) from user_roles) as roles_hash,
      (select count(*) from conversations)::int as conversations,
      (select md5(coalesce(string_agg(id || ':' || conversation_id || ':' || body, ',' order by id), '')) from messages) as messages_hash,
      (select md5(coalesce(string_agg(conversation_id || ':' || user_id || ':' || unread, ',' order by conversation_id, user_id), '')) from conversation_members) as unread_hash,
      (select md5(coalesce(string_agg(id || ':' || title || ':' || status || ':' || bounty_millipoints || ':' || coalesce(torrent_id::text, '-') || ':' || coalesce(filler_id::text, '-'), ',' order by id), '')) from requests) as requests_hash,
      (select md5(coalesce(string_agg(id || ':' || user_id || ':' || millipoints, ',' order by id), '')) from request_bounties) as bounties_hash,
      (select md5(coalesce(string_agg(id || ':' || user_id || ':' || millipoints || ':' || reason, ',' order by id), '')) from bonus_ledger) as ledger_hash,
      (select md5(coalesce(string_agg(user_id || ':' || torrent_id, ',' order by user_id, torrent_id), '')) from bookmarks) as bookmarks_hash
  `;
  return JSON.stringify({ ...row, sent: web.sent.length });
}

/** Problems found in one test, deduplicated by kind, reported together at the end. */
class Problems {
  private readonly seen = new Map<string, string>();
  add(kind: string, detail: string) {
    if (!this.seen.has(kind)) this.seen.set(kind, `${kind}\n    ${detail}`);
  }
  get list(): string[] {
    return [...this.seen.values()];
  }
}

/** Text of an HTML page without its tags. */
function visibleText(text: string): string {
  return text
    .replace(/<script[\s\S]*?<\/script>|<style[\s\S]*?<\/style>/g, " ")
    .replace(/<[^>]*>/g, " ")
    .replace(/\s+/g, " ");
}

/**
 * The checks every answer gets: below 500, no leak, and a refusal is readable (JSON under /api).
 * Returns whether the request was refused (4xx).
 */
function inspect(problems: Problems, label: string, sent: Sent, detail: string): boolean {
  if (sent.status >= 500) problems.add(`${label}: HTTP ${sent.status}`, detail);
  const leaked = leak(sent.text);
  if (leaked) problems.add(`${label}: the body leaks "${leaked}"`, detail);
  if (sent.status >= 400 && sent.status < 500) {
    if (label.startsWith("/api")) {
      let ok = false;
      try {
        const body = JSON.parse(sent.text) as { error?: { code?: unknown; message?: unknown } };
        ok =
          typeof body.error?.code === "string" &&
          typeof body.error?.message === "string" &&
          body.error.message.length > 0;
      } catch {}
      if (!ok || !sent.type.includes("json"))
        problems.add(
          `${label}: HTTP ${sent.status} without the JSON error shape`,
          `${detail}\n    body: ${sent.text.slice(0, 200)}`,
        );
    } else if (!/[A-Za-z]{3,}\W+[A-Za-z]{3,}/.test(visibleText(sent.text))) {
      problems.add(
        `${label}: HTTP ${sent.status} with no readable message`,
        `${detail}\n    body: ${sent.text.slice(0, 200)}`,
      );
    }
  }
  return sent.status >= 400;
}

interface FormSpec {
  label: string;
  path: (rng: Rng) => string;
  as: () => Session | null;
  /** Good values per field, so that some requests get past validation into the handler. */
  good: Record<string, (rng: Rng) => string>;
  goodRate?: number;
  /** Whether fields read as sent make a request the server should carry out. */
  valid: (fields: Record<string, string>, path: string) => boolean;
  /** Random input can never be right here (wrong credentials, random file bytes). */
  neverValid?: boolean;
  /** Called after an accepted request, to restore what the next iterations need. */
  accepted?: (fields: Record<string, string> | null) => Promise<void>;
}

async function fuzzForm({ rng, note }: FuzzContext, spec: FormSpec, iterations: number): Promise<string[]> {
  const problems = new Problems();
  let accepted = 0;
  for (let i = 0; i < iterations; i++) {
    const fields = pickFields(rng, spec.good, spec.goodRate ?? 0.5);
    const body = encodeBody(rng, fields);
    const path = spec.path(rng);
    const as = spec.as();
    const csrf = as ? (rng.chance(0.9) ? "good" : rng.pick(["bad", "none"] as const)) : "none";
    const detail = `${path} as ${as?.name ?? "nobody"}, csrf ${csrf}, ${body.how}: ${body.preview}`;
    note(detail);
    const before = await snapshot();
    const sent = await send(path, { body, as, csrf, ip: `198.51.100.${rng.int(250)}` });
    const refused = inspect(problems, spec.label, sent, detail);
    if (refused) {
      const after = await snapshot();
      if (after !== before)
        problems.add(`${spec.label}: HTTP ${sent.status} but the database changed`, detail);
      continue;
    }
    if (sent.status >= 300 && sent.status < 400 && sent.location?.startsWith("/login")) continue;
    accepted++;
    if (as && csrf !== "good") problems.add(`${spec.label}: accepted without a valid CSRF token`, detail);
    else if (spec.neverValid) problems.add(`${spec.label}: accepted a request that cannot be valid`, detail);
    else if (body.fields && !spec.valid(body.fields, path))
      problems.add(`${spec.label}: accepted an invalid request (HTTP ${sent.status})`, detail);
    await spec.accepted?.(body.fields);
  }
  note(`${iterations} requests, ${accepted} accepted`);
  return problems.list;
}

/** Ids as a path segment: hostile spellings and, sometimes, a real one. */
const HOSTILE_IDS = [
  "-1",
  "0",
  "1e309",
  "0x10",
  "99999999999999999999",
  "9007199254740993",
  "NaN",
  "Infinity",
  "-Infinity",
  "1.5",
  "0.5",
  "1e-7",
  "%201",
  "1%00",
  "%00",
  "%FF",
  "%C3%A9",
  "%E2%80%AE1",
  "١",
  "１",
  "null",
  "undefined",
  "[1]",
  "1,2",
  "%2F1",
  "x".repeat(300),
];

function idSegment(rng: Rng, real: number): string {
  return rng.chance(0.25) ? String(real) : rng.pick(HOSTILE_IDS);
}

/** The id a lenient numeric reading of a segment gives, or null. */
function numericId(segment: string): number | null {
  let text: string;
  try {
    text = decodeURIComponent(segment);
  } catch {
    return null;
  }
  if (text.trim() === "") return null;
  const n = Number(text);
  return Number.isInteger(n) ? n : null;
}

async function torrentIds(): Promise<number[]> {
  return (await web.db.sql`select id from torrents`).map((r) => Number(r.id));
}

const titleGood = (rng: Rng) => rng.pick(["A title", "Debian 12", "x", " spaced ", "é😀"]);

// ---------------------------------------------------------------------------------------------

describe("forms under hostile bodies", () => {
  test(
    "POST /login (60 requests): refused, readable, nothing changes",
    seeded("web /login", async (ctx) => {
      const problems = await fuzzForm(
        ctx,
        {
          label: "/login",
          path: (rng) =>
            rng.chance(0.8)
              ? "/login"
              : `/login?next=${encodeURIComponent(hostileValue(rng).toWellFormed())}`,
          as: () => null,
          good: {
            name: (rng) => `nobody_${rng.int(1e6)}`,
            password: (rng) => rng.chars(10, "abc"),
            next: () => "/torrents",
          },
          valid: () => false,
          neverValid: true,
        },
        60,
      );
      expect(problems).toEqual([]);
    }),
  );

  test(
    "POST /upload (120 requests, random bytes as the file): refused, readable, nothing stored",
    seeded("web /upload", async (ctx) => {
      const problems = await fuzzForm(
        ctx,
        {
          label: "/upload",
          path: () => "/upload",
          as: () => uploader,
          good: { title: titleGood, description: (rng) => rng.nastyText(30) },
          valid: () => false,
          neverValid: true,
        },
        60,
      );
      // The same with a file part of random bytes (or a damaged torrent).
      const { rng, note } = ctx;
      const more = new Problems();
      for (let i = 0; i < 60; i++) {
        const form = new FormData();
        const bytes = rng.chance(0.5)
          ? rng.bytes(rng.pick([0, 1, 100, 5000]))
          : (() => {
              const t = validTorrent(`Damaged ${i}`);
              const at = rng.int(t.length);
              t[at] = t[at]! ^ (1 << rng.int(8));
              return t;
            })();
        // A flipped bit inside a piece hash or a name can leave a valid torrent: the validator decides.
        let acceptable = false;
        try {
          parseTorrent(bytes, { source: "Wren", maxBytes: 10 * 1024 * 1024 });
          acceptable = true;
        } catch {}
        form.set(
          rng.chance(0.9) ? "file" : rng.pick(["File", "file[]", "torrent"]),
          new File([new Uint8Array(bytes)], rng.pick(["x.torrent", "", "../../x", "a\u0000b"])),
        );
        if (rng.chance(0.5)) form.set("title", hostileValue(rng));
        if (rng.chance(0.5)) form.set("description", hostileValue(rng));
        const detail = `upload of ${bytes.length} bytes, title ${JSON.stringify(form.get("title"))?.slice(0, 80)}, description ${JSON.stringify(form.get("description"))?.slice(0, 80)}`;
        note(detail);
        const before = await snapshot();
        const sent = await send("/upload", {
          body: { body: form, type: null, fields: null, how: "file", preview: "" },
          as: uploader,
        });
        const refused = inspect(more, "/upload", sent, detail);
        if (!refused && !(acceptable && form.has("file")))
          more.add(`/upload: accepted a damaged file (HTTP ${sent.status})`, detail);
        else if (
          refused &&
          sent.status < 500 &&
          acceptable &&
          form.has("file") &&
          sent.status !== 409 &&
          sent.status !== 422
        )
          more.add(`/upload: refused a valid file with HTTP ${sent.status}`, detail);
        if (!refused) continue;
        if ((await snapshot()) !== before) more.add("/upload: refused but the database changed", detail);
      }
      expect([...problems, ...more.list]).toEqual([]);
    }),
  );

  test(
    "POST /invites (100 requests): refused unless the days are right",
    seeded("web /invites", async (ctx) => {
      const problems = await fuzzForm(
        ctx,
        {
          label: "/invites",
          path: () => "/invites",
          as: () => admin,
          good: { days: (rng) => String(rng.range(0, 40)) },
          goodRate: 0.3,
          valid: (fields) => {
            const text = (fields.days ?? "").trim();
            return /^[0-9]{1,3}$/.test(text) && Number(text) >= 1 && Number(text) <= 30;
          },
        },
        100,
      );
      expect(problems).toEqual([]);
    }),
  );

  test(
    "POST /register/<secret> (80 requests): hostile secrets and fields",
    seeded("web /register", async (ctx) => {
      const problems = await fuzzForm(
        ctx,
        {
          label: "/register",
          path: (rng) =>
            `/register/${rng.chance(0.6) ? inviteSecret : rng.pick([encodeURIComponent(hostileValue(rng).toWellFormed()), "x".repeat(5000), "%00", "%FF", inviteSecret.slice(0, -1), `${inviteSecret}%00`])}`,
          as: () => null,
          good: {
            name: (rng) =>
              rng.pick([
                "ab",
                "new_member",
                "a".repeat(33),
                "root_admin",
                "Root_Admin",
                "-dash",
                `m${rng.int(1e6)}`,
              ]),
            password: (rng) => rng.pick(["short", "long enough pw", "x".repeat(1025)]),
            confirm: (rng) => rng.pick(["short", "long enough pw"]),
          },
          goodRate: 0.7,
          valid: (fields, path) =>
            path === `/register/${inviteSecret}` &&
            typeof fields.name === "string" &&
            nameProblem(fields.name.trim()) === null &&
            typeof fields.password === "string" &&
            passwordProblem(fields.password) === null &&
            fields.confirm === fields.password,
          accepted: async () => {
            inviteSecret = (await createInvite(web.db.sql, { inviterId: admin.id, days: 7 })).secret;
          },
        },
        80,
      );
      expect(problems).toEqual([]);
    }),
  );

  test(
    "POST /account/password (60 requests): refused unless the current password is right",
    seeded("web /account/password", async (ctx) => {
      const problems = await fuzzForm(
        ctx,
        {
          label: "/account/password",
          path: () => "/account/password",
          as: () => member,
          good: {
            old: (rng) => (rng.chance(0.3) ? member.password : "wrong password"),
            password: (rng) => rng.pick(["new password 1", "short", "x".repeat(1025)]),
            confirm: (rng) => rng.pick(["new password 1", "other"]),
          },
          goodRate: 0.7,
          valid: (fields) =>
            fields.old === member.password &&
            typeof fields.password === "string" &&
            passwordProblem(fields.password) === null &&
            fields.confirm === fields.password,
          accepted: async (fields) => {
            if (fields?.password) member.password = fields.password;
          },
        },
        60,
      );
      expect(problems).toEqual([]);
    }),
  );

  test(
    "POST /account/passkey (40 requests): never without the CSRF token",
    seeded("web /account/passkey", async (ctx) => {
      const problems = await fuzzForm(
        ctx,
        {
          label: "/account/passkey",
          path: () => "/account/passkey",
          as: () => member,
          good: {},
          // Any same-site request with the session's token may rotate the passkey.
          valid: () => true,
        },
        40,
      );
      expect(problems).toEqual([]);
    }),
  );

  test(
    "POST /admin/users/:id/roles (100 requests): hostile ids, roles and actions",
    seeded("web roles", async (ctx) => {
      const problems = await fuzzForm(
        ctx,
        {
          label: "/admin/users/:id/roles",
          path: (rng) => `/admin/users/${idSegment(rng, rng.chance(0.8) ? targetId : admin.id)}/roles`,
          as: () => admin,
          good: {
            role: (rng) => rng.pick(ALL_ROLES),
            action: (rng) => rng.pick(["grant", "revoke"]),
          },
          goodRate: 0.6,
          valid: (fields, path) => {
            // An id is 1 to 15 digits without a leading zero; anything else names no member.
            const segment = path.split("/")[3]!;
            const id = /^[1-9][0-9]{0,14}$/.test(segment) ? Number(segment) : null;
            return (
              (id === targetId || id === admin.id) &&
              (ALL_ROLES as readonly string[]).includes(fields.role ?? "") &&
              (fields.action === "grant" || fields.action === "revoke") &&
              !(id === admin.id && fields.action === "revoke" && fields.role === "admin")
            );
          },
        },
        100,
      );
      expect(problems).toEqual([]);
    }),
  );

  test(
    "POST /torrents/:id/edit (100 requests): hostile ids, titles and descriptions",
    seeded("web edit", async (ctx) => {
      // Uploads above may have added torrents (a bit flipped in a piece hash is still a torrent).
      const ids = await torrentIds();
      const problems = await fuzzForm(
        ctx,
        {
          label: "/torrents/:id/edit",
          path: (rng) => `/torrents/${idSegment(rng, torrentId)}/edit`,
          as: () => (ctx.rng.chance(0.5) ? uploader : admin),
          good: { title: titleGood, description: (rng) => rng.nastyText(20) },
          goodRate: 0.6,
          valid: (fields, path) =>
            ids.includes(numericId(path.split("/")[2]!) ?? -1) &&
            typeof fields.title === "string" &&
            fields.title.trim() !== "" &&
            fields.title.length <= 200 &&
            typeof fields.description === "string" &&
            fields.description.length <= 20000,
        },
        100,
      );
      expect(problems).toEqual([]);
    }),
  );
});

describe("categories, tags and comments under hostile bodies", () => {
  test(
    "POST /torrents/:id/comments (80 requests): stored only when there is text of the right size",
    seeded("web comments", async (ctx) => {
      const problems = await fuzzForm(
        ctx,
        {
          label: "/torrents/:id/comments",
          path: (rng) => `/torrents/${idSegment(rng, torrentId)}/comments`,
          as: () => (ctx.rng.chance(0.5) ? member : uploader),
          good: {
            body: (rng) => rng.pick(["Thanks!", "**bold** [x](javascript:alert(1))", rng.nastyText(40)]),
          },
          goodRate: 0.6,
          valid: (fields, path) =>
            /^[1-9][0-9]{0,14}$/.test(path.split("/")[2]!) &&
            Number(path.split("/")[2]) === torrentId &&
            typeof fields.body === "string" &&
            fields.body.length <= 10000 &&
            fields.body.replace(/\r\n/g, "\n").trim() !== "",
        },
        80,
      );
      expect(problems).toEqual([]);
    }),
  );

  test(
    "POST /admin/categories (80 requests): a category only with a name, one of the icons and a position",
    seeded("web categories", async (ctx) => {
      const taken = new Set(
        (await web.db.sql<{ name: string }[]>`select name from categories`).map((r) => r.name.toLowerCase()),
      );
      const clean = (name: string) => name.trim().replace(/\s+/g, " ");
      const icons = [
        "film",
        "tv",
        "music",
        "microphone",
        "game",
        "software",
        "terminal",
        "disc",
        "book",
        "education",
        "image",
        "archive",
        "globe",
        "star",
        "folder",
      ];
      const problems = await fuzzForm(
        ctx,
        {
          label: "/admin/categories",
          path: () => "/admin/categories",
          as: () => (ctx.rng.chance(0.8) ? admin : member),
          good: {
            name: (rng) =>
              rng.pick(["Films", "films", " Music  Videos ", `Cat ${rng.int(1e6)}`, "x".repeat(41), "é😀"]),
            icon: (rng) => rng.pick(["film", "music", "nope", "FILM", "folder"]),
            position: (rng) => rng.pick(["0", "10", "-3", "9999", "10000", "1.5", "x", " 7 "]),
          },
          goodRate: 0.8,
          valid: (fields) => {
            const name = typeof fields.name === "string" ? clean(fields.name) : "";
            const position = (fields.position ?? "").trim();
            return (
              typeof fields.name === "string" &&
              fields.name.length <= 40 &&
              name !== "" &&
              !/[\u0000-\u001f\u007f]/.test(name) &&
              !taken.has(name.toLowerCase()) &&
              icons.includes(fields.icon ?? "") &&
              /^-?[0-9]{1,6}$/.test(position) &&
              Math.abs(Number(position)) <= 9999
            );
          },
          accepted: async (fields) => {
            if (fields?.name) taken.add(clean(fields.name).toLowerCase());
          },
        },
        80,
      );
      expect(problems).toEqual([]);
    }),
  );

  test(
    "POST /torrents/:id/edit with categories and tags (80 requests): refused unless both are right",
    seeded("web edit catalogue", async (ctx) => {
      const categories = (await web.db.sql<{ id: number }[]>`select id from categories`).map((r) => r.id);
      if (categories.length === 0)
        await web.db.sql`insert into categories (name, icon) values ('Fallback', 'folder')`;
      categories.push(...(await web.db.sql<{ id: number }[]>`select id from categories`).map((r) => r.id));
      const normalise = (t: string) =>
        t
          .normalize("NFKC")
          .toLowerCase()
          .trim()
          .replace(/\s+/g, ".")
          .replace(/\.{2,}/g, ".")
          .replace(/^[._-]+|[._-]+$/g, "");
      const problems = await fuzzForm(
        ctx,
        {
          label: "/torrents/:id/edit (category, tags)",
          path: () => `/torrents/${torrentId}/edit`,
          as: () => uploader,
          good: {
            title: () => "A title",
            description: (rng) => rng.pick(["", "some *text*"]),
            category: (rng) =>
              rng.pick([String(categories[0]), "", "0", "999999", "x", `${categories[0]}.0`]),
            tags: (rng) =>
              rng.pick([
                "linux, live cd",
                "",
                "a".repeat(33),
                "<b>",
                Array.from({ length: 11 }, (_, i) => `t${i}`).join(","),
                "ok",
              ]),
          },
          goodRate: 0.8,
          valid: (fields) => {
            if (typeof fields.title !== "string" || fields.title.trim() === "" || fields.title.length > 200)
              return false;
            if (typeof fields.description !== "string") return false;
            if (fields.description.length > 20000) return false;
            // A form without the field leaves the category as it is.
            const category = fields.category?.trim();
            if (
              category !== undefined &&
              (!/^[1-9][0-9]{0,14}$/.test(category) || !categories.includes(Number(category)))
            )
              return false;
            if (fields.tags === undefined) return true;
            if (fields.tags.length > 500) return false;
            const tags = [
              ...new Set(
                fields.tags
                  .split(/[,;\n]/)
                  .map(normalise)
                  .filter((t) => t !== ""),
              ),
            ];
            return (
              tags.length <= 10 && tags.every((t) => /^[\p{L}\p{M}\p{N}._-]+$/u.test(t) && t.length <= 32)
            );
          },
        },
        80,
      );
      expect(problems).toEqual([]);
    }),
  );
});

describe("specific hostile inputs", () => {
  test("a 20 MiB upload gets 413 with a message; a 1 MB title and a 2 MB description get 422", async () => {
    const before = await snapshot();
    const big = new FormData();
    big.set("file", new File([new Uint8Array(20 * 1024 * 1024).fill(0x64)], "big.torrent"));
    const large = await send("/upload", {
      body: { body: big, type: null, fields: null, how: "", preview: "" },
      as: uploader,
    });
    expect(large.status).toBe(413);
    expect(large.text).toContain("larger than");
    for (const [field, size] of [
      ["title", 1024 * 1024],
      ["description", 2 * 1024 * 1024],
    ] as const) {
      const form = new FormData();
      form.set("file", new File([new Uint8Array(validTorrent(`Big ${field}`))], "x.torrent"));
      form.set(field, "t".repeat(size));
      const sent = await send("/upload", {
        body: { body: form, type: null, fields: null, how: "", preview: "" },
        as: uploader,
      });
      expect(sent.status).toBe(422);
    }
    expect(await snapshot()).toBe(before);
  });

  test("fractional and out-of-range ids get a 4xx, not a database error", async () => {
    const before = await snapshot();
    const failures: string[] = [];
    const form = (fields: Record<string, string>): Body => ({
      body: new URLSearchParams(fields).toString(),
      type: "application/x-www-form-urlencoded",
      fields,
      how: "form",
      preview: "",
    });
    const cases: [string, string, Body | null][] = [];
    for (const id of ["1.5", "0.5", "1.0000001", "1e-7", "9007199254740993", "2e53"]) {
      cases.push(["GET", `/torrents/${id}`, null]);
      cases.push(["GET", `/torrents/${id}/download`, null]);
      cases.push(["GET", `/torrents/${id}/edit`, null]);
      cases.push(["POST", `/torrents/${id}/edit`, form({ title: "t", description: "d" })]);
      cases.push(["POST", `/torrents/${id}/delete`, form({})]);
    }
    for (const page of ["1.01", "1.5", "2.25", "1e-9"]) cases.push(["GET", `/torrents?page=${page}`, null]);
    // The RSS feed's download link, when the feeds exist (opened by the member's RSS key).
    const rssKey = await web.db.sql`select rss_key from users where id = ${admin.id}`.then(
      (rows) => rows[0]?.rssKey as string | undefined,
      () => undefined,
    );
    if (rssKey) for (const id of ["1.5", "0.5"]) cases.push(["GET", `/rss/${rssKey}/download/${id}`, null]);
    for (const [method, path, body] of cases) {
      const sent = await send(path, { method, body, as: admin });
      if (sent.status >= 500 || leak(sent.text)) failures.push(`${method} ${path} → ${sent.status}`);
    }
    expect(failures).toEqual([]);
    expect(await snapshot()).toBe(before);
  });

  test("NUL characters in text fields get a 4xx, not a database error", async () => {
    const before = await snapshot();
    const failures: string[] = [];
    const form = (fields: Record<string, string>): Body => ({
      body: new URLSearchParams(fields).toString(),
      type: "application/x-www-form-urlencoded",
      fields,
      how: "form",
      preview: "",
    });
    const check = async (label: string, sent: Sent) => {
      if (sent.status >= 500 || leak(sent.text)) failures.push(`${label} → ${sent.status}`);
    };
    await check(
      "POST /login name=a\\0b",
      await send("/login", { body: form({ name: "a\u0000b", password: "whatever1" }) }),
    );
    await check("GET /admin/users?q=a%00", await send("/admin/users?q=a%00", { method: "GET", as: admin }));
    await check("GET /torrents?q=a%00", await send("/torrents?q=a%00", { method: "GET", as: admin }));
    await check(
      "POST /torrents/:id/edit title=a\\0",
      await send(`/torrents/${torrentId}/edit`, {
        body: form({ title: "a\u0000", description: "" }),
        as: uploader,
      }),
    );
    await check(
      "POST /torrents/:id/edit description=\\0",
      await send(`/torrents/${torrentId}/edit`, {
        body: form({ title: "a", description: "\u0000" }),
        as: uploader,
      }),
    );
    for (const field of ["title", "description"]) {
      const upload = new FormData();
      upload.set("file", new File([new Uint8Array(validTorrent(`Nul in ${field}`))], "x.torrent"));
      upload.set(field, "a\u0000b");
      await check(
        `POST /upload ${field}=a\\0b`,
        await send("/upload", {
          body: { body: upload, type: null, fields: null, how: "", preview: "" },
          as: uploader,
        }),
      );
    }
    await check("GET /rss/%00", await send("/rss/%00", { method: "GET" }));
    const apiLogin = await send("/api/v1/session", {
      body: {
        body: JSON.stringify({ name: "a\u0000b", password: "whatever1" }),
        type: "application/json",
        fields: null,
        how: "",
        preview: "",
      },
      ip: "203.0.113.77",
    });
    if (apiLogin.status !== 404) await check("POST /api/v1/session name=a\\0b", apiLogin);
    await check("GET /register/a%00", await send("/register/a%00", { method: "GET" }));
    expect(failures).toEqual([]);
    expect(await snapshot()).toBe(before);
  });

  test("invalid percent-encoding in a path segment gets a 4xx, not a crash", async () => {
    const before = await snapshot();
    const failures: string[] = [];
    const body: Body = {
      body: "name=new_member&password=long enough pw&confirm=long enough pw&role=upload&action=grant&title=t&description=d",
      type: "application/x-www-form-urlencoded",
      fields: null,
      how: "form",
      preview: "",
    };
    for (const bad of ["%FF", "%C3", "a%E2%82", "%ED%A0%80", "%C0%AF"]) {
      const cases: [string, string][] = [
        ["GET", `/register/${bad}`],
        ["POST", `/register/${bad}`],
        ["GET", `/admin/users/${bad}`],
        ["POST", `/admin/users/${bad}/roles`],
        ["POST", `/admin/users/${bad}/disable`],
        ["POST", `/invites/${bad}/revoke`],
        ["GET", `/torrents/${bad}`],
        ["POST", `/torrents/${bad}/edit`],
        ["GET", `/rss/${bad}`],
        ["GET", `/rss/${bad}/download/1`],
      ];
      for (const [method, path] of cases) {
        const sent = await send(path, { method, body, as: path.startsWith("/register") ? null : admin });
        if (sent.status >= 500 || leak(sent.text)) failures.push(`${method} ${path} → ${sent.status}`);
      }
    }
    expect(failures).toEqual([]);
    expect(await snapshot()).toBe(before);
  });

  test(
    "GET pages with hostile ids, queries and paths (300 requests): never a 5xx or a leak",
    seeded("web GET", async ({ rng, note }) => {
      const problems = new Problems();
      const v = () =>
        rng.chance(0.15)
          ? rng.pick(["%FF", "%C3", "a%E2%82", "%ED%A0%80", "%", "%%", "%zz", "%00"])
          : encodeURIComponent(hostileValue(rng).slice(0, 3000).toWellFormed());
      const templates: (() => string)[] = [
        () => `/torrents?page=${rng.pick(HOSTILE_IDS)}`,
        () => `/torrents?q=${v()}&sort=${rng.pick(["size", "title", v()])}&order=${rng.pick(["asc", v()])}`,
        () => `/torrents/${idSegment(rng, torrentId)}`,
        () => `/torrents/${idSegment(rng, torrentId)}/download`,
        () => `/torrents/${idSegment(rng, torrentId)}/edit`,
        () => `/torrents/${torrentId}?uploaded=${v()}&saved=${v()}`,
        () => `/admin/users?q=${v()}&page=${rng.pick(HOSTILE_IDS)}`,
        () => `/admin/users/${idSegment(rng, targetId)}?done=${v()}&role=${v()}`,
        () => `/register/${v()}`,
        () => `/login?next=${v()}`,
        () => `/account?done=${v()}`,
        () => `/invites?${v()}=${v()}`,
        () => `/rss/${v()}?q=${v()}`,
        () => `/rss/${v()}/download/${rng.pick(HOSTILE_IDS)}`,
        () => `/events/counts?ids=${rng.pick(["", "1,2", v(), "-1,NaN,1e309", "1,".repeat(2000)])}`,
        () =>
          `/static/${rng.pick(["..%2F..%2Fpackage.json", "%2e%2e/%2e%2e/etc/passwd", v(), "style.css%00.js"])}`,
        () => `/${v()}`,
        () => `/torrents/${torrentId}/${v()}`,
        () =>
          `/requests?q=${v()}&status=${v()}&category=${rng.pick(HOSTILE_IDS)}&sort=${v()}&page=${rng.pick(HOSTILE_IDS)}`,
        () => `/requests/${rng.pick(HOSTILE_IDS)}?done=${v()}`,
        () => `/requests/new?${v()}=${v()}`,
        () => `/bookmarks?page=${rng.pick(HOSTILE_IDS)}`,
        () => `/rss/${v()}/bookmarks`,
        () => `/messages/${idSegment(rng, 1)}`,
        () => `/messages?page=${v()}&done=${v()}`,
        () => `/messages/staff?page=${rng.pick(HOSTILE_IDS)}`,
        () => `/messages/new?to=${v()}&staff=${v()}`,
      ];
      for (let i = 0; i < 300; i++) {
        const path = rng.pick(templates)();
        const as = rng.pick([admin, uploader, null]);
        note(`GET ${path} as ${as?.name ?? "nobody"}`);
        const before = i % 20 === 0 ? await snapshot() : null;
        const sent = await send(path, { method: "GET", as });
        inspect(
          problems,
          `GET ${path.split("?")[0]!.split("/").slice(0, 2).join("/")}`,
          sent,
          `GET ${path.slice(0, 300)} as ${as?.name ?? "nobody"}`,
        );
        if (before !== null && (await snapshot()) !== before)
          problems.add("a GET changed the database", path);
      }
      expect(problems.list).toEqual([]);
    }),
  );

  test(
    "other methods on every form (60 requests): never a 5xx",
    seeded("web methods", async ({ rng, note }) => {
      const problems = new Problems();
      const before = await snapshot();
      for (let i = 0; i < 60; i++) {
        const method = rng.pick(["PUT", "PATCH", "DELETE", "OPTIONS", "HEAD", "FOO", "PROPFIND"]);
        const path = rng.pick([
          "/login",
          "/upload",
          "/invites",
          `/register/${inviteSecret}`,
          "/account/password",
          "/account/passkey",
          `/admin/users/${targetId}/roles`,
          `/torrents/${torrentId}/edit`,
          `/torrents/${torrentId}/delete`,
          `/torrents/${torrentId}`,
        ]);
        note(`${method} ${path}`);
        const sent = await send(path, {
          method,
          as: rng.pick([admin, null]),
          body: encodeBody(rng, { x: hostileValue(rng) }),
        });
        if (sent.status >= 500) problems.add(`${method} ${path}: HTTP ${sent.status}`, "");
        const leaked = leak(sent.text);
        if (leaked) problems.add(`${method} ${path}: leaks ${leaked}`, "");
      }
      expect(problems.list).toEqual([]);
      expect(await snapshot()).toBe(before);
    }),
  );
});

describe("JSON API under hostile bodies", () => {
  test(
    "random JSON and junk to /api/v1 (150 requests): JSON errors, never a 5xx, nothing changes",
    seeded("web api", async ({ rng, note }) => {
      const probe = await send("/api/v1/session", {
        body: { body: "{}", type: "application/json", fields: null, how: "", preview: "" },
      });
      if (probe.status === 404) {
        console.info("[hostile] /api/v1 is not there: API checks skipped");
        return;
      }
      const problems = new Problems();
      const paths = [
        "/api/v1/session",
        "/api/v1/me",
        "/api/v1/torrents",
        `/api/v1/torrents/${rng.pick(HOSTILE_IDS)}`,
        `/api/v1/users/${rng.pick(HOSTILE_IDS)}`,
        "/api/v1/tokens",
        `/api/v1/tokens/${rng.pick(HOSTILE_IDS)}`,
        "/api/v1/invites",
        "/api/v1/categories",
        `/api/v1/categories/${rng.pick(HOSTILE_IDS)}`,
        `/api/v1/categories/1?move_to=${encodeURIComponent(rng.pick(HOSTILE_IDS))}`,
        `/api/v1/tags?q=${encodeURIComponent(hostileValue(rng).toWellFormed())}`,
        `/api/v1/torrents?tag=${encodeURIComponent(hostileValue(rng).toWellFormed())}&category=${encodeURIComponent(rng.pick(HOSTILE_IDS))}`,
        `/api/v1/torrents/${rng.pick(HOSTILE_IDS)}/comments`,
        `/api/v1/comments/${rng.pick(HOSTILE_IDS)}`,
        "/api/v1/preview",
        "/api/v1/me/new-comments",
        `/api/v1/requests?q=${encodeURIComponent(hostileValue(rng).toWellFormed())}&status=${encodeURIComponent(hostileValue(rng).toWellFormed())}`,
        "/api/v1/requests",
        `/api/v1/requests/${rng.pick(HOSTILE_IDS)}`,
        `/api/v1/requests/${rng.pick(HOSTILE_IDS)}/bounty`,
        `/api/v1/requests/${rng.pick(HOSTILE_IDS)}/fill`,
        `/api/v1/requests/${rng.pick(HOSTILE_IDS)}/accept`,
        "/api/v1/bookmarks",
        `/api/v1/bookmarks/${rng.pick(HOSTILE_IDS)}`,
        "/api/v1/",
        "/api/v1",
        "/api",
        `/api/v1/${encodeURIComponent(hostileValue(rng).toWellFormed())}`,
      ];
      for (let i = 0; i < 150; i++) {
        const path = rng.pick(paths);
        const method = rng.pick(["GET", "POST", "POST", "PATCH", "PUT", "DELETE"]);
        const body = encodeBody(
          rng,
          pickFields(rng, {
            name: () => `nobody_${rng.int(1e6)}`,
            password: () => "password123",
            title: titleGood,
            body: () => rng.nastyText(20),
            text: () => rng.nastyText(20),
            icon: () => rng.pick(["film", "nope"]),
          }),
        );
        const headers: Record<string, string> = {};
        if (rng.chance(0.3))
          headers.authorization = rng.pick([
            "Bearer ",
            "Bearer x",
            `Bearer ${"a".repeat(5000)}`,
            "Basic YTpi",
            "bearer\tzz",
            `Bearer ${rng.chars(40, "abcdef0123456789")}`,
          ]);
        // Logged in only for reads and for writes that cannot be valid (junk bodies, hostile ids).
        const as =
          method === "GET" || (body.fields === null && !/\d+$/.test(path)) ? rng.pick([admin, null]) : null;
        const detail = `${method} ${path} as ${as?.name ?? "nobody"}, ${body.how}: ${body.preview}`;
        note(detail);
        const before = await snapshot();
        const sent = await send(path, { method, body, as, headers, ip: `203.0.113.${rng.int(250)}` });
        const refused = inspect(problems, `/api ${method}`, sent, detail);
        if (refused && (await snapshot()) !== before)
          problems.add(`/api ${method}: refused but the database changed`, detail);
        if (!refused && method !== "GET" && as === null && !headers.authorization?.startsWith("Bearer "))
          problems.add(`/api ${method} ${path}: accepted from nobody (HTTP ${sent.status})`, detail);
      }
      expect(problems.list).toEqual([]);
    }),
  );
});

describe("requests and bookmarks: CSRF, XSS and authorization sweeps", () => {
  /** A request of the plain member's, with a fill by the uploader waiting, and points to play with. */
  async function setUp(): Promise<{ requestId: number; other: Session }> {
    for (const [who, hour] of [
      [member, 1],
      [uploader, 2],
    ] as const)
      await web.db.sql`
        insert into bonus_ledger (user_id, hour, millipoints, reason)
        values (${who.id}, ${new Date(Date.UTC(2021, 0, 1, hour))}, 1000000, 'seeding')
      `;
    const made = await send("/requests", {
      as: member,
      body: {
        body: new URLSearchParams({
          title: '<script>alert("req")</script><img src=x onerror=alert(2)>',
          description: 'Wants <script>alert("desc")</script> **this**',
          points: "100",
          category: String(
            (await web.db.sql<{ id: number }[]>`select id from categories order by id limit 1`)[0]?.id ?? "",
          ),
        }).toString(),
        type: "application/x-www-form-urlencoded",
        fields: null,
        how: "",
        preview: "",
      },
    });
    expect(made.status).toBe(303);
    const requestId = Number(/requests\/(\d+)/.exec(made.location!)![1]);
    const filled = await send(`/requests/${requestId}/fill`, {
      as: uploader,
      body: form({ torrent: String(torrentId) }),
    });
    expect(filled.status).toBe(303);
    const other = await session("other_member", []);
    return { requestId, other };
  }

  function form(fields: Record<string, string>): Body {
    return {
      body: new URLSearchParams(fields).toString(),
      type: "application/x-www-form-urlencoded",
      fields,
      how: "",
      preview: "",
    };
  }

  let requestId: number;
  let other: Session;
  beforeAll(async () => {
    ({ requestId, other } = await setUp());
  });

  test("every state-changing route refuses a missing or wrong CSRF token and a cross-site origin, unchanged", async () => {
    const routes: [string, Record<string, string>, Session][] = [
      ["/requests", { title: "Forged", points: "100" }, member],
      [`/requests/${requestId}/bounty`, { points: "5" }, other],
      [`/requests/${requestId}/fill`, { torrent: String(torrentId) }, other],
      [`/requests/${requestId}/accept`, {}, member],
      [`/requests/${requestId}/reject`, {}, member],
      [`/torrents/${torrentId}/bookmark`, { bookmarked: "1" }, other],
    ];
    const problems: string[] = [];
    for (const [path, fields, as] of routes) {
      for (const csrf of ["none", "bad"] as const) {
        const before = await snapshot();
        const sent = await send(path, { as, csrf, body: form(fields) });
        if (sent.status !== 403) problems.push(`${path} with csrf ${csrf}: HTTP ${sent.status}`);
        if ((await snapshot()) !== before) problems.push(`${path} with csrf ${csrf}: the database changed`);
      }
      const before = await snapshot();
      const crossSite = await send(path, { as, body: form(fields), headers: { origin: "http://evil.test" } });
      if (crossSite.status < 400 || crossSite.status >= 500)
        problems.push(`${path} from another site: HTTP ${crossSite.status}`);
      if ((await snapshot()) !== before) problems.push(`${path} from another site: the database changed`);
      const nobody = await send(path, { body: form(fields) });
      if (nobody.status !== 303 || !nobody.location?.startsWith("/login"))
        problems.push(`${path} logged out: HTTP ${nobody.status}`);
    }
    expect(problems).toEqual([]);
  });

  test("what members write is escaped on every page and in the API's rendered HTML", async () => {
    const pages = [`/requests/${requestId}`, "/requests", "/requests?status=all", `/torrents/${torrentId}`];
    for (const path of pages) {
      const sent = await send(path, { method: "GET", as: other });
      expect({ path, status: sent.status }).toEqual({ path, status: 200 });
      expect(sent.text).not.toContain('<script>alert("');
      expect(sent.text).not.toContain("<img src=x");
    }
    const shown = await send(`/requests/${requestId}`, { method: "GET", as: other });
    expect(shown.text).toContain("&lt;script&gt;alert(&quot;req&quot;)&lt;/script&gt;");
    expect(shown.text).toContain("<strong>this</strong>");
    const api = await send(`/api/v1/requests/${requestId}`, { method: "GET", as: other });
    const body = JSON.parse(api.text) as { html: string; title: string };
    expect(body.title).toContain("<script>");
    expect(body.html).not.toContain("<script>");
    expect(body.html).toContain("&lt;script&gt;");
  });

  test("nobody but the requester or staff answers a fill; the requester cannot fill their own request", async () => {
    const before = await snapshot();
    for (const path of [`/requests/${requestId}/accept`, `/requests/${requestId}/reject`]) {
      for (const as of [other, uploader]) {
        const sent = await send(path, { as, body: form({}) });
        expect({ path, who: as.name, status: sent.status }).toEqual({ path, who: as.name, status: 403 });
      }
      const api = await send(`/api/v1${path}`, { as: other, body: form({}) });
      expect(api.status).toBe(403);
    }
    const own = await send(`/requests/${requestId}/fill`, {
      as: member,
      body: form({ torrent: String(torrentId) }),
    });
    expect(own.status).toBe(403);
    expect(own.text).toContain("You cannot fill your own request");
    expect(await snapshot()).toBe(before);
  });

  test("nobody sees or changes another member's bookmarks", async () => {
    expect(
      (await send(`/torrents/${torrentId}/bookmark`, { as: member, body: form({ bookmarked: "1" }) })).status,
    ).toBe(303);
    const theirs = await send("/bookmarks", { method: "GET", as: other });
    expect(theirs.text).toContain("No bookmarks yet");
    const api = JSON.parse((await send("/api/v1/bookmarks", { method: "GET", as: other })).text) as {
      items: unknown[];
    };
    expect(api.items).toEqual([]);
    // Removing "it" removes only the caller's own (there is none): the member's stays.
    const before = await snapshot();
    expect((await send(`/api/v1/bookmarks/${torrentId}`, { method: "DELETE", as: other })).status).toBe(200);
    expect(
      (await send(`/torrents/${torrentId}/bookmark`, { as: other, body: form({ bookmarked: "0" }) })).status,
    ).toBe(303);
    expect(await snapshot()).toBe(before);
    const [kept] = await web.db.sql`select count(*)::int as n from bookmarks where user_id = ${member.id}`;
    expect(kept!.n).toBe(1);
  });

  test(
    "POST /torrents/:id/bookmark (60 requests): set only for a real torrent and a value of 0 or 1",
    seeded("web bookmark", async (ctx) => {
      const ids = await torrentIds();
      const problems = await fuzzForm(
        ctx,
        {
          label: "/torrents/:id/bookmark",
          path: (rng) => `/torrents/${idSegment(rng, torrentId)}/bookmark`,
          as: () => (ctx.rng.chance(0.5) ? member : other),
          good: { bookmarked: (rng) => rng.pick(["0", "1"]) },
          goodRate: 0.6,
          valid: (fields, path) =>
            /^[1-9][0-9]{0,14}$/.test(path.split("/")[2]!) &&
            ids.includes(Number(path.split("/")[2])) &&
            typeof fields.bookmarked === "string" &&
            /^[01]$/.test(fields.bookmarked),
        },
        60,
      );
      expect(problems).toEqual([]);
    }),
  );

  test(
    "POST /requests/:id/accept by others (40 requests): never accepted",
    seeded("web accept", async (ctx) => {
      const problems = await fuzzForm(
        ctx,
        {
          label: "/requests/:id/accept",
          path: (rng) => `/requests/${idSegment(rng, requestId)}/accept`,
          as: () => (ctx.rng.chance(0.5) ? other : uploader),
          good: {},
          valid: () => false,
          neverValid: true,
        },
        40,
      );
      expect(problems).toEqual([]);
    }),
  );
});

// Last: an id like " 1" is read as 1, so a delete can be accepted and empty the torrent table.
describe("deletion under hostile ids", () => {
  test(
    "POST /torrents/:id/delete (60 requests with hostile ids): nothing is deleted",
    seeded("web delete", async (ctx) => {
      const ids = await torrentIds();
      const problems = await fuzzForm(
        ctx,
        {
          label: "/torrents/:id/delete",
          path: (rng) => `/torrents/${rng.pick(HOSTILE_IDS)}/delete`,
          as: () => (ctx.rng.chance(0.7) ? admin : uploader),
          good: {},
          valid: (_fields, path) => ids.includes(numericId(path.split("/")[2]!) ?? -1),
        },
        60,
      );
      expect(problems).toEqual([]);
    }),
  );
});

/** A well-formed form body (for the sweeps, which send what would otherwise be accepted). */
function formBody(fields: Record<string, string>): Body {
  return {
    type: "application/x-www-form-urlencoded",
    body: new URLSearchParams(fields).toString(),
    how: "form",
    preview: "",
    fields,
  };
}

/** A well-formed JSON body. */
function jsonBody(value: unknown): Body {
  return { type: "application/json", body: JSON.stringify(value), how: "json", preview: "", fields: null };
}

describe("private messages: CSRF, XSS and authorization sweeps", () => {
  const PAYLOADS = [
    "<script>alert('xss')</script>",
    '"><img src=x onerror=alert(1)>',
    "<svg/onload=alert(1)>",
    "[click](javascript:alert(1))",
    "'\"><iframe src=//evil.test>",
  ];
  /** What must never appear in a page as written: each payload's live markup. */
  const LIVE = ["<script>alert", "<img src=x", "<svg/onload", 'href="javascript:', "<iframe"];

  let writer: Session;
  let reader: Session;
  let outsider: Session;
  let moderatorSession: Session;
  let privateId: number;
  let staffId: number;

  async function conversationFrom(sent: Sent): Promise<number> {
    expect(sent.status).toBe(303);
    return Number(/\/messages\/(\d+)/.exec(sent.location!)![1]);
  }

  beforeAll(async () => {
    writer = await session("msg_writer", []);
    reader = await session("msg_reader", []);
    outsider = await session("msg_outsider", []);
    moderatorSession = await session("msg_moderator", ["moderate"]);
    privateId = await conversationFrom(
      await send("/messages", {
        as: writer,
        body: formBody({ to: reader.name, subject: PAYLOADS.join(" "), body: PAYLOADS.join("\n\n") }),
      }),
    );
    staffId = await conversationFrom(
      await send("/messages", {
        as: writer,
        body: formBody({ staff: "1", subject: PAYLOADS.join(" "), body: PAYLOADS.join("\n\n") }),
      }),
    );
  }, 120000);

  /** Every state-changing route of messages and the passkey, with a body that would be accepted. */
  function changes(): { path: string; body: Body }[] {
    return [
      { path: "/messages", body: formBody({ to: reader.name, subject: "csrf", body: "csrf" }) },
      { path: "/messages", body: formBody({ staff: "1", subject: "csrf", body: "csrf" }) },
      { path: `/messages/${privateId}/reply`, body: formBody({ body: "csrf" }) },
      { path: `/messages/${staffId}/reply`, body: formBody({ body: "csrf" }) },
      { path: "/account/passkey", body: formBody({}) },
      { path: "/preview", body: formBody({ body: "**csrf**" }) },
      { path: "/api/v1/messages", body: jsonBody({ to: reader.name, subject: "csrf", body: "csrf" }) },
      { path: `/api/v1/messages/${privateId}/replies`, body: jsonBody({ body: "csrf" }) },
    ];
  }

  test("CSRF: without the token, with a wrong one, or from another site, every change is refused", async () => {
    const problems = new Problems();
    const before = await snapshot();
    for (const { path, body } of changes()) {
      for (const csrf of ["none", "bad"] as const) {
        const sent = await send(path, { as: writer, body, csrf });
        inspect(problems, path, sent, `${path} csrf ${csrf}`);
        if (sent.status !== 403)
          problems.add(`${path}: csrf ${csrf} got HTTP ${sent.status}`, sent.text.slice(0, 200));
      }
      const cross = await send(path, { as: writer, body, headers: { "sec-fetch-site": "cross-site" } });
      if (cross.status !== 403) problems.add(`${path}: a cross-site request got HTTP ${cross.status}`, "");
    }
    expect(problems.list).toEqual([]);
    expect(await snapshot()).toBe(before);
  });

  test("XSS: subjects and bodies are escaped on every page that shows them, and in the API", async () => {
    const problems = new Problems();
    const pages: [Session, string][] = [
      [reader, "/messages"],
      [reader, `/messages/${privateId}`],
      [writer, `/messages/${privateId}`],
      [writer, `/messages/${staffId}`],
      [moderatorSession, "/messages/staff"],
      [moderatorSession, `/messages/${staffId}`],
    ];
    for (const [who, path] of pages) {
      const sent = await send(path, { method: "GET", as: who });
      if (sent.status !== 200) problems.add(`${path}: HTTP ${sent.status}`, who.name);
      for (const live of LIVE) if (sent.text.includes(live)) problems.add(`${path} shows ${live}`, who.name);
      // The text is there, escaped, not dropped.
      if (!sent.text.includes("&lt;script&gt;")) problems.add(`${path} lost the escaped text`, who.name);
    }
    const api = await send(`/api/v1/messages/${privateId}`, { method: "GET", as: reader });
    const body = JSON.parse(api.text) as { subject: string; messages: { html: string }[] };
    expect(body.subject).toBe(PAYLOADS.join(" "));
    for (const live of LIVE) expect(body.messages[0]!.html).not.toContain(live);
    expect(problems.list).toEqual([]);
  });

  test("authorization: nobody reads or answers another's conversation; only staff read the staff inbox", async () => {
    const problems = new Problems();
    const before = await snapshot();
    const secret = "&lt;script&gt;alert";
    // Members outside it, staff (for a conversation between members), and nobody.
    const cases: [Session | null, number][] = [
      [outsider, privateId],
      [moderatorSession, privateId],
      [admin, privateId],
      [null, privateId],
      [outsider, staffId],
      [reader, staffId],
      [null, staffId],
    ];
    for (const [who, id] of cases) {
      const label = `${who?.name ?? "nobody"} on ${id === privateId ? "a private" : "a staff"} conversation`;
      const reads = [
        await send(`/messages/${id}`, { method: "GET", as: who }),
        await send(`/api/v1/messages/${id}`, { method: "GET", as: who }),
      ];
      const writes = [
        await send(`/messages/${id}/reply`, { as: who, body: formBody({ body: "let me in" }) }),
        await send(`/api/v1/messages/${id}/replies`, {
          as: who,
          body: jsonBody({ body: "let me in" }),
        }),
      ];
      for (const sent of [...reads, ...writes]) {
        const loginRedirect = who === null && sent.status === 303 && sent.location?.startsWith("/login");
        if (!loginRedirect && (sent.status < 400 || sent.status >= 500))
          problems.add(`${label}: HTTP ${sent.status}`, sent.text.slice(0, 200));
        if (sent.text.includes(secret) || sent.text.includes("alert(1)"))
          problems.add(`${label}: the conversation leaked`, sent.text.slice(0, 200));
      }
    }
    for (const who of [writer, reader, outsider]) {
      const page = await send("/messages/staff", { method: "GET", as: who });
      if (page.status !== 403) problems.add(`${who.name}: the staff inbox page got HTTP ${page.status}`, "");
      const api = await send("/api/v1/messages?box=staff", { method: "GET", as: who });
      if (api.status !== 403) problems.add(`${who.name}: the staff inbox API got HTTP ${api.status}`, "");
      if (page.text.includes(secret) || api.text.includes("alert(1)"))
        problems.add(`${who.name}: the staff inbox leaked`, "");
    }
    // Nobody's list shows what is not theirs.
    const outsiderList = await send("/messages", { method: "GET", as: outsider });
    if (outsiderList.text.includes(secret)) problems.add("another member's list leaked a subject", "");
    expect(problems.list).toEqual([]);
    expect(await snapshot()).toBe(before);
  });
});
