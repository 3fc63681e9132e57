// The typed channel between the web side (main thread) and the tracker (Worker). Every message
// carries the protocol version; both ends drop what they do not understand. The same messages are
// meant to travel over PostgreSQL LISTEN/NOTIFY once tracker and web run on separate hosts, so
// they hold only plain data: numbers, strings, arrays, and packed number arrays (bytes, there).

/** Bumped when a message's shape changes incompatibly. */
export const CHANNEL_VERSION = 3;

/** A member as the tracker needs it. */
export interface TrackerUser {
  readonly id: number;
  readonly passkey: string;
  readonly disabled: boolean;
  /** New downloads refused for too many hit-and-runs; absent is false. */
  readonly downloadsPaused?: boolean;
}

/** A torrent as the tracker needs it: hashes in lowercase hex. */
export interface TrackerTorrent {
  readonly id: number;
  readonly infoHash: string;
  readonly infoHashV2: string | null;
  readonly snatches: number;
  /** Credited download = downloaded × this (0 for freeleech); see the README's "Freeleech". */
  readonly downloadFactor?: number;
  /** Credited upload = uploaded × this (2 for double upload). Both default to 1. */
  readonly uploadFactor?: number;
  /** The torrent's size in bytes (the byte-conservation rules read it); 0 or missing when unknown. */
  readonly size?: number;
}

/**
 * A site-wide factor window: from `startsAt` (inclusive) to `endsAt` (exclusive), Unix seconds, the
 * factors apply to every torrent, combined with the torrent's own by taking the more generous.
 */
export interface FactorWindow {
  readonly startsAt: number;
  readonly endsAt: number;
  readonly downloadFactor: number;
  readonly uploadFactor: number;
}

/** Messages from the web side to the tracker. */
export type WebToTracker =
  | { readonly kind: "init"; readonly config: unknown }
  | {
      readonly kind: "snapshot";
      readonly users: TrackerUser[];
      readonly torrents: TrackerTorrent[];
      readonly windows: FactorWindow[];
    }
  /** Every site-wide factor window not yet over (replaces what the tracker had). */
  | { readonly kind: "windows"; readonly windows: FactorWindow[] }
  | { readonly kind: "user-upsert"; readonly user: TrackerUser }
  | { readonly kind: "user-removed"; readonly id: number }
  | { readonly kind: "torrent-upsert"; readonly torrent: TrackerTorrent }
  | { readonly kind: "torrent-removed"; readonly id: number }
  | { readonly kind: "completions"; readonly completions: Completions }
  /** The peers saved with the last credit written, restored before the tracker listens. */
  | {
      readonly kind: "swarm";
      readonly peers: SwarmPeers;
      /** Byte conservation's waiting claims and downloads, WAITING_FIELDS numbers each. */
      readonly waiting?: Float64Array;
    }
  /**
   * Asks for a torrent's peer list, at most `limit` seeders and `limit` leechers (answered with a
   * `peers` message of the same nonce).
   */
  | {
      readonly kind: "peers-request";
      readonly nonce: number;
      readonly torrentId: number;
      readonly limit: number;
    }
  | { readonly kind: "ping"; readonly nonce: number }
  | { readonly kind: "shutdown" };

/** Seeders, leechers and snatches of one torrent. */
export type TorrentCounts = readonly [torrentId: number, seeders: number, leechers: number, snatches: number];

/** `state` of a credit row: what the member has in the swarm after the row's announces. */
export const PAIR_STATE = {
  /** Nothing changed (the member still has another peer in the swarm, or no announce said). */
  unchanged: 0,
  /** The member's last peer in the swarm stopped or was dropped. */
  gone: 1,
  leeching: 2,
  seeding: 3,
} as const;

/**
 * Credit for one member on one torrent since the last batch; `completed` is 1 for a new snatch.
 * `reportedUp`/`reportedDown` are what the client's counters said (before caps and factors),
 * `seedSeconds` the seeding time earned, `state` a {@link PAIR_STATE}, `lastAt` and `firstAt` the
 * Unix times of the latest and the earliest announce in the row (0 when none, e.g. a peer that was
 * dropped).
 */
export type StatDelta = readonly [
  userId: number,
  torrentId: number,
  uploaded: number,
  downloaded: number,
  completed: 0 | 1,
  reportedUp: number,
  reportedDown: number,
  seedSeconds: number,
  state: number,
  lastAt: number,
  firstAt: number,
];

/** Where each field of {@link StatDelta} sits in a packed credit row (the wire layout). */
export const DELTA_ROW = {
  userId: 0,
  torrentId: 1,
  uploaded: 2,
  downloaded: 3,
  completed: 4,
  reportedUp: 5,
  reportedDown: 6,
  seedSeconds: 7,
  state: 8,
  lastAt: 9,
  firstAt: 10,
} as const;

