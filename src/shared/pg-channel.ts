// The channel's messages over PostgreSQL LISTEN/NOTIFY, for web and tracker processes that share
// one database (`fairywren serve --only web|tracker`). The single process keeps its Worker channel.
//
// What crosses the database is narrower than what crosses the Worker: any login on the database may
// NOTIFY, and any may LISTEN and read what others send. So member and torrent changes travel as ids
// only, and the tracker's end reads the row itself before applying it (a forged notification costs
// one read and changes nothing); passkeys never appear in a payload. Counts and pongs go the other
// way as they are. Credit does not travel here at all: the tracker process writes its own batches.
// Nor do peer lists: the tracker process writes the one asked for into `torrent_peers` and says so.
import type { Sql } from "../db/client.ts";
import { factorWindows } from "../db/queries/freeleech.ts";
import { trackerTorrent } from "../db/queries/torrents.ts";
import { trackerUser } from "../db/queries/users.ts";
import { log } from "../log.ts";
import {
  CHANNEL_VERSION,
  type Channel,
  type TorrentCounts,
  type TrackerToWeb,
  type WebToTracker,
} from "./channel.ts";

/** NOTIFY channel the tracker process listens on. */
export const TO_TRACKER = "fairywren_to_tracker";
/** NOTIFY channel every web process listens on. */
export const TO_WEB = "fairywren_to_web";
/** PostgreSQL refuses a NOTIFY payload of 8000 bytes or more. */
export const MAX_PAYLOAD_BYTES = 7999;
/** How often each end sends itself a heartbeat through the database. */
export const HEARTBEAT_MS = 2000;
/** Without its own heartbeat for this long, an end drops its LISTEN connection and opens a new one. */
export const DEAF_AFTER_MS = 3 * HEARTBEAT_MS + 1000;

/** What travels towards the tracker: ids to read, and pings. */
type ToTrackerWire =
  | { readonly kind: "user"; readonly id: number }
  | { readonly kind: "torrent"; readonly id: number }
  /** The site-wide factor windows changed: the tracker's end reads them all. */
  | { readonly kind: "windows" }
  | { readonly kind: "ping"; readonly nonce: number }
  /** A web process asks for a torrent's peer list: the tracker process writes it to `torrent_peers`. */
  | { readonly kind: "peers"; readonly id: number; readonly nonce: number; readonly limit: number };

/** What travels towards the web processes. */
type ToWebWire =
  | { readonly kind: "counts"; readonly counts: TorrentCounts[] }
  | { readonly kind: "pong"; readonly nonce: number }
  | {
      readonly kind: "peers-ready";
      readonly nonce: number;
      readonly torrentId: number;
      readonly known: boolean;
    };

/** One end of the channel over PostgreSQL. */
export interface PgChannel<Out, In> extends Channel<Out, In> {
  /** True while this end hears its own heartbeats, i.e. its LISTEN works. */
  readonly listening: boolean;
  /**
   * Calls `handler` whenever LISTEN is in place again after the connection was lost: messages sent
   * meanwhile are gone, so the receiver should catch up from the database.
   */
  onReconnect(handler: () => void): void;
  /** Stops listening and sending. */
  close(): Promise<void>;
}

/** Splits `counts` into payloads under the NOTIFY limit; each is a complete message. */
export function countsPayloads(counts: readonly TorrentCounts[]): string[] {
  const head = `{"v":${CHANNEL_VERSION},"msg":{"kind":"counts","counts":[`;
  const tail = "]}}";
  const out: string[] = [];
  let rows = "";
  for (const c of counts) {
    const row = `[${c[0]},${c[1]},${c[2]},${c[3]}]`;
    if (rows && head.length + rows.length + 1 + row.length + tail.length > MAX_PAYLOAD_BYTES) {
      out.push(head + rows + tail);
      rows = "";
    }
    rows += (rows ? "," : "") + row;
  }
  if (rows) out.push(head + rows + tail);
  return out;
}

function wire(msg: ToTrackerWire | ToWebWire): string[] {
  if (msg.kind === "counts") return countsPayloads(msg.counts);
  return [JSON.stringify({ v: CHANNEL_VERSION, msg })];
}

const isId = (n: unknown): n is number => Number.isSafeInteger(n) && (n as number) > 0;
const isCount = (n: unknown): n is number => Number.isSafeInteger(n) && (n as number) >= 0;

