import { randomBytes } from "node:crypto";
import { log } from "../log.ts";
import { addressBytes } from "./address.ts";
import { CLIENT_ERRORS, ClientError } from "./protocol/errors.ts";
import { PASSKEY_LENGTH, readTrackerPath } from "./protocol/path.ts";
import {
  ACTION_ANNOUNCE,
  ACTION_CONNECT,
  ACTION_SCRAPE,
  ANNOUNCE_REPLY_HEAD,
  announceReply,
  connectReply,
  errorReply,
  isConnect,
  parseUdpAnnounce,
  parseUdpScrape,
  readHeader,
  scrapeReply,
  UDP_SCRAPE_MAX_HASHES,
} from "./protocol/udp.ts";
import type { AgentSource, Outcome, Tracker } from "./tracker.ts";

/**
 * Most bytes of peers in one announce reply: a reply stays within one Ethernet frame (1500 bytes
 * less IP and UDP headers), so a verified address can never be sent more than that per request.
 */
const MAX_PEER_BYTES = 1440 - ANNOUNCE_REPLY_HEAD;
/** Most peers per reply, by the requester's family. */
const MAX_PEERS_IPV4 = Math.floor(MAX_PEER_BYTES / 6);
const MAX_PEERS_IPV6 = Math.floor(MAX_PEER_BYTES / 18);
/**
 * A connection id is made for the current window of this many seconds and accepted in the next
 * one too: valid one to two minutes, as BEP 15 asks (two).
 */
export const CONNECTION_WINDOW_SECONDS = 60;
/** Addresses whose packet rate is tracked; past it the longest-tracked are forgotten first. */
const MAX_TRACKED_ADDRESSES = 65_536;
/** Addresses remembered as having announced with a passkey (for scrapes, which carry none). */
const MAX_SCRAPERS = 65_536;
/** What a suspicious transfer records as the client of a UDP announce (UDP has no User-Agent). */
const UDP_AGENT: AgentSource = { headers: { get: () => "(UDP announce, no User-Agent)" } };

/** What the UDP front end needs besides the tracker. */
export interface UdpOptions {
  readonly pathDepth: number;
  /** Most packets a second answered per address (bursts of twice as many); 0 for no limit. */
  readonly packetsPerSecond: number;
  /** Current time in whole seconds. */
  readonly now: () => number;
  /** Current time in milliseconds, for the rate limit. */
  readonly nowMs?: () => number;
  /** Called once per announce or scrape with its outcome and handling time in seconds (metrics). */
  readonly onOutcome?: (kind: "announce" | "scrape", outcome: Outcome, seconds: number) => void;
}

/** One address's token bucket. */
interface Bucket {
  tokens: number;
  at: number;
}

/**
 * The UDP tracker (BEP 15) in front of the same `Tracker` as the HTTP one: a function from one
 * datagram and its source to the reply datagram, or null to send nothing. Connection ids are a
 * keyed hash of the source address, port and time window under a secret made at start, so
 * checking one needs no memory per client; only a verified address gets more than a reply no larger
 * than its own request.
 */