/** Numbers in one packed credit row: the fields of {@link StatDelta}, in that order. */
export const DELTA_FIELDS = 11;

/**
 * A batch of credit rows packed into one array (row i at `i * DELTA_FIELDS`): it crosses the
 * channel as one block of memory, handed over rather than copied, instead of thousands of small
 * arrays to clone.
 */
export type StatDeltas = Float64Array;

/** The rows of a packed batch, for reading. */
export function unpackDeltas(deltas: StatDeltas): StatDelta[] {
  const rows: StatDelta[] = [];
  for (let o = 0; o < deltas.length; o += DELTA_FIELDS)
    rows.push([
      deltas[o + DELTA_ROW.userId]!,
      deltas[o + DELTA_ROW.torrentId]!,
      deltas[o + DELTA_ROW.uploaded]!,
      deltas[o + DELTA_ROW.downloaded]!,
      deltas[o + DELTA_ROW.completed] === 1 ? 1 : 0,
      deltas[o + DELTA_ROW.reportedUp]!,
      deltas[o + DELTA_ROW.reportedDown]!,
      deltas[o + DELTA_ROW.seedSeconds]!,
      deltas[o + DELTA_ROW.state]!,
      deltas[o + DELTA_ROW.lastAt]!,
      deltas[o + DELTA_ROW.firstAt]!,
    ]);
  return rows;
}

/**
 * Who completed which torrent, as [member id, torrent id] pairs packed one after another: what the
 * tracker loads at start so that a completion already in the database is never counted again.
 */
export type Completions = Float64Array;

/** Why an announce was not credited in full (see the README's accounting rules). */
export type SuspicionReason = "rate" | "no_leecher" | "backwards" | "unbacked" | "over_size" | "left_implied";

/** The reasons in bit order: bit i of a packed row's reasons field is `SUSPICION_REASONS[i]`. */
export const SUSPICION_REASONS: readonly SuspicionReason[] = [
  "rate",
  "no_leecher",
  "backwards",
  "unbacked",
  "over_size",
  "left_implied",
];

/** An announce whose credit was capped or refused. */
export interface SuspiciousTransfer {
  readonly userId: number;
  readonly torrentId: number;
  /** The 20 bytes of the peer_id. */
  readonly peerId: Uint8Array;
  /** The client's User-Agent header, or null when it sent none. */
  readonly userAgent: string | null;
  /** What the report implied since the peer's previous one (negative when a counter went back). */
  readonly claimedUp: number;
  readonly claimedDown: number;
  /** What was credited. */
  readonly creditedUp: number;
  readonly creditedDown: number;
  /** Seconds since the peer's previous report. */
  readonly seconds: number;
  readonly reasons: readonly SuspicionReason[];
  /** When, in Unix seconds. */
  readonly at: number;
}

/** Where each field sits in a packed suspicious-transfer row (the wire layout); `reasons` is bits. */
export const SUSPICIOUS_ROW = {
  userId: 0,
  torrentId: 1,
  claimedUp: 2,
  claimedDown: 3,
  creditedUp: 4,
  creditedDown: 5,
  seconds: 6,
  reasons: 7,
  at: 8,
} as const;

/**
 * Numbers in one packed suspicious-transfer row: member, torrent, claimed up, claimed down,
 * credited up, credited down, seconds, reasons (bits), time.
 */
export const SUSPICIOUS_FIELDS = 9;

/**
 * A batch of suspicious transfers, packed like the credit: `rows` holds SUSPICIOUS_FIELDS numbers
 * per row, `peerIds` 20 bytes per row, `agents` one User-Agent per row ("" for none).
 */
export interface SuspiciousBatch {
  readonly rows: Float64Array;
  readonly peerIds: Uint8Array;
  readonly agents: readonly string[];
}

