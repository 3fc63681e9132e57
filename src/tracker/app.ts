import { Elysia } from "elysia";
import { log } from "../log.ts";
import { addressBytes, clientAddress } from "./address.ts";
import { CLIENT_ERRORS } from "./protocol/errors.ts";
import { PASSKEY_LENGTH, readTrackerPath } from "./protocol/path.ts";
import type { Outcome, Tracker } from "./tracker.ts";

/** What the HTTP layer needs besides the tracker. */
export interface TrackerHttpOptions {
  readonly pathDepth: number;
  readonly trustedProxies: readonly string[];
  /** Current time in whole seconds. */
  readonly now: () => number;
  /** Called once per announce or scrape with its outcome and handling time in seconds (metrics). */
  readonly onOutcome?: (kind: "announce" | "scrape", outcome: Outcome, seconds: number) => void;
}

const HEADERS = { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" };
const HEALTH = JSON.stringify({ status: "ok" });

type Server = { requestIP(request: Request): { address: string } | null };

/** Peer addresses as bytes, by their text: a client announces from the same address every time. */
const addressCache = new Map<string, Uint8Array | null>();
const ADDRESS_CACHE_SIZE = 65_536;

function cachedAddressBytes(address: string): Uint8Array | null {
  let bytes = addressCache.get(address);
  if (bytes === undefined) {
    bytes = addressBytes(address);
    if (addressCache.size >= ADDRESS_CACHE_SIZE) addressCache.clear();
    addressCache.set(address, bytes);
  }
  return bytes;
}

/**
 * The tracker's HTTP app: `<prefix>/<passkey>/announce`, `<prefix>/<passkey>/scrape`, `/health`.
 * Every request is answered from Elysia's request hook, before its router: the tracker has three
 * paths and reads them itself from the raw URL, so the router has nothing to add.
 */
export function createTrackerApp(tracker: Tracker, options: TrackerHttpOptions) {
  const trusted = new Set(options.trustedProxies);
  const reply = (body: Uint8Array, status = 200) =>
    new Response(body as Uint8Array<ArrayBuffer>, { status, headers: HEADERS });

  function handle(request: Request, server: Server | null): Response {
    const started = performance.now();
    const done = (kind: "announce" | "scrape", outcome: Outcome) =>
      options.onOutcome?.(kind, outcome, (performance.now() - started) / 1000);
    const url = request.url;
    // request.url is absolute, the path starting at the first "/" after "scheme://host", except for
    // an HTTP/1.0 request without a Host header (old clients, HAProxy's default health check),
    // where Bun hands over the bare path.
    const pathStart = url.charCodeAt(0) === 47 ? 0 : url.indexOf("/", url.indexOf("//") + 2);
    const queryStart = url.indexOf("?", pathStart);
    const fullPath = queryStart < 0 ? url.slice(pathStart) : url.slice(pathStart, queryStart);
    if (fullPath === "/health")
      return new Response(HEALTH, { headers: { "content-type": "application/json" } });
    const target = readTrackerPath(fullPath, options.pathDepth);
    if (!target) return reply(CLIENT_ERRORS.notFound.body, 404);
    const { kind, passkey } = target;
    if (request.method !== "GET") return reply(CLIENT_ERRORS.methodNotAllowed.body, 405);
    if (passkey.length !== PASSKEY_LENGTH) {
      done(kind, "unknown_passkey");
      return reply(CLIENT_ERRORS.unknownPasskey.body);
    }
    const query = queryStart < 0 ? "" : url.slice(queryStart + 1);
    if (kind === "scrape") {
      const result = tracker.scrape(passkey, query);
      done(kind, result.outcome);
      return reply(result.body);
    }
    const direct = server?.requestIP(request)?.address ?? "";
    const address = clientAddress(
      direct,
      trusted.size ? request.headers.get("x-forwarded-for") : null,
      trusted,
    );
    // Shared between requests: the tracker copies the bytes and never changes them.
    const ip = cachedAddressBytes(address);
    if (!ip) {
      done(kind, "internal");
      return reply(CLIENT_ERRORS.internal.body);
    }
    const result = tracker.announce(passkey, query, ip, options.now(), request);
    done(kind, result.outcome);
    return reply(result.body);
  }

  return new Elysia().onRequest(({ request, server }) => {
    try {
      return handle(request, server as Server | null);
    } catch (error) {
      // Never a stack trace to a client: log it, and send the catalogue's generic reason.
      log.error("announce failed", { error: (error as Error).stack ?? String(error), url: request.url });
      return reply(CLIENT_ERRORS.internal.body);
    }
  });
}
