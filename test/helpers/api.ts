import { expect } from "bun:test";
import { createToken } from "../../src/db/queries/tokens.ts";
import type { Role } from "../../src/db/queries/users.ts";
import { IP_HEADER } from "../../src/web/context.tsx";
import { buildInfo, content, torrentBytes } from "../web/metainfo/fixtures.ts";
import { webHarness } from "./web.ts";

export const ORIGIN = "http://site.test";

/** How an API call authenticates: a token, the session cookie (with its CSRF token), or not at all. */
export type As = { token: string } | { cookie: string; csrf?: string } | null;

export interface CallInit {
  method?: string;
  as?: As;
  json?: unknown;
  form?: FormData;
  headers?: Record<string, string>;
  ip?: string;
}

/** The web app on a fresh database, with helpers for calling the JSON API. */
export async function apiHarness(env: Record<string, string> = {}) {
  const web = await webHarness(env);

  /**
   * An API call as a script would make it (no Origin) with a token, or as the site's own JavaScript
   * would with the session cookie (same Origin, X-CSRF-Token when `csrf` is given).
   */
  async function call(path: string, init: CallInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    headers.set("host", "site.test");
    headers.set(IP_HEADER, init.ip ?? "192.0.2.10");
    const method = init.method ?? (init.json !== undefined || init.form ? "POST" : "GET");
    const as = init.as ?? null;
    if (as && "token" in as) headers.set("authorization", `Bearer ${as.token}`);
    if (as && "cookie" in as) {
      headers.set("cookie", as.cookie);
      if (method !== "GET" && !headers.has("origin")) headers.set("origin", ORIGIN);
      if (as.csrf) headers.set("x-csrf-token", as.csrf);
    }
    let body: BodyInit | undefined;
    if (init.form) body = init.form;
    else if (init.json !== undefined) {
      body = JSON.stringify(init.json);
      headers.set("content-type", "application/json");
    }
    return web.app.handle(new Request(`${ORIGIN}${path}`, { method, headers, body }));
  }

  /** Creates a member and a personal API token of theirs; returns both. */
  async function memberWithToken(name: string, roles: Role[] = []) {
    const user = await web.member(name, roles);
    const created = await createToken(web.db.sql, user.id, `${name}'s script`);
    return { id: user.id, token: created!.token, tokenId: created!.id };
  }

  return { ...web, call, memberWithToken };
}

export type ApiHarness = Awaited<ReturnType<typeof apiHarness>>;

/**
 * Checks that a response is an API error with this status and code, in the one error shape:
 * `{"error": {"code", "message", "fields"?}}` and nothing else, as JSON, with no stack trace.
 * Returns the error for further checks.
 */
export async function expectError(
  response: Response,
  status: number,
  code: string,
): Promise<{ code: string; message: string; fields?: Record<string, string> }> {
  const text = await response.text();
  expect({ status: response.status, text }).toMatchObject({ status });
  expect(response.headers.get("content-type")).toStartWith("application/json");
  const body = JSON.parse(text) as {
    error: { code: string; message: string; fields?: Record<string, string> };
  };
  expect(Object.keys(body)).toEqual(["error"]);
  const keys = Object.keys(body.error);
  expect(keys.filter((k) => k !== "fields")).toEqual(["code", "message"]);
  expect(body.error.code).toBe(code);
  expect(typeof body.error.message).toBe("string");
  expect(body.error.message.length).toBeGreaterThan(0);
  if (body.error.fields !== undefined) {
    expect(typeof body.error.fields).toBe("object");
    for (const value of Object.values(body.error.fields)) expect(typeof value).toBe("string");
  }
  expect(text).not.toMatch(/\bat .*\.(ts|js|tsx):\d+/);
  expect(text).not.toContain("stack");
  return body.error;
}

/** The JSON body of a successful response, after checking its status. */
export async function expectJson<T = Record<string, unknown>>(response: Response, status = 200): Promise<T> {
  const text = await response.text();
  expect({ status: response.status, text }).toMatchObject({ status });
  expect(response.headers.get("content-type")).toStartWith("application/json");
  return JSON.parse(text) as T;
}

/** The cookie (name=value) a response sets. */
export function cookieOf(response: Response): string {
  return response.headers.get("set-cookie")!.split(";")[0]!;
}

/** A small single-file v1 .torrent whose name (and so info hash) depends on `name`. */
export function smallTorrent(name: string, size = 40000): Buffer {
  const { info } = buildInfo({ kind: "v1", name, files: [{ path: [], data: content(size, name.length) }] });
  return torrentBytes(info, { announce: "http://other.example/announce" });
}

/** A multipart upload body with this .torrent (and optional title and description). */
export function uploadForm(file: Buffer | null, fields: Record<string, string> = {}): FormData {
  const form = new FormData();
  if (file)
    form.set("file", new File([new Uint8Array(file)], "x.torrent", { type: "application/x-bittorrent" }));
  for (const [key, value] of Object.entries(fields)) form.set(key, value);
  return form;
}