/** The rows of a packed suspicious-transfer batch, for reading. */
export function unpackSuspicious(batch: SuspiciousBatch): SuspiciousTransfer[] {
  const out: SuspiciousTransfer[] = [];
  const { rows, peerIds, agents } = batch;
  for (let i = 0, o = 0; o + SUSPICIOUS_FIELDS <= rows.length; i++, o += SUSPICIOUS_FIELDS) {
    const bits = rows[o + SUSPICIOUS_ROW.reasons]!;
    out.push({
      userId: rows[o + SUSPICIOUS_ROW.userId]!,
      torrentId: rows[o + SUSPICIOUS_ROW.torrentId]!,
      peerId: peerIds.slice(i * 20, i * 20 + 20),
      userAgent: agents[i] || null,
      claimedUp: rows[o + SUSPICIOUS_ROW.claimedUp]!,
      claimedDown: rows[o + SUSPICIOUS_ROW.claimedDown]!,
      creditedUp: rows[o + SUSPICIOUS_ROW.creditedUp]!,
      creditedDown: rows[o + SUSPICIOUS_ROW.creditedDown]!,
      seconds: rows[o + SUSPICIOUS_ROW.seconds]!,
      reasons: SUSPICION_REASONS.filter((_, bit) => (bits & (1 << bit)) !== 0),
      at: rows[o + SUSPICIOUS_ROW.at]!,
    });
  }
  return out;
}

/** Where each field sits in a packed peer row (the wire layout). */
export const PEER_ROW = { userId: 0, uploaded: 1, downloaded: 2, left: 3, seeder: 4, lastSeen: 5 } as const;

/**
 * Numbers in one packed peer row: member id, uploaded and downloaded this session (as the client
 * reports them), left, seeder (1 or 0), last announce (Unix seconds).
 */
export const PEER_FIELDS = 6;

/**
 * One torrent's peers as its peer list shows them, packed: `rows` holds PEER_FIELDS numbers per
 * peer, `peerIds` 20 bytes per peer. No address travels.
 */
export interface PeerList {
  readonly rows: Float64Array;
  readonly peerIds: Uint8Array;
}

/** Where each field sits in a packed swarm-state row (the wire layout of {@link SwarmPeers}). */
export const SWARM_ROW = {
  torrentId: 0,
  userId: 1,
  port: 2,
  /** {@link SWARM_FLAG} bits. */
  flags: 3,
  lastSeen: 4,
  uploaded: 5,
  downloaded: 6,
  left: 7,
} as const;

/** Numbers in one packed swarm-state row. */
export const SWARM_FIELDS = 8;

/** Bits of a swarm-state row's flags. */
export const SWARM_FLAG = {
  seeder: 1,
  /** Kept counters of a dropped peer (the grace store), not a peer in the swarm. */
  kept: 2,
  /** The address is IPv6 (16 bytes); otherwise IPv4 (the first 4 of its 16). */
  ipv6: 4,
} as const;

/**
 * Peers as the tracker restores them: `rows` holds SWARM_FIELDS numbers per peer, `peerIds` 20
 * bytes and `addresses` 16 bytes per peer.
 */
export interface SwarmPeers {
  readonly rows: Float64Array;
  readonly peerIds: Uint8Array;
  readonly addresses: Uint8Array;
}

/**
 * How the peers changed since the previous credit batch, at that batch's cut: `peers` as they
 * stand now (added or changed), and the peers that went, as [torrent id, member id] pairs in
 * `removed` with their 20-byte peer ids in `removedIds`. Written with the batch, in its transaction.
 */
export interface SwarmChanges {
  readonly peers: SwarmPeers;
  readonly removed: Float64Array;
  readonly removedIds: Uint8Array;
  /** Byte conservation's waiting claims and downloads of the swarms whose ones changed. */
  readonly waiting?: WaitingChanges;
}

/** Where each field sits in a packed waiting row (a claim or a download waiting under byte conservation). */
export const WAITING_ROW = {
  torrentId: 0,
  userId: 1,
  /** 0: an upload claim not yet paid; 1: download backing not yet shared. */
  kind: 2,
  /** Claim: bytes claimed and unpaid. Download: backing not yet shared. */
  bytes: 3,
  /** Download: bytes reported this period (for the size multiple); 0 for a claim. */
  fed: 4,
  /** Unix seconds: when the claim last grew or was paid, or since when the download's backing waits. */
  at: 5,
  /** Unix seconds: when the download's period began; 0 for a claim. */
  start: 6,
} as const;

/** Numbers in one packed waiting row. */
export const WAITING_FIELDS = 7;

/**
 * The waiting claims and downloads of every swarm in `torrents` (torrent ids) as they stand at a
 * credit batch's cut: what is saved for those torrents is replaced by `rows` (WAITING_FIELDS
 * numbers each), in the batch's transaction.
 */
export interface WaitingChanges {
  readonly torrents: Float64Array;
  readonly rows: Float64Array;
}

/** The buffers of swarm changes, to hand over rather than copy. */
export function swarmBuffers(changes: SwarmChanges): ArrayBuffer[] {
  return [
    changes.peers.rows.buffer as ArrayBuffer,
    changes.peers.peerIds.buffer as ArrayBuffer,
    changes.peers.addresses.buffer as ArrayBuffer,
    changes.removed.buffer as ArrayBuffer,
    changes.removedIds.buffer as ArrayBuffer,
    ...(changes.waiting
      ? [changes.waiting.torrents.buffer as ArrayBuffer, changes.waiting.rows.buffer as ArrayBuffer]
      : []),
  ];
}