export function createUdpHandler(tracker: Tracker, options: UdpOptions) {
  const secret = randomBytes(32);
  const nowMs = options.nowMs ?? Date.now;
  const rate = options.packetsPerSecond;
  const buckets = new Map<string, Bucket>();
  const scrapers = new Map<string, string>();
  /** Source addresses as bytes, by their text: a client sends from the same address every time. */
  const addresses = new Map<string, Uint8Array | null>();

  function addressOf(address: string): Uint8Array | null {
    let bytes = addresses.get(address);
    if (bytes === undefined) {
      bytes = addressBytes(address);
      if (addresses.size >= MAX_TRACKED_ADDRESSES) addresses.clear();
      addresses.set(address, bytes);
    }
    return bytes;
  }

  const input = new Uint8Array(16 + 6);

  /** The connection id of `ip`:`port` in time window `window`: 8 bytes of HMAC-SHA-256. */
  function connectionId(ip: Uint8Array, port: number, window: number): Uint8Array {
    const n = ip.length + 6;
    input.set(ip);
    input[ip.length] = port >>> 8;
    input[ip.length + 1] = port;
    input[ip.length + 2] = window >>> 24;
    input[ip.length + 3] = window >>> 16;
    input[ip.length + 4] = window >>> 8;
    input[ip.length + 5] = window;
    return new Bun.CryptoHasher("sha256", secret).update(input.subarray(0, n)).digest() as Uint8Array;
  }

  function validConnection(packet: Uint8Array, ip: Uint8Array, port: number): boolean {
    const window = Math.floor(options.now() / CONNECTION_WINDOW_SECONDS);
    return (
      equal8(packet, connectionId(ip, port, window)) || equal8(packet, connectionId(ip, port, window - 1))
    );
  }

  /** Whether one more packet from `address` is within its rate. */
  function admitted(address: string): boolean {
    if (rate <= 0) return true;
    const now = nowMs();
    let bucket = buckets.get(address);
    if (!bucket) {
      if (buckets.size >= MAX_TRACKED_ADDRESSES) buckets.delete(buckets.keys().next().value!);
      bucket = { tokens: rate * 2, at: now };
      buckets.set(address, bucket);
    } else {
      bucket.tokens = Math.min(rate * 2, bucket.tokens + ((now - bucket.at) * rate) / 1000);
      bucket.at = now;
    }
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  function rememberScraper(address: string, passkey: string): void {
    if (scrapers.get(address) === passkey) return;
    scrapers.delete(address);
    if (scrapers.size >= MAX_SCRAPERS) scrapers.delete(scrapers.keys().next().value!);
    scrapers.set(address, passkey);
  }

  function announce(packet: Uint8Array, tid: number, address: string, ip: Uint8Array): Uint8Array {
    const started = performance.now();
    const done = (outcome: Outcome, reply: Uint8Array) => {
      options.onOutcome?.("announce", outcome, (performance.now() - started) / 1000);
      return reply;
    };
    const failed = (error: ClientError) => done(error.code, errorReply(tid, error.message));
    const parsed = parseUdpAnnounce(
      packet,
      tracker.policyLimits,
      ip.length === 4 ? MAX_PEERS_IPV4 : MAX_PEERS_IPV6,
    );
    if ("error" in parsed) return failed(parsed.error);
    if (parsed.urlData === null) return failed(CLIENT_ERRORS.udpNeedsPasskey);
    const query = parsed.urlData.indexOf("?");
    const target = readTrackerPath(
      query < 0 ? parsed.urlData : parsed.urlData.slice(0, query),
      options.pathDepth,
    );
    if (target?.kind !== "announce") return failed(CLIENT_ERRORS.notFound);
    if (target.passkey.length !== PASSKEY_LENGTH) return failed(CLIENT_ERRORS.unknownPasskey);
    const answer = tracker.announceParsed(target.passkey, parsed.request, ip, options.now(), UDP_AGENT);
    if (answer instanceof ClientError) return failed(answer);
    rememberScraper(address, target.passkey);
    return done(answer.outcome, announceReply(tid, answer));
  }

  function scrape(packet: Uint8Array, tid: number, address: string): Uint8Array {
    const started = performance.now();
    const done = (outcome: Outcome, reply: Uint8Array) => {
      options.onOutcome?.("scrape", outcome, (performance.now() - started) / 1000);
      return reply;
    };
    const failed = (error: ClientError) => done(error.code, errorReply(tid, error.message));
    const hashes = parseUdpScrape(
      packet,
      Math.min(UDP_SCRAPE_MAX_HASHES, tracker.policyLimits.scrapeMaxHashes),
    );
    if ("error" in hashes) return failed(hashes.error);
    // BEP 15's scrape has no room for URL data: the passkey is the one this address last announced with.
    const passkey = scrapers.get(address);
    if (passkey === undefined) return failed(CLIENT_ERRORS.udpScrapeNeedsAnnounce);
    const counts = tracker.scrapeParsed(passkey, hashes);
    if (counts instanceof ClientError) return failed(counts);
    return done(
      "ok",
      scrapeReply(
        tid,
        counts.map((c) => ({
          seeders: c?.complete ?? 0,
          completed: c?.downloaded ?? 0,
          leechers: c?.incomplete ?? 0,
        })),
      ),
    );
  }

  /** The reply to one datagram from `address`:`port`, or null to send nothing. */
  return function handle(packet: Uint8Array, address: string, port: number): Uint8Array | null {
    if (!admitted(address)) return null;
    const header = readHeader(packet);
    if (!header) return null;
    const ip = addressOf(address);
    if (!ip) return null;
    if (isConnect(header)) {
      const window = Math.floor(options.now() / CONNECTION_WINDOW_SECONDS);
      return connectReply(header.transactionId, connectionId(ip, port, window));
    }
    // A connect without the protocol's magic number is not BEP 15: answered with nothing.
    if (header.action === ACTION_CONNECT) return null;
    if (!validConnection(packet, ip, port)) {
      // The address is unverified: an answer no larger than the request, or none.
      const reply = errorReply(header.transactionId, CLIENT_ERRORS.udpConnection.message);
      return reply.length <= packet.length ? reply : null;
    }
    try {
      if (header.action === ACTION_ANNOUNCE) return announce(packet, header.transactionId, address, ip);
      if (header.action === ACTION_SCRAPE) return scrape(packet, header.transactionId, address);
      return errorReply(header.transactionId, CLIENT_ERRORS.udpUnknownAction.message);
    } catch (error) {
      // Never a stack trace to a client: log it, and send the catalogue's generic reason.
      log.error("UDP request failed", { error: (error as Error).stack ?? String(error), address });
      return errorReply(header.transactionId, CLIENT_ERRORS.internal.message);
    }
  };
}

function equal8(a: Uint8Array, b: Uint8Array): boolean {
  for (let i = 0; i < 8; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** A listening UDP tracker. */
export interface UdpTracker {
  readonly port: number;
  stop(): void;
}

/** Binds the UDP tracker to `host`:`port` (0 picks a free one) and answers every datagram with `handle`. */
export async function listenUdp(
  handle: (packet: Uint8Array, address: string, port: number) => Uint8Array | null,
  host: string,
  port: number,
): Promise<UdpTracker> {
  const socket = await Bun.udpSocket({
    hostname: host,
    port,
    socket: {
      data(socket, data, fromPort, fromAddress) {
        const reply = handle(data, fromAddress, fromPort);
        if (reply) socket.send(reply, fromPort, fromAddress);
      },
      // A reply to a port nobody listens on comes back as ICMP "port unreachable", reported here
      // (ECONNREFUSED): the client is gone, which is not the tracker's error, and a flood with
      // forged source addresses must not fill the log with it.
      error() {},
    },
  });
  return {
    port: socket.port,
    stop: () => socket.close(),
  };
}
