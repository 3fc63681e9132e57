/**
 * Addresses that leave the page: invite links, feeds and the announce URL written into every
 * downloaded .torrent. `siteUrl` and `trackerUrl` say what they are; while either is left at its
 * default, the address the visitor used stands in for it, for the site and the tracker alike, so
 * that a fresh install reached from another machine hands out links that work from there.
 */
import { isIP } from "node:net";
import { CONFIG_KEYS, type Config } from "../config.ts";

const defaultOf = (key: string): string => CONFIG_KEYS.find((spec) => spec.key === key)!.default as string;
/** `siteUrl` as configured by default. */
export const DEFAULT_SITE_URL = defaultOf("siteUrl");
/** `trackerUrl` as configured by default. */
export const DEFAULT_TRACKER_URL = defaultOf("trackerUrl");

/** The scheme and host (with any port) the request was addressed to, when it is safe to repeat. */
function requestAddress(request: Request): { protocol: string; host: string; hostname: string } | null {
  const host = request.headers.get("host");
  // Only a name or an address and a port: anything else would be written into links as it is.
  if (!host || !/^[A-Za-z0-9.:[\]-]{1,300}$/.test(host)) return null;
  let url: URL;
  try {
    url = new URL(`http://${host}/`);
  } catch {
    return null;
  }
  const protocol = URL.canParse(request.url) ? new URL(request.url).protocol : "http:";
  return { protocol: protocol === "https:" ? "https:" : "http:", host: url.host, hostname: url.hostname };
}

/**
 * The public origin of the site for links: `siteUrl` when the operator set one, otherwise the
 * scheme and host this request was addressed to (`siteUrl`'s default when the Host header is
 * missing or malformed). Path prefixes of a reverse proxy (`pathDepth`) are not included.
 */
export function siteOrigin(config: Config, request: Request): string {
  if (config.siteUrl !== DEFAULT_SITE_URL) return config.siteUrl;
  const address = requestAddress(request);
  return address ? `${address.protocol}//${address.host}` : config.siteUrl;
}

/**
 * A member's announce URL, `<trackerUrl>/<passkey>/announce`. With `trackerUrl` at its default,
 * the tracker is taken to be on the host this request was addressed to, with the same scheme, on
 * the port it listens on (`config.tracker.port`, which must be the actual port: the server passes
 * the web side a configuration with it filled in when the setting is 0).
 */
export function announceUrl(config: Config, request: Request, passkey: string): string {
  return `${trackerBase(config, request)}/${passkey}/announce`;
}

/**
 * The member's announce URLs in tier order, as personalised .torrent files list them: the HTTP one,
 * then, when the UDP tracker is on, `udp://<host>:<tracker.udpPort>/<passkey>/announce`, on the same
 * host (and path prefix) as the HTTP one. Its path is the BEP 41 URL data a client sends.
 * `tracker.udpPort` must be the actual port, as for `announceUrl`.
 */
export function announceUrls(config: Config, request: Request, passkey: string): string[] {
  const http = trackerBase(config, request);
  // 0 here means a tracker in another process picked a port this one cannot know: no UDP URL.
  if (config.tracker.udpPort <= 0) return [`${http}/${passkey}/announce`];
  const base = new URL(http);
  const prefix = base.pathname.replace(/\/+$/, "");
  return [
    `${http}/${passkey}/announce`,
    `udp://${base.hostname}:${config.tracker.udpPort}${prefix}/${passkey}/announce`,
  ];
}

function trackerBase(config: Config, request: Request): string {
  if (config.trackerUrl !== DEFAULT_TRACKER_URL) return config.trackerUrl;
  const address = requestAddress(request);
  const hostname = address?.hostname ?? "localhost";
  return `${address?.protocol ?? "http:"}//${hostname}:${config.tracker.port}`;
}

/** Whether a listening address is reachable from this machine only. */
function loopbackOnly(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, "").toLowerCase();
  if (bare === "localhost" || bare === "::1") return true;
  return isIP(bare) === 4 && bare.startsWith("127.");
}

/**
 * The warning to give at start-up when the site or the tracker listens beyond this machine while
 * `siteUrl` or `trackerUrl` is left at its default, or null. Links then follow the address each
 * visitor used, which is right only when members reach both ports directly at that address.
 */
export function defaultLinksWarning(config: Config): string | null {
  const defaults = [
    ...(config.siteUrl === DEFAULT_SITE_URL ? ["siteUrl (FAIRYWREN_SITE_URL)"] : []),
    ...(config.trackerUrl === DEFAULT_TRACKER_URL ? ["trackerUrl (FAIRYWREN_TRACKER_URL)"] : []),
  ];
  const exposed = [
    ...(loopbackOnly(config.webapi.host) ? [] : [`the web site on ${config.webapi.host}`]),
    ...(loopbackOnly(config.tracker.host) ? [] : [`the tracker on ${config.tracker.host}`]),
  ];
  if (defaults.length === 0 || exposed.length === 0) return null;
  return (
    `${defaults.join(" and ")} ${defaults.length > 1 ? "are" : "is"} left at the default while ` +
    `${exposed.join(" and ")} can be reached from other machines. Invite links, feeds and announce ` +
    `URLs are made from the address each visitor used (announce URLs with the tracker's port, ` +
    `${config.tracker.port === 0 ? "chosen at start" : config.tracker.port}), which works only when ` +
    "members reach both ports directly at that address. Behind a reverse proxy, or under a public " +
    `name, set ${defaults.join(" and ")}.`
  );
}

/** The addresses one request's answers hand out: the site's root (with the proxy's base path) and announce URLs. */
export interface Links {
  /** Origin and base path: page addresses are `${site}/torrents/1`. */
  readonly site: string;
  announce(passkey: string): string;
  /** Every announce URL of a .torrent, in tier order (see announceUrls). */
  announceUrls(passkey: string): string[];
}

/** The links of answers to `request`, behind a reverse proxy's `base` path. */
export function linksFor(config: Config, request: Request, base: string): Links {
  return {
    site: `${siteOrigin(config, request)}${base}`,
    announce: (passkey) => announceUrl(config, request, passkey),
    announceUrls: (passkey) => announceUrls(config, request, passkey),
  };
}
