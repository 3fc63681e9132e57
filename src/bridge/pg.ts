// The bridge's vocabulary over PostgreSQL LISTEN/NOTIFY, for web and tracker processes that share
// one database (`fairywren serve --only web|tracker`). The single process keeps the Worker's port.
//
// Any login on the database may NOTIFY, and any may LISTEN and read what others send. So only ids
// travel: towards the tracker, the members and torrents to read again (the tracker's feed reads
// them, feed.ts); towards the web processes, the torrents whose counts the tracker's process has
// just written to `torrent_counts`, which each web process reads there (counts.ts). A forged
// notification costs a read and changes nothing anyone sees; passkeys and numbers never appear in
// a payload. Credit does not travel here at all: the tracker process writes its own batches. Nor
// do peer lists: the tracker process writes the one asked for into `torrent_peers` and says so.
import type { Sql } from "../db/client.ts";
import { log } from "../log.ts";
import { CHANNEL_VERSION, type Channel } from "../shared/channel.ts";
import { type LiveCounts, readCounts } from "./counts.ts";
import type { ToTracker, ToWeb } from "./vocabulary.ts";

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

/** What the tracker's process tells the web processes: the vocabulary's answers, and counts to read. */
export type TrackerNews =
  | Extract<ToWeb, { kind: "pong" } | { kind: "peers-ready" }>
  /** The counts of these torrents were written to `torrent_counts`. */
  | { readonly kind: "counts"; readonly ids: readonly number[] };

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

/** Splits `ids` into counts payloads under the NOTIFY limit; each is a complete message. */
export function countsPayloads(ids: readonly number[]): string[] {
  const head = `{"v":${CHANNEL_VERSION},"msg":{"kind":"counts","ids":[`;
  const tail = "]}}";
  const out: string[] = [];
  let rows = "";
  for (const id of ids) {
    const row = String(id);
    if (rows && head.length + rows.length + 1 + row.length + tail.length > MAX_PAYLOAD_BYTES) {
      out.push(head + rows + tail);
      rows = "";
    }
    rows += (rows ? "," : "") + row;
  }
  if (rows) out.push(head + rows + tail);
  return out;
}

function wire(msg: ToTracker | TrackerNews): string[] {
  if (msg.kind === "counts") return countsPayloads(msg.ids);
  return [JSON.stringify({ v: CHANNEL_VERSION, msg })];
}

const isId = (n: unknown): n is number => Number.isSafeInteger(n) && (n as number) > 0;
const isCount = (n: unknown): n is number => Number.isSafeInteger(n) && (n as number) >= 0;

/** The message in a payload towards the tracker, or null when it is not one we send. */
export function readToTracker(msg: Record<string, unknown>): ToTracker | null {
  if ((msg.kind === "user" || msg.kind === "torrent") && isId(msg.id)) return { kind: msg.kind, id: msg.id };
  if (msg.kind === "windows") return { kind: "windows" };
  if (msg.kind === "ping" && Number.isSafeInteger(msg.nonce))
    return { kind: "ping", nonce: msg.nonce as number };
  if (
    msg.kind === "peers-request" &&
    isId(msg.torrentId) &&
    Number.isSafeInteger(msg.nonce) &&
    isCount(msg.limit)
  )
    return { kind: "peers-request", torrentId: msg.torrentId, nonce: msg.nonce as number, limit: msg.limit };
  return null;
}

/** The message in a payload towards the web processes, or null when it is not one we send. */
export function readToWeb(msg: Record<string, unknown>): TrackerNews | null {
  if (msg.kind === "pong" && Number.isSafeInteger(msg.nonce))
    return { kind: "pong", nonce: msg.nonce as number };
  if (msg.kind === "peers-ready" && Number.isSafeInteger(msg.nonce) && isId(msg.torrentId))
    return {
      kind: "peers-ready",
      nonce: msg.nonce as number,
      torrentId: msg.torrentId,
      known: msg.known === true,
    };
  if (msg.kind === "counts" && Array.isArray(msg.ids) && msg.ids.every(isId))
    return { kind: "counts", ids: msg.ids as number[] };
  return null;
}

interface Transport<In> {
  sql: Sql;
  /** Opens a fresh client for the LISTEN connection (replaced whole when it goes deaf). */
  listener: () => Sql;
  listenOn: string;
  sendOn: string;
  /**
   * Turns a payload's message into what this end hands on (may read the database): null when it
   * is not one we send, undefined when it was handled here.
   */
  read(msg: Record<string, unknown>): Promise<In | null | undefined> | In | null | undefined;
  name: string;
}

/** Both ends: a serial send queue, a serial receive queue, heartbeats and the deafness watchdog. */
async function open<Out extends ToTracker | TrackerNews, In>(
  transport: Transport<In>,
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
        if (message === undefined) return;
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
      for (const payload of wire(message)) notify(sendOn, payload);
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
 * The web side's end over PostgreSQL: what the web side says goes to the tracker process as it is
 * (ids only); pongs and peer-list answers come back, and the counts of the torrents named in a
 * counts notification are read from `torrent_counts` into `counts` (cleared when notifications
 * may have been missed). `listener` opens the client that holds the LISTEN.
 */
export async function pgWebEnd(
  sql: Sql,
  listener: () => Sql,
  counts: LiveCounts,
): Promise<PgChannel<ToTracker, ToWeb>> {
  const end = await open<ToTracker, ToWeb>({
    sql,
    listener,
    listenOn: TO_WEB,
    sendOn: TO_TRACKER,
    name: "web",
    async read(raw) {
      const msg = readToWeb(raw);
      if (msg?.kind !== "counts") return msg;
      await readCounts(sql, msg.ids, counts);
      return undefined;
    },
  });
  end.onReconnect(() => counts.clear());
  return end;
}

/**
 * The tracker process's end over PostgreSQL: what the web processes say arrives as the vocabulary
 * (ids only, checked), for the tracker's feed to read and apply; pongs, peer-list answers and
 * the ids of written counts go out to every web process.
 */
export function pgTrackerEnd(sql: Sql, listener: () => Sql): Promise<PgChannel<TrackerNews, ToTracker>> {
  return open<TrackerNews, ToTracker>({
    sql,
    listener,
    listenOn: TO_TRACKER,
    sendOn: TO_WEB,
    name: "tracker",
    read: readToTracker,
  });
}
