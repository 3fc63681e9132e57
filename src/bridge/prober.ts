// The connectable prober: in the process that runs the tracker (never on the Worker's announce
// path), it opens a TCP connection to members' peers, as saved with the credit, and completes a
// BitTorrent handshake (BEP 3) for their torrent. A peer that answers with the same protocol name
// and info_hash is connectable; one that refuses, closes, answers otherwise or stays silent for
// PROBE_TIMEOUT_MS is not. At most `probesPerSecond` probes start a second; each (address, port,
// info_hash) is probed again `recheckSeconds` after its last probe. Outcomes go to peer_probes.
import { createConnection } from "node:net";
import type { Sql } from "../db/client.ts";
import { type DueProbe, dueProbes, forgetOldProbes, recordProbes } from "../db/queries/probes.ts";
import { log } from "../log.ts";

/** How long a peer has to connect and answer the handshake. */
export const PROBE_TIMEOUT_MS = 4000;
/** A probe's outcome is kept this long before the peer is probed again. */
export const RECHECK_SECONDS = 3600;
/** Seconds of probes chosen by one read of the saved peers (a read scans them all). */
const QUEUE_SECONDS = 30;
/** After a read found nothing due, the next waits this long. */
const IDLE_READ_MS = 5000;
/** Probes older than this are forgotten. */
const FORGET_SECONDS = 7 * 86400;
const PROTOCOL = new TextEncoder().encode("BitTorrent protocol");
/** pstrlen, pstr, 8 reserved bytes and the info_hash: what the answer must match (its peer_id is not read). */
const ANSWER_BYTES = 1 + 19 + 8 + 20;

/** The 68-byte handshake of BEP 3: pstrlen 19, "BitTorrent protocol", 8 zero bytes, info_hash, peer_id. */
export function handshake(infoHash: Uint8Array, peerId: Uint8Array): Uint8Array {
  const out = new Uint8Array(68);
  out[0] = 19;
  out.set(PROTOCOL, 1);
  out.set(infoHash.subarray(0, 20), 28);
  out.set(peerId.subarray(0, 20), 48);
  return out;
}

/** Whether the first 48 bytes of an answer name the BitTorrent protocol and the same info_hash. */
export function answerMatches(answer: Uint8Array, infoHash: Uint8Array): boolean {
  if (answer.length < ANSWER_BYTES || answer[0] !== 19) return false;
  for (let i = 0; i < 19; i++) if (answer[1 + i] !== PROTOCOL[i]) return false;
  for (let i = 0; i < 20; i++) if (answer[28 + i] !== infoHash[i]) return false;
  return true;
}

/** A saved address (4 or 16 bytes) as text for connect(). */
export function addressText(address: Uint8Array): string {
  if (address.length === 4) return address.join(".");
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((address[i]! << 8) | address[i + 1]!).toString(16));
  return groups.join(":");
}

/**
 * Connects to `host`:`port`, sends the handshake for `infoHash` and reads the answer: true when it
 * matches (see answerMatches), false otherwise, after at most `timeoutMs`. Never throws.
 */
