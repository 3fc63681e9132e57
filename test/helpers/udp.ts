/**
 * A BEP 15 client for tests, written from the BEP rather than from the tracker's encoder: packets are
 * built byte by byte here, so a test of the tracker's parser is not the parser checking itself.
 */

/** The connect magic number, high and low 32 bits. */
const MAGIC_HIGH = 0x417;
const MAGIC_LOW = 0x27101980;

/** A connect request with transaction id `tid`. */
export function connectPacket(tid: number): Uint8Array {
  const out = new Uint8Array(16);
  const view = new DataView(out.buffer);
  view.setUint32(0, MAGIC_HIGH);
  view.setUint32(4, MAGIC_LOW);
  view.setUint32(8, 0);
  view.setUint32(12, tid);
  return out;
}

/** What goes into an announce packet; counters default to 0, event to 0 (none), numwant to -1. */
export interface UdpAnnounceFields {
  connectionId: Uint8Array;
  tid: number;
  infoHash: Uint8Array;
  peerId: Uint8Array;
  downloaded?: number;
  left?: number;
  uploaded?: number;
  /** 0 none, 1 completed, 2 started, 3 stopped. */
  event?: number;
  numwant?: number;
  port?: number;
  /** BEP 41 URL data, split into options of at most 255 bytes; none when absent. */
  urlData?: string;
  /** Raw bytes after the 98 (instead of `urlData`). */
  options?: Uint8Array;
}

/** An announce packet: 98 bytes and BEP 41 options. */
export function announcePacket(f: UdpAnnounceFields): Uint8Array {
  const options = f.options ?? (f.urlData === undefined ? new Uint8Array(0) : urlDataOptions(f.urlData));
  const out = new Uint8Array(98 + options.length);
  const view = new DataView(out.buffer);
  out.set(f.connectionId.subarray(0, 8), 0);
  view.setUint32(8, 1);
  view.setUint32(12, f.tid);
  out.set(f.infoHash, 16);
  out.set(f.peerId, 36);
  view.setBigUint64(56, BigInt(f.downloaded ?? 0));
  view.setBigUint64(64, BigInt(f.left ?? 0));
  view.setBigUint64(72, BigInt(f.uploaded ?? 0));
  view.setUint32(80, f.event ?? 0);
  view.setUint32(84, 0);
  view.setUint32(88, 0x1234);
  view.setInt32(92, f.numwant ?? -1);
  view.setUint16(96, f.port ?? 6881);
  out.set(options, 98);
  return out;
}

/** BEP 41 URL data as options of type 2, 255 bytes at most each, then EndOfOptions. */
export function urlDataOptions(urlData: string): Uint8Array {
  const bytes = new TextEncoder().encode(urlData);
  const parts: number[] = [];
  for (let at = 0; at < bytes.length; at += 255) {
    const chunk = bytes.subarray(at, at + 255);
    parts.push(2, chunk.length, ...chunk);
  }
  parts.push(0);
  return new Uint8Array(parts);
}

/** A scrape packet for `hashes`. */
export function scrapePacket(
  connectionId: Uint8Array,
  tid: number,
  hashes: readonly Uint8Array[],
): Uint8Array {
  const out = new Uint8Array(16 + hashes.length * 20);
  const view = new DataView(out.buffer);
  out.set(connectionId.subarray(0, 8), 0);
  view.setUint32(8, 2);
  view.setUint32(12, tid);
  for (let i = 0; i < hashes.length; i++) out.set(hashes[i]!, 16 + i * 20);
  return out;
}

/** A reply, read: its action, transaction id and the rest as the BEP lays it out. */
export type UdpReply =
  | { action: 0; tid: number; connectionId: Uint8Array }
  | { action: 1; tid: number; interval: number; leechers: number; seeders: number; peers: Uint8Array }
  | { action: 2; tid: number; counts: { seeders: number; completed: number; leechers: number }[] }
  | { action: 3; tid: number; message: string };

