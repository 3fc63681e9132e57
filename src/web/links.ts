import type { Config } from "../config.ts";

/** The site URL as configured by default; when unchanged, links follow the address actually used. */
export const DEFAULT_SITE_URL = "http://localhost:8080";

/**
 * The public origin for links that leave the page (invite links, feeds): `siteUrl` when the
 * operator set one, otherwise the origin this request reached (so a fresh install on another port
 * or host still hands out working links).
 */
export function publicOrigin(siteUrl: string, request: Request): string {
  if (siteUrl !== DEFAULT_SITE_URL) return siteUrl;
  const host = request.headers.get("host");
  return host && /^[A-Za-z0-9.:[\]-]+$/.test(host) ? `${new URL(request.url).protocol}//${host}` : siteUrl;
}

/** A member's announce URL: the one place it is built. */
export function announceUrl(config: Config, passkey: string): string {
  return `${config.trackerUrl}/${passkey}/announce`;
}