export function probePeer(
  host: string,
  port: number,
  infoHash: Uint8Array,
  peerId: Uint8Array,
  timeoutMs = PROBE_TIMEOUT_MS,
): Promise<boolean> {
  return new Promise((resolve) => {
    const received = new Uint8Array(ANSWER_BYTES);
    let got = 0;
    let done = false;
    const socket = createConnection({ host, port });
    const finish = (connectable: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(connectable);
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    socket.on("connect", () => socket.write(handshake(infoHash, peerId)));
    socket.on("data", (chunk: Buffer) => {
      const take = Math.min(chunk.length, ANSWER_BYTES - got);
      received.set(chunk.subarray(0, take), got);
      got += take;
      if (got === ANSWER_BYTES) finish(answerMatches(received, infoHash));
    });
    socket.on("error", () => finish(false));
    socket.on("close", () => finish(false));
  });
}

/** The prober's settings. */
export interface ProberOptions {
  /** Most probes started a second (the `tracker.connectableProbesPerSecond` setting). */
  readonly probesPerSecond: number;
  readonly timeoutMs?: number;
  readonly recheckSeconds?: number;
}

/** A peer_id of our own for the handshakes: "-FW0001-" and 12 random digits. */
function ownPeerId(): Uint8Array {
  const digits = Array.from(crypto.getRandomValues(new Uint8Array(12)), (b) => String(b % 10)).join("");
  return new TextEncoder().encode(`-FW0001-${digits}`);
}

const keyOf = (p: DueProbe) =>
  `${Buffer.from(p.address).toString("hex")}/${p.port}/${Buffer.from(p.infoHash).toString("hex")}`;

/**
 * Probes members' peers at a bounded rate: every second (see start) one {@link tick} takes at most
 * `probesPerSecond` peers due a probe and probes them. The peers due are read QUEUE_SECONDS worth
 * at a time (seeders first), so the saved peers are scanned at most every QUEUE_SECONDS seconds
 * while there is work, and every IDLE_READ_MS when there is none. Probes still under way are not
 * started again.
 */
export class ConnectableProber {
  /** Probes started since this prober was made. */
  made = 0;
  private readonly peerId = ownPeerId();
  private readonly pending = new Set<string>();
  private timer: ReturnType<typeof setInterval> | null = null;
  /** Ticks under way (their probes may outlast the second). */
  private readonly running = new Set<Promise<unknown>>();
  /** A tick is choosing its peers: the next one waits its turn (starts stay one second apart). */
  private choosing = false;
  private lastForget = 0;
  /** Peers chosen by the last read, not probed yet. */
  private queue: DueProbe[] = [];
  /** When a read last found nothing due. */
  private idleSince = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly sql: Sql,
    private readonly options: ProberOptions,
  ) {}

  /**
   * One second's probes: at most `probesPerSecond` started, whatever is due. Resolves once they are
   * all done and recorded, with how many were started.
   */
  async tick(): Promise<number> {
    const rate = this.options.probesPerSecond;
    if (rate <= 0 || this.choosing) return 0;
    const recheck = this.options.recheckSeconds ?? RECHECK_SECONDS;
    let due: DueProbe[];
    this.choosing = true;
    try {
      if (Date.now() - this.lastForget > 600_000) {
        this.lastForget = Date.now();
        await forgetOldProbes(this.sql, Math.max(FORGET_SECONDS, recheck * 2));
      }
      if (this.queue.length < rate && Date.now() - this.idleSince >= IDLE_READ_MS) {
        const read = await dueProbes(this.sql, rate * QUEUE_SECONDS + this.pending.size, recheck);
        const queued = new Set(this.queue.map(keyOf));
        for (const p of read) if (!queued.has(keyOf(p))) this.queue.push(p);
        this.idleSince = read.length === 0 ? Date.now() : Number.NEGATIVE_INFINITY;
      }
      due = [];
      while (due.length < rate && this.queue.length > 0) {
        const p = this.queue.shift()!;
        if (!this.pending.has(keyOf(p))) due.push(p);
      }
    } finally {
      this.choosing = false;
    }
    const timeoutMs = this.options.timeoutMs ?? PROBE_TIMEOUT_MS;
    const probes = due.map(async (p) => {
      const key = keyOf(p);
      this.pending.add(key);
      this.made++;
      try {
        const connectable = await probePeer(
          addressText(p.address),
          p.port,
          p.infoHash,
          this.peerId,
          timeoutMs,
        );
        await recordProbes(this.sql, [
          { address: p.address, port: p.port, infoHash: p.infoHash, connectable },
        ]);
      } finally {
        this.pending.delete(key);
      }
    });
    await Promise.all(probes);
    return due.length;
  }

  /** Runs a tick every second from now on (none when the rate is 0). */
  start(): void {
    if (this.options.probesPerSecond <= 0 || this.timer) return;
    this.timer = setInterval(() => {
      const tick = this.tick().catch((error) =>
        log.warn("connectable probes not run; retried in a second", { error: error as Error }),
      );
      this.running.add(tick);
      void tick.finally(() => this.running.delete(tick));
    }, 1000);
  }

  /** Stops the timer and waits for the probes under way. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await Promise.all(this.running);
  }
}
