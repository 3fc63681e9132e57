import { LiveCounts } from "../../src/bridge/counts.ts";
import { trackerFeed } from "../../src/bridge/feed.ts";
import { peerSource } from "../../src/bridge/peers.ts";
import { trackerSync } from "../../src/bridge/sync.ts";
import type { ToWeb, TrackerLink } from "../../src/bridge/vocabulary.ts";
import { loadConfig } from "../../src/config.ts";
import { createUser, type Role } from "../../src/db/queries/users.ts";
import type { PeerList, WebToTracker } from "../../src/shared/channel.ts";
import { hashPassword } from "../../src/shared/secrets.ts";
import { createWebApp } from "../../src/web/app.tsx";
import { BASE_HEADER, csrfToken, IP_HEADER } from "../../src/web/context.tsx";
import type { WebDeps } from "../../src/web/deps.ts";
import { type TestDatabase, testDatabase } from "./database.ts";

export const PEPPER = "test-pepper";

/**
 * The web app on a fresh database, driven through `app.handle` (no socket). Uploads are not held
 * for moderation unless `env` turns `site.moderateUploads` back on (FAIRYWREN_MODERATE_UPLOADS):
 * the suites about other features upload as plain members and list what they uploaded.
 */
export async function webHarness(env: Record<string, string> = {}) {
  const db: TestDatabase = await testDatabase();
  const config = loadConfig({
    env: { FAIRYWREN_LOG_LEVEL: "error", FAIRYWREN_MODERATE_UPLOADS: "false", ...env },
  });
  /** Messages the web side sent to the tracker, in order. */
  const sent: WebToTracker[] = [];
  /**
   * Answers peer-list requests as the tracker would; a test with a real Tracker points this at
   * `tracker.peersOf`. By default every torrent has an empty swarm.
   */
  const tracker: { peersOf(torrentId: number, limit: number): PeerList | null; silent: boolean } = {
    peersOf: () => ({ rows: new Float64Array(0), peerIds: new Uint8Array(0) }),
    /** True: peer-list requests go unanswered, as when the tracker is down. */
    silent: false,
  };
  // Stands in for the tracker Worker behind the bridge's feed: records the changes the feed hands
  // it (rows read from the database), acknowledges pings and answers peer-list requests as the
  // tracker would.
  const listeners: ((m: ToWeb) => void)[] = [];
  const hear = (m: ToWeb) =>
    queueMicrotask(() => {
      for (const listener of listeners) listener(m);
    });
  const feed = trackerFeed(db.sql, (m: WebToTracker) => {
    if (m.kind === "ping") hear({ kind: "pong", nonce: m.nonce });
    else if (m.kind === "peers-request") {
      if (tracker.silent) return;
      hear({
        kind: "peers",
        nonce: m.nonce,
        torrentId: m.torrentId,
        list: tracker.peersOf(m.torrentId, m.limit),
      });
    } else sent.push(m);
  });
  const channel: TrackerLink = {
    send: (m) => feed.send(m),
    onMessage(handler) {
      listeners.push(handler);
    },
  };
  const counts = new LiveCounts();
  const deps: WebDeps = {
    config,
    sql: db.sql,
    pepper: PEPPER,
    counts,
    sync: trackerSync(channel),
    // Every request asks anew (test/web/peers.test.ts checks the one-second sharing).
    peers: peerSource(db.sql, channel, { freshMs: 0, timeoutMs: 300 }),
    ready: () => true,
  };
  const app = createWebApp(deps);
  const origin = "http://site.test";

  /** A request as a browser on this site would send it (Origin set for state changes). */
  async function request(
    path: string,
    init: {
      method?: string;
      cookie?: string;
      form?: Record<string, string> | FormData;
      headers?: Record<string, string>;
      ip?: string;
      base?: string;
    } = {},
  ): Promise<Response> {
    const headers = new Headers(init.headers);
    headers.set("host", "site.test");
    headers.set(IP_HEADER, init.ip ?? "192.0.2.1");
    if (init.base) headers.set(BASE_HEADER, init.base);
    if (init.cookie) headers.set("cookie", init.cookie);
    const method = init.method ?? (init.form ? "POST" : "GET");
    if (method !== "GET" && !headers.has("origin")) headers.set("origin", origin);
    let body: BodyInit | undefined;
    if (init.form instanceof FormData) body = init.form;
    else if (init.form) {
      body = new URLSearchParams(init.form).toString();
      headers.set("content-type", "application/x-www-form-urlencoded");
    }
    return app.handle(new Request(`${origin}${path}`, { method, headers, body }));
  }

  /** Creates a member with these roles (the very first member gets every role regardless). */
  async function member(name: string, roles: Role[] = [], password = "password123") {
    const { user } = await createUser(db.sql, {
      name,
      passwordHash: await hashPassword(password, PEPPER),
      roles,
    });
    return user;
  }

  /** Logs in and returns the cookie header and the page's CSRF token. */
  async function login(name: string, password = "password123"): Promise<{ cookie: string; csrf: string }> {
    const response = await request("/login", { form: { name, password } });
    if (response.status !== 303)
      throw new Error(`log-in failed: ${response.status} ${await response.text()}`);
    const cookie = response.headers.get("set-cookie")!.split(";")[0]!;
    return { cookie, csrf: csrfToken(decodeURIComponent(cookie.split("=")[1]!)) };
  }

  return { app, db, deps, sent, counts, tracker, request, member, login, close: () => db.close() };
}