/** Reads a reply datagram; throws on anything BEP 15 does not define. */
export function readReply(packet: Uint8Array): UdpReply {
  if (packet.length < 8) throw new Error(`reply of ${packet.length} bytes`);
  const view = new DataView(packet.buffer, packet.byteOffset, packet.byteLength);
  const action = view.getUint32(0);
  const tid = view.getUint32(4);
  switch (action) {
    case 0:
      if (packet.length !== 16) throw new Error("connect reply is not 16 bytes");
      return { action, tid, connectionId: packet.slice(8, 16) };
    case 1:
      if (packet.length < 20) throw new Error("announce reply under 20 bytes");
      return {
        action,
        tid,
        interval: view.getUint32(8),
        leechers: view.getUint32(12),
        seeders: view.getUint32(16),
        peers: packet.slice(20),
      };
    case 2: {
      if ((packet.length - 8) % 12 !== 0) throw new Error("scrape reply not 8 + 12n bytes");
      const counts = [];
      for (let at = 8; at < packet.length; at += 12)
        counts.push({
          seeders: view.getUint32(at),
          completed: view.getUint32(at + 4),
          leechers: view.getUint32(at + 8),
        });
      return { action, tid, counts };
    }
    case 3:
      return { action, tid, message: new TextDecoder().decode(packet.subarray(8)) };
    default:
      throw new Error(`unknown action ${action}`);
  }
}

/** A UDP socket that sends datagrams to one tracker and waits for replies. */
export interface UdpClient {
  readonly port: number;
  /**
   * Sends `packet` and resolves with the next reply carrying its transaction id, or null when none
   * comes within `waitMs`.
   */
  ask(packet: Uint8Array, waitMs?: number): Promise<Uint8Array | null>;
  /** Sends without waiting. */
  send(packet: Uint8Array): void;
  /** Replies received since the last call (for floods), emptied. */
  drain(): Uint8Array[];
  close(): void;
}

/** Opens a client socket on `localHost` (port 0) for the tracker at `host`:`port`. */
export async function udpClient(host: string, port: number, localHost = host): Promise<UdpClient> {
  const received: Uint8Array[] = [];
  /** The pending ask: its transaction id (null for a datagram too short to carry one) and resolver. */
  let waiting: { tid: number | null; resolve: (packet: Uint8Array) => void } | null = null;
  const socket = await Bun.udpSocket({
    hostname: localHost,
    port: 0,
    socket: {
      data(_socket, data) {
        const copy = new Uint8Array(data);
        // A late reply to an earlier request is not the answer to this one.
        const tid = copy.length >= 8 ? new DataView(copy.buffer).getUint32(4) : -1;
        if (waiting && (waiting.tid === null || waiting.tid === tid)) {
          const { resolve } = waiting;
          waiting = null;
          resolve(copy);
        } else received.push(copy);
      },
    },
  });
  return {
    port: socket.port,
    ask(packet, waitMs = 2000) {
      received.length = 0;
      return new Promise((resolve) => {
        const timer = setTimeout(() => {
          waiting = null;
          resolve(null);
        }, waitMs);
        const tid = packet.length >= 16 ? new DataView(packet.buffer, packet.byteOffset).getUint32(12) : null;
        waiting = {
          tid,
          resolve: (reply) => {
            clearTimeout(timer);
            resolve(reply);
          },
        };
        socket.send(packet, port, host);
      });
    },
    send(packet) {
      socket.send(packet, port, host);
    },
    drain() {
      return received.splice(0);
    },
    close() {
      socket.close();
    },
  };
}

/** Connects and returns the connection id, failing the test when the tracker does not answer. */
export async function connectId(client: UdpClient, tid = 7): Promise<Uint8Array> {
  const reply = await client.ask(connectPacket(tid));
  if (!reply) throw new Error("no connect reply");
  const read = readReply(reply);
  if (read.action !== 0 || read.tid !== tid) throw new Error("not a connect reply");
  return read.connectionId;
}