/** The message in a payload towards the tracker, or null when it is not one we send. */
function readToTracker(msg: Record<string, unknown>): ToTrackerWire | null {
  if ((msg.kind === "user" || msg.kind === "torrent") && isId(msg.id)) return { kind: msg.kind, id: msg.id };
  if (msg.kind === "windows") return { kind: "windows" };
  if (msg.kind === "ping" && Number.isSafeInteger(msg.nonce))
    return { kind: "ping", nonce: msg.nonce as number };
  if (msg.kind === "peers" && isId(msg.id) && Number.isSafeInteger(msg.nonce) && isCount(msg.limit))
    return { kind: "peers", id: msg.id, nonce: msg.nonce as number, limit: msg.limit };
  return null;
}

/** The message in a payload towards the web side, or null when it is not one we send. */
function readToWeb(msg: Record<string, unknown>): TrackerToWeb | null {
  if (msg.kind === "pong" && Number.isSafeInteger(msg.nonce))
    return { kind: "pong", nonce: msg.nonce as number };
  if (msg.kind === "peers-ready" && Number.isSafeInteger(msg.nonce) && isId(msg.torrentId))
    return {
      kind: "peers-ready",
      nonce: msg.nonce as number,
      torrentId: msg.torrentId,
      known: msg.known === true,
    };
  if (msg.kind !== "counts" || !Array.isArray(msg.counts)) return null;
  const counts: TorrentCounts[] = [];
  for (const c of msg.counts as unknown[]) {
    if (
      !Array.isArray(c) ||
      c.length !== 4 ||
      !isId(c[0]) ||
      !isCount(c[1]) ||
      !isCount(c[2]) ||
      !isCount(c[3])
    )
      return null;
    counts.push([c[0], c[1], c[2], c[3]]);
  }
  return { kind: "counts", counts };
}

interface Transport<In> {
  sql: Sql;
  /** Opens a fresh client for the LISTEN connection (replaced whole when it goes deaf). */
  listener: () => Sql;
  listenOn: string;
  sendOn: string;
  /** Turns a payload's message into what this end hands on (may read the database), or null. */
  read(msg: Record<string, unknown>): Promise<In | null> | In | null;
  name: string;
}

/** Both ends: a serial send queue, a serial receive queue, heartbeats and the deafness watchdog. */
async function open<Out, In>(
  transport: Transport<In>,
  toWire: (message: Out) => ToTrackerWire | ToWebWire | null,
): Promise<PgChannel<Out, In>> {
  const { sql, listenOn, sendOn, name } = transport;
  const self = crypto.randomUUID();
  const handlers: ((message: In) => void)[] = [];
  const reconnectHandlers: (() => void)[] = [];
  let sending: Promise<unknown> = Promise.resolve();
  let receiving: Promise<unknown> = Promise.resolve();
  let lastHeard = Date.now();
  let lastWarning = 0;
  let closed = false;
  let client: Sql | null = null;
  let connects = 0;
  let replacing = false;

  const warn = (msg: string, error: unknown) => {
    if (Date.now() - lastWarning < 10_000) return;
    lastWarning = Date.now();
    log.warn(msg, { channel: name, error: error as Error });
  };

  // One notification at a time and in order: a ping must reach the tracker after the change it
  // confirms, and notifications sent over different pool connections could overtake each other.
  const notify = (channel: string, payload: string) => {
    sending = sending.catch(() => null).then(() => (closed ? null : sql.notify(channel, payload)));
    sending.catch((error) => warn("a notification was not sent", error));
  };

  const onPayload = (payload: string) => {
    let parsed: { v?: unknown; msg?: unknown; hb?: unknown };
    try {
      parsed = JSON.parse(payload);
    } catch {
      return log.debug("dropped a notification that is not JSON", { channel: name });
    }
    if (parsed?.v !== CHANNEL_VERSION)
      return log.debug("dropped a notification of another version", { channel: name });
    if (parsed.hb !== undefined) {
      if (parsed.hb === self) lastHeard = Date.now();
      return;
    }
    if (!parsed.msg || typeof parsed.msg !== "object") return;
    const msg = parsed.msg as Record<string, unknown>;
    // Reads for one message finish before the next is handed on, so order is kept.
    receiving = receiving
      .then(async () => {
        const message = await transport.read(msg);
        if (message === null) return log.debug("dropped an unknown notification", { channel: name });
        for (const handler of handlers) handler(message);
      })
      .catch((error) => warn("a notification could not be handled", error));
  };

  const listen = async () => {
    const next = transport.listener();
    try {
      await next.listen(listenOn, onPayload, () => {
        lastHeard = Date.now();
        // postgres.js calls this on the first LISTEN and after each reconnection it manages.
        if (connects++ > 0) for (const handler of reconnectHandlers) handler();
      });
    } catch (error) {
      await next.end({ timeout: 0 }).catch(() => {});
      throw error;
    }
    client = next;
  };

  await listen();
  const heartbeat = setInterval(() => {
    notify(listenOn, JSON.stringify({ v: CHANNEL_VERSION, hb: self }));
    if (replacing || Date.now() - lastHeard < DEAF_AFTER_MS) return;
    // postgres.js does not always come back from a failed reconnection: start from a new client.
    replacing = true;
    const old = client;
    client = null;
    void (async () => {
      await old?.end({ timeout: 0 }).catch(() => {});
      try {
        await listen();
        log.info("listening again for notifications", { channel: name });
      } catch (error) {
        warn("cannot listen for notifications; will retry", error);
      } finally {
        replacing = false;
      }
    })();
  }, HEARTBEAT_MS);

  return {
    get listening() {
      return client !== null && Date.now() - lastHeard < DEAF_AFTER_MS;
    },
    send(message) {
      const msg = toWire(message);
      if (!msg)
        return log.error("a message that does not travel over PostgreSQL was dropped", { channel: name });
      for (const payload of wire(msg)) notify(sendOn, payload);
    },
    onMessage(handler) {
      handlers.push(handler);
    },
    onReconnect(handler) {
      reconnectHandlers.push(handler);
    },
    async close() {
      clearInterval(heartbeat);
      await sending.catch(() => {});
      closed = true;
      await client?.end({ timeout: 1 }).catch(() => {});
      client = null;
    },
  };
}

