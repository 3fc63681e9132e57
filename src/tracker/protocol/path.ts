import { stripPrefix } from "../../config.ts";

/** Characters in a passkey. */
export const PASSKEY_LENGTH = 32;

/** What an announce or scrape path names: the kind of request and the passkey as written. */
export interface TrackerPath {
  readonly kind: "announce" | "scrape";
  /** The segment before `/announce` or `/scrape`; the caller checks it (length, then the member). */
  readonly passkey: string;
}

/**
 * Reads `<prefix>/<passkey>/announce` or `<prefix>/<passkey>/scrape` from a path without its query,
 * the leading `pathDepth` segments of a reverse proxy skipped; null for any other path. The HTTP
 * tracker reads its request URL with it, the UDP tracker BEP 41's URL data, so a passkey is found
 * the same way in both.
 */
export function readTrackerPath(fullPath: string, pathDepth: number): TrackerPath | null {
  const path = stripPrefix(fullPath, pathDepth);
  if (path === null) return null;
  const kind = path.endsWith("/announce") ? "announce" : path.endsWith("/scrape") ? "scrape" : null;
  if (!kind) return null;
  return { kind, passkey: path.slice(1, path.length - kind.length - 1) };
}
