import postgres from "postgres";
import type { PostgresSetting } from "../config.ts";
import { type EmbeddedPostgres, startEmbeddedPostgres } from "./embedded.ts";

/** PostgreSQL's error code for a unique index refusing a row. */
export const UNIQUE_VIOLATION = "23505";

/** The one postgres.js client type used across the project. */
export type Sql = postgres.Sql<{ bigint: number }>;

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
 * bigint columns (byte counters) come back as JS numbers: exact up to 8 PiB, and far cheaper
 * than BigInt on every page.
 */
const TYPES = {
  bigint: { to: 20, from: [20], serialize: (n: number) => String(n), parse: (s: string) => Number(s) },
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

/** Database errors seen by request handlers, for the metric. */
export const databaseErrors = { count: 0 };