/**
 * The web side's end over PostgreSQL: member and torrent changes go to the tracker as ids, pings as
 * they are; counts and pongs come back. `listener` opens the client that holds the LISTEN.
 */
export function pgWebEnd(sql: Sql, listener: () => Sql): Promise<PgChannel<WebToTracker, TrackerToWeb>> {
  return open<WebToTracker, TrackerToWeb>(
    { sql, listener, listenOn: TO_WEB, sendOn: TO_TRACKER, read: readToWeb, name: "web" },
    (message): ToTrackerWire | null => {
      switch (message.kind) {
        case "user-upsert":
          return { kind: "user", id: message.user.id };
        case "user-removed":
          return { kind: "user", id: message.id };
        case "torrent-upsert":
          return { kind: "torrent", id: message.torrent.id };
        case "torrent-removed":
          return { kind: "torrent", id: message.id };
        case "windows":
          return { kind: "windows" };
        case "ping":
          return message;
        case "peers-request":
          return { kind: "peers", id: message.torrentId, nonce: message.nonce, limit: message.limit };
        default:
          return null;
      }
    },
  );
}

/**
 * The tracker's end over PostgreSQL: a member or torrent id that arrives is read from the database
 * (through `sql`) and handed on as the upsert or removal the Worker understands; pings pass
 * through in order behind those reads. Counts and pongs go out to every web process.
 */
export function pgTrackerEnd(sql: Sql, listener: () => Sql): Promise<PgChannel<TrackerToWeb, WebToTracker>> {
  return open<TrackerToWeb, WebToTracker>(
    {
      sql,
      listener,
      listenOn: TO_TRACKER,
      sendOn: TO_WEB,
      name: "tracker",
      async read(raw) {
        const msg = readToTracker(raw);
        if (!msg) return null;
        if (msg.kind === "ping") return msg;
        if (msg.kind === "peers")
          return { kind: "peers-request", nonce: msg.nonce, torrentId: msg.id, limit: msg.limit };
        if (msg.kind === "windows") return { kind: "windows", windows: await factorWindows(sql) };
        if (msg.kind === "user") {
          const user = await trackerUser(sql, msg.id);
          return user ? { kind: "user-upsert", user } : { kind: "user-removed", id: msg.id };
        }
        const torrent = await trackerTorrent(sql, msg.id);
        return torrent ? { kind: "torrent-upsert", torrent } : { kind: "torrent-removed", id: msg.id };
      },
    },
    (message): ToWebWire | null =>
      message.kind === "counts" || message.kind === "pong" || message.kind === "peers-ready"
        ? (message as ToWebWire)
        : null,
  );
}
