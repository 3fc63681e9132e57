/** Machine-readable codes for every failure the tracker reports to a BitTorrent client. */
export type ClientErrorCode =
  | "unknown_passkey"
  | "disabled_account"
  | "downloads_paused"
  | "unregistered_torrent"
  | "client_not_allowed"
  | "too_many_peers"
  | "peer_id_in_use"
  | "tracker_full"
  | "scrape_needs_hash"
  | "malformed"
  | "method_not_allowed"
  | "not_found"
  | "udp_needs_passkey"
  | "udp_scrape_needs_announce"
  | "udp_connection"
  | "udp_unknown_action"
  | "internal";

/** Every failure message starts with this when a request parameter is missing or unreadable. */
export const MALFORMED_PREFIX = "Malformed request: ";

const encoder = new TextEncoder();
const FAILURE_HEAD = encoder.encode("d14:failure reason");

/**
 * Encodes `d14:failure reason<len>:<message>e`, the body every client shows to its user when an
 * announce or scrape fails. The length is the message's UTF-8 byte count, not its UTF-16 length.
 * The returned array is new on every call and belongs to the caller.
 */
export function failureResponse(message: string): Uint8Array {
  const text = encoder.encode(message);
  const length = String(text.length);
  const out = new Uint8Array(FAILURE_HEAD.length + length.length + 1 + text.length + 1);
  out.set(FAILURE_HEAD, 0);
  let pos = FAILURE_HEAD.length;
  for (let i = 0; i < length.length; i++) out[pos++] = length.charCodeAt(i);
  out[pos++] = 0x3a;
  out.set(text, pos);
  out[pos + text.length] = 0x65;
  return out;
}

/**
 * A failure shown to the member in their BitTorrent client. `body` is the bencoded failure response,
 * encoded once at construction and shared: callers must not modify it.
 */
export class ClientError {
  /** Stable code for logs and metrics. */
  readonly code: ClientErrorCode;
  /** Text the member reads; says what to do next. */
  readonly message: string;
  /** `failureResponse(message)`, computed once. Shared between requests: treat as read-only. */
  readonly body: Uint8Array;

  /** Builds an error and its bencoded body; prefer the fixed entries of `CLIENT_ERRORS`. */
  constructor(code: ClientErrorCode, message: string) {
    this.code = code;
    this.message = message;
    this.body = failureResponse(message);
  }
}

/**
 * The closed catalogue of client-facing errors. Fixed errors are prebuilt with their bodies;
 * `malformed` builds one naming the offending parameter (the parsers in `query.ts` build each of
 * theirs once and hand it over with the failure).
 */
export const CLIENT_ERRORS = {
  /** The passkey in the URL matches no member. */
  unknownPasskey: new ClientError(
    "unknown_passkey",
    "Unknown passkey: download the .torrent again from the site.",
  ),
  /** The passkey belongs to a disabled account. */
  disabledAccount: new ClientError("disabled_account", "Your account is disabled: contact the staff."),
  /** The member has too many hit-and-runs: seeding goes on, new downloads do not start. */
  downloadsPaused: new ClientError(
    "downloads_paused",
    "New downloads are paused: you have too many hit-and-runs. Seed what you owe (see your hit-and-runs page on the site) and they resume within the hour.",
  ),
  /** The info hash is not a torrent the site knows. */
  unregisteredTorrent: new ClientError(
    "unregistered_torrent",
    "This torrent is not registered on this tracker: upload it or download the site's copy.",
  ),
  /** The peer id prefix is not on the allowed-client list. */
  clientNotAllowed: new ClientError(
    "client_not_allowed",
    "Your BitTorrent client is not allowed here: see the site's list of allowed clients.",
  ),
  /** The member already has as many peers in this swarm as the site allows. */
  tooManyPeers: new ClientError(
    "too_many_peers",
    "You are already in this torrent's swarm from too many places: stop it in one of your clients first.",
  ),
  /** Another member's client already uses this peer id in this swarm. */
  peerIdInUse: new ClientError(
    "peer_id_in_use",
    "Another client in this swarm uses the same peer id: restart your BitTorrent client.",
  ),
  /** The tracker holds as many peers as it is configured to. */
  trackerFull: new ClientError("tracker_full", "The tracker is at capacity: try again later."),
  /** A scrape without any info_hash: a private tracker does not list its torrents. */
  scrapeNeedsHash: new ClientError(
    "scrape_needs_hash",
    "Malformed request: scrape needs at least one info_hash.",
  ),
  /** Anything but GET on an announce or scrape URL. */
  methodNotAllowed: new ClientError(
    "method_not_allowed",
    "Method not allowed: the tracker only answers GET requests.",
  ),
  /** A path that is neither announce nor scrape. */
  notFound: new ClientError(
    "not_found",
    "Not found: use the announce URL from a .torrent downloaded from the site.",
  ),
  /** A UDP announce without BEP 41 URL data: the client cannot send its passkey over UDP. */
  udpNeedsPasskey: new ClientError(
    "udp_needs_passkey",
    "Your BitTorrent client sends no passkey over UDP: use the HTTP announce URL from the .torrent downloaded from the site.",
  ),
  /** A UDP scrape (which carries no passkey) from an address that has not announced over UDP. */
  udpScrapeNeedsAnnounce: new ClientError(
    "udp_scrape_needs_announce",
    "Scrape over UDP needs an announce from this address first: announce, then scrape.",
  ),
  /** A UDP request whose connection id this tracker did not give, or gave more than two minutes ago. */
  udpConnection: new ClientError("udp_connection", "Connection id expired or unknown: connect again."),
  /** A UDP action other than connect, announce and scrape. */
  udpUnknownAction: new ClientError(
    "udp_unknown_action",
    "Malformed request: the action must be 0 (connect), 1 (announce) or 2 (scrape).",
  ),
  /** Something failed on the tracker's side; the client retries on its own schedule. */
  internal: new ClientError("internal", "Tracker error: try again later."),
  /** A missing or unreadable parameter; `detail` names it, e.g. "info_hash must be 20 bytes." */
  malformed: (detail: string): ClientError => new ClientError("malformed", MALFORMED_PREFIX + detail),
} as const;