/** Messages from the tracker to the web side. */
export type TrackerToWeb =
  /** The tracker listens: its HTTP port, and its UDP port (null when the UDP tracker is off). */
  | { readonly kind: "ready"; readonly port: number; readonly udpPort: number | null }
  | { readonly kind: "fatal"; readonly message: string }
  | { readonly kind: "snapshot-request" }
  /** Asks for the completions already recorded (answered with a `completions` message). */
  | { readonly kind: "completions-request" }
  | { readonly kind: "counts"; readonly counts: TorrentCounts[] }
  /** A credit batch, and how the peers changed up to its cut (written in the same transaction). */
  | {
      readonly kind: "stats";
      readonly source: string;
      readonly seq: number;
      readonly deltas: StatDeltas;
      readonly swarm?: SwarmChanges;
    }
  /** Asks for the peers saved with the last credit written (answered with a `swarm` message). */
  | { readonly kind: "swarm-request" }
  /** Capped or refused announces since the last batch; sequence numbers as for `stats`. */
  | {
      readonly kind: "suspicious";
      readonly source: string;
      readonly seq: number;
      readonly batch: SuspiciousBatch;
    }
  /** A torrent's peer list, as asked for; `list` is null when the tracker does not know the torrent. */
  | {
      readonly kind: "peers";
      readonly nonce: number;
      readonly torrentId: number;
      readonly list: PeerList | null;
    }
  /**
   * Over PostgreSQL only: the tracker process wrote the peer list asked for with `nonce` into
   * `torrent_peers` (`known` false when it does not know the torrent).
   */
  | {
      readonly kind: "peers-ready";
      readonly nonce: number;
      readonly torrentId: number;
      readonly known: boolean;
    }
  | { readonly kind: "pong"; readonly nonce: number }
  | { readonly kind: "metrics"; readonly metrics: TrackerMetrics }
  | { readonly kind: "stopped" };

/** The tracker's own figures, sent every few seconds for /metrics. */
export interface TrackerMetrics {
  /** Totals since start: [kind (announce|scrape), outcome, count]. */
  readonly requests: [string, string, number][];
  /** Handling time of announces and scrapes, as a histogram snapshot (seconds). */
  readonly latency: { key: string; counts: number[]; sum: number; count: number }[];
  readonly peers: number;
  readonly torrents: number;
  readonly users: number;
  readonly swarmBytes: number;
  readonly reaped: number;
  /**
   * Byte conservation, totals since start (see the README's accounting): upload credited against
   * other members' download (before factors), download reported (and implied by `left`) that
   * backs it, upload claims that expired unbacked, and download beyond the size multiple.
   */
  readonly conservation?: {
    readonly creditedUp: number;
    readonly reportedDown: number;
    readonly expiredUp: number;
    readonly overSizeDown: number;
  };
}

type Envelope<T> = { readonly v: number; readonly msg: T };

/** One end of the channel: send what this side says, hear what the other side says. */
export interface Channel<Out, In> {
  /** Sends a message; buffers in `transfer` move to the other side and are unusable here after. */
  send(message: Out, transfer?: ArrayBuffer[]): void;
  onMessage(handler: (message: In) => void): void;
}

interface Port {
  postMessage(data: unknown, transfer?: Transferable[]): void;
  addEventListener(type: "message", listener: (event: MessageEvent) => void): void;
}

function open<Out, In>(port: Port, onUnknown: (data: unknown) => void): Channel<Out, In> {
  return {
    send(message, transfer) {
      port.postMessage({ v: CHANNEL_VERSION, msg: message } satisfies Envelope<Out>, transfer ?? []);
    },
    onMessage(handler) {
      port.addEventListener("message", (event) => {
        const data = event.data as Envelope<In> | undefined;
        if (!data || data.v !== CHANNEL_VERSION || typeof data.msg !== "object") return onUnknown(event.data);
        handler(data.msg);
      });
    },
  };
}

/** The web side's end, over a Worker. */
export function webEnd(
  worker: Port,
  onUnknown: (data: unknown) => void = () => {},
): Channel<WebToTracker, TrackerToWeb> {
  return open(worker, onUnknown);
}

/** The tracker's end, over the Worker's global scope. */
export function trackerEnd(
  scope: Port,
  onUnknown: (data: unknown) => void = () => {},
): Channel<TrackerToWeb, WebToTracker> {
  return open(scope, onUnknown);
}
