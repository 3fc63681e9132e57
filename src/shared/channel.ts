// The typed channel between the web side (main thread) and the tracker (Worker). Every message
// carries the protocol version; both ends drop what they do not understand. The same messages are
// meant to travel over PostgreSQL LISTEN/NOTIFY once tracker and web run on separate hosts, so
// they hold only plain data: numbers, strings, arrays, and packed number arrays (bytes, there).

/** Bumped when a message's shape changes incompatibly. */
export const CHANNEL_VERSION = 2;

/** A member as the tracker needs it. */
export interface TrackerUser {
  readonly id: number;
  readonly passkey: string;
  readonly disabled: boolean;
}

/** A torrent as the tracker needs it: hashes in lowercase hex. */
export interface TrackerTorrent {
  readonly id: number;
  readonly infoHash: string;
  readonly infoHashV2: string | null;
  readonly snatches: number;
}

/** Messages from the web side to the tracker. */
export type WebToTracker =
  | { readonly kind: "init"; readonly config: unknown }
  | { readonly kind: "snapshot"; readonly users: TrackerUser[]; readonly torrents: TrackerTorrent[] }
  | { readonly kind: "user-upsert"; readonly user: TrackerUser }
  | { readonly kind: "user-removed"; readonly id: number }
  | { readonly kind: "torrent-upsert"; readonly torrent: TrackerTorrent }
  | { readonly kind: "torrent-removed"; readonly id: number }
  | { readonly kind: "ping"; readonly nonce: number }
  | { readonly kind: "shutdown" };

/** Seeders, leechers and snatches of one torrent. */
export type TorrentCounts = readonly [torrentId: number, seeders: number, leechers: number, snatches: number];

/** Credit for one member on one torrent since the last batch; `completed` is 1 for a new snatch. */
export type StatDelta = readonly [
  userId: number,
  torrentId: number,
  uploaded: number,
  downloaded: number,
  completed: 0 | 1,
];

/** Numbers in one packed credit row: the fields of {@link StatDelta}, in that order. */
export const DELTA_FIELDS = 5;

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
    rows.push([deltas[o]!, deltas[o + 1]!, deltas[o + 2]!, deltas[o + 3]!, deltas[o + 4] === 1 ? 1 : 0]);
  return rows;
}

/** Messages from the tracker to the web side. */
export type TrackerToWeb =
  | { readonly kind: "ready"; readonly port: number }
  | { readonly kind: "fatal"; readonly message: string }
  | { readonly kind: "snapshot-request" }
  | { readonly kind: "counts"; readonly counts: TorrentCounts[] }
  | { readonly kind: "stats"; readonly source: string; readonly seq: number; readonly deltas: StatDeltas }
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
