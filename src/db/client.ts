import postgres from "postgres";
import type { PostgresSetting } from "../config.ts";
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

/** Opens a postgres.js client on a server, with the project's type settings. */
export function connect(setting: PostgresSetting, max = 10): Sql {
  const { url, options } = connectionOptions(setting);
  const base: postgres.Options<typeof TYPES> = {
    ...options,
    max,
    types: TYPES,
    onnotice: () => {},
    connect_timeout: 10,
  };
  return (url ? postgres(url, base) : postgres(base)) as unknown as Sql;
}

/** Opens the configured server, or starts the embedded one in `dataDir` when none is configured. */
export async function openDatabase(setting: PostgresSetting | null, dataDir: string): Promise<Database> {
  if (setting) {
    const sql = connect(setting);
    return { sql, embedded: false, close: () => sql.end({ timeout: 5 }) };
  }
  const server: EmbeddedPostgres = await startEmbeddedPostgres(dataDir);
  const sql = postgres({
    path: server.socketPath,
    username: "postgres",
    database: "postgres",
    max: 1,
    types: TYPES,
    onnotice: () => {},
  }) as unknown as Sql;
  return {
    sql,
    embedded: true,
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
]);

/** Errors of the database as a whole being away (as opposed to a bad query): pages say "try later". */
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
