import net from "node:net";
import postgres from "postgres";
import type { PostgresSetting } from "../config.ts";
import { log } from "../log.ts";
import { type EmbeddedPostgres, startEmbeddedPostgres } from "./embedded.ts";

/** PostgreSQL's error code for a unique index refusing a row. */
export const UNIQUE_VIOLATION = "23505";

/**
 * A PostgreSQL `bigint` as this client reads it: a number when a number holds it exactly (up to
 * 2^53, which covers ids, sizes and counts), a BigInt beyond. Declare a column with this type
 * where it can pass 2^53 (byte totals); every other bigint column is safe to read as `number`.
 */
export type Int8 = number | bigint;

/** The one postgres.js client type used across the project. */
export type Sql = postgres.Sql<{ bigint: Int8 }>;

/** The client inside a transaction (or a savepoint). */
export type Tx = postgres.TransactionSql<{ bigint: Int8 }>;

/** An open database: the client and how to close it (and the embedded server, if any). */
export interface Database {
  readonly sql: Sql;
  /** True when this process runs the embedded PostgreSQL. */
  readonly embedded: boolean;
  /**
   * Runs `work` on a connection of its own without the page limits (schema migrations take
   * minutes on a large catalogue), closed afterwards; on the embedded database, on `sql`.
   */
  longWork<T>(work: (sql: Sql) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** Connection settings as postgres.js options, from a URL or the original `{host, ...}` object. */
function connectionOptions(setting: PostgresSetting): {
  url?: string;
  options: postgres.Options<Record<string, never>>;
} {
  if (typeof setting === "string") return { url: setting, options: {} };
  return {
    options: {
      host: setting.host,
      port: setting.port,
      database: setting.database,
      username: setting.user,
      password: setting.password,
    },
  };
}

/**
 * bigint columns come back as JS numbers, far cheaper than BigInt on every page, unless a number
 * would round them (above 2^53: only byte totals get there): those come back as BigInt, so no
 * byte is ever lost on the way out (see {@link Int8}).
 */
const TYPES = {
  bigint: {
    to: 20,
    from: [20],
    serialize: (n: Int8) => String(n),
    parse: (s: string): Int8 => {
      const n = Number(s);
      return Number.isSafeInteger(n) ? n : BigInt(s);
    },
  },
};

/**
 * Rows come back camelCase: result column `user_id` is read as `row.userId`. Identifiers this
 * client writes itself (`sql(object)` for insert and update, `sql(rows, "column")`, `sql("name")`)
 * go the other way, `userId` to `user_id`; snake_case names pass through unchanged. SQL text is
 * never touched, so queries keep the schema's snake_case names, and neither are the keys inside
 * json values (`json_build_object`, a jsonb column): those arrive exactly as the database wrote them.
 */
const TRANSFORM = { column: { from: postgres.toCamel, to: postgres.fromCamel } };

/** Seconds to open a connection and log in before giving up (`CONNECT_TIMEOUT`). */
export const CONNECT_TIMEOUT_SECONDS = 5;

/**
 * How long queries may take, on a PostgreSQL server. Pages must answer before the web server's
 * 10 s idle timeout cuts the visitor's connection, so a query that runs too long, or a server that
 * stops answering, must end in an error ("temporarily unavailable") well within it.
 */
export interface QueryLimits {
  /** PostgreSQL's `statement_timeout` for every statement of the connection; 0: none. */
  readonly statementTimeoutMs: number;
  /**
   * A connection that sent something and has heard nothing back for this long is closed, failing
   * its queries: the server or the network stopped answering without resetting the connection,
   * which no timeout on the server's side can report. 0: never. Must exceed the statement timeout,
   * so that a merely slow statement is ended by the server, with its own error, first.
   */
  readonly unansweredMs: number;
  /** Close connections idle this long (a firewall may drop them silently meanwhile); 0: never. */
  readonly idleSeconds: number;
}

/** Limits for the web side: pages, the API and the credit writes. */
export const PAGE_LIMITS: QueryLimits = { statementTimeoutMs: 4000, unansweredMs: 5000, idleSeconds: 30 };

/** Limits for long work (schema migrations, the tracker's full reloads): only a silent server. */
export const LONG_WORK_LIMITS: QueryLimits = { statementTimeoutMs: 0, unansweredMs: 0, idleSeconds: 0 };

/** What postgres.js hands a custom socket factory (the options it parsed). */
interface SocketOptions {
  host: string[];
  port: number[];
  path?: string | false;
  ssl?: unknown;
}

/**
 * A socket factory for postgres.js that closes a connection once it has waited `unansweredMs` for
 * any reply to what it sent. Only plain connections (TCP or a Unix socket) are watched: over TLS
 * the encrypted traffic does not pass through this socket's events, and the statement and connect
 * timeouts are the only limits.
 */
function watchedSocket(unansweredMs: number) {
  return (options: SocketOptions): net.Socket => {
    const socket = options.path
      ? net.connect(options.path)
      : net.connect(options.port[0] ?? 5432, options.host[0] ?? "localhost");
    // postgres.js names these in its connection errors.
    Object.assign(socket, { host: options.host[0], port: options.port[0] });
    if (options.ssl || unansweredMs <= 0) return socket;
    let waitingSince = 0;
    const write = socket.write.bind(socket) as (...args: unknown[]) => boolean;
    socket.write = ((...args: unknown[]) => {
      waitingSince ||= performance.now();
      return write(...args);
    }) as typeof socket.write;
    socket.on("data", () => {
      waitingSince = 0;
    });
    const check = setInterval(
      () => {
        if (waitingSince && performance.now() - waitingSince > unansweredMs) {
          log.warn("the database did not answer; closing the connection", {
            waitedMs: Math.round(performance.now() - waitingSince),
          });
          // Closing without an error makes postgres.js fail the connection's queries with
          // CONNECTION_CLOSED and open a new connection for the next ones, without backing off.
          socket.destroy();
        }
      },
      Math.min(250, unansweredMs / 4),
    );
    check.unref();
    socket.on("close", () => clearInterval(check));
    return socket;
  };
}

/** Opens a postgres.js client on a server, with the project's type settings and `limits`. */
export function connect(setting: PostgresSetting, max = 10, limits: QueryLimits = PAGE_LIMITS): Sql {
  const { url, options } = connectionOptions(setting);
  // `socket` is a postgres.js option its type declarations leave out.
  const base = {
    ...options,
    max,
    types: TYPES,
    transform: TRANSFORM,
    onnotice: () => {},
    connect_timeout: CONNECT_TIMEOUT_SECONDS,
    ...(limits.idleSeconds > 0 ? { idle_timeout: limits.idleSeconds } : {}),
    ...(limits.statementTimeoutMs > 0
      ? { connection: { statement_timeout: limits.statementTimeoutMs } as Record<string, unknown> }
      : {}),
    socket: watchedSocket(limits.unansweredMs),
  } as postgres.Options<typeof TYPES>;
  return (url ? postgres(url, base) : postgres(base)) as unknown as Sql;
}

/** Opens the configured server, or starts the embedded one in `dataDir` when none is configured. */
export async function openDatabase(setting: PostgresSetting | null, dataDir: string): Promise<Database> {
  if (setting) {
    const sql = connect(setting);
    return {
      sql,
      embedded: false,
      async longWork(work) {
        const own = connect(setting, 1, LONG_WORK_LIMITS);
        try {
          return await work(own);
        } finally {
          await own.end({ timeout: 5 });
        }
      },
      close: () => sql.end({ timeout: 5 }),
    };
  }
  const server: EmbeddedPostgres = await startEmbeddedPostgres(dataDir);
  // In-process and served one connection at a time: no network to go silent, no limits.
  const sql = postgres({
    path: server.socketPath,
    username: "postgres",
    database: "postgres",
    max: 1,
    types: TYPES,
    transform: TRANSFORM,
    onnotice: () => {},
  }) as unknown as Sql;
  return {
    sql,
    embedded: true,
    longWork: (work) => work(sql),
    async close() {
      await sql.end({ timeout: 5 });
      await server.stop();
    },
  };
}

const UNAVAILABLE_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ENOTFOUND",
  "ETIMEDOUT",
  "EPIPE",
  "CONNECT_TIMEOUT",
  "CONNECTION_CLOSED",
  "CONNECTION_ENDED",
  "CONNECTION_DESTROYED",
  "57P01", // admin_shutdown
  "57P02", // crash_shutdown
  "57P03", // cannot_connect_now
  "53300", // too_many_connections
  "57014", // query_canceled: the statement timeout, on an overloaded or locked-up server
]);

/**
 * Errors of the database as a whole being away or overwhelmed (as opposed to a bad query): pages
 * say "try later". A server that stops answering ends in CONNECT_TIMEOUT (new connections) or
 * CONNECTION_CLOSED (open ones, closed by the watch on unanswered queries).
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && UNAVAILABLE_CODES.has(code);
}

/**
 * Errors caused by the values sent rather than by the database or the query: SQLSTATE classes 22
 * (data exception, e.g. a bigint out of range) and 23 (a check or key refused), and a value this
 * process refused to send (RangeError). Retrying the same values cannot help; leaving them out can.
 */
export function isDataError(error: unknown): boolean {
  if (error instanceof RangeError) return true;
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && code.length === 5 && (code.startsWith("22") || code.startsWith("23"));
}

/** Database errors seen by request handlers, for the metric. */
export const databaseErrors = { count: 0 };
