// A fresh database per test file: on the server in DATABASE_URL when set (CI runs the suite once
// that way against a real PostgreSQL), otherwise an embedded PostgreSQL in a temporary folder.
import { cpSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { connect, openDatabase, type Sql } from "../../src/db/client.ts";
import { migrate } from "../../src/db/migrate.ts";
import { configureLog } from "../../src/log.ts";

configureLog("warn");

/** A database for one test file. */
export interface TestDatabase {
  readonly sql: Sql;
  /** URL of the fresh database on a real server; undefined in embedded mode. */
  readonly url?: string;
  /** Data folder holding the embedded database (a fresh temp folder either way). */
  readonly dataDir: string;
  readonly embedded: boolean;
  close(): Promise<void>;
}

/** The real server the suite runs against, if any. */
export const SERVER_URL = process.env.DATABASE_URL || undefined;

let template: string | null = null;

// initdb takes seconds; later embedded databases start from a copy of the first one's folder.
async function embeddedTemplate(): Promise<string> {
  if (template && existsSync(template)) return template;
  const dir = mkdtempSync(join(tmpdir(), "fw-template-"));
  const db = await openDatabase(null, dir);
  await db.close();
  template = dir;
  process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A new, empty database folder for a subprocess to use as its embedded database. */
export async function freshDataDir(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), "fw-data-"));
  cpSync(join(await embeddedTemplate(), "pg"), join(dir, "pg"), { recursive: true });
  return dir;
}

/** A fresh database, migrated unless `migrated` is false. */
export async function testDatabase(options: { migrated?: boolean } = {}): Promise<TestDatabase> {
  const dataDir = SERVER_URL ? mkdtempSync(join(tmpdir(), "fw-data-")) : await freshDataDir();
  let result: TestDatabase;
  if (SERVER_URL) {
    const name = `fw_test_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
    const admin = postgres(SERVER_URL, { max: 1, onnotice: () => {} });
    await admin.unsafe(`create database ${name}`);
    const url = new URL(SERVER_URL);
    url.pathname = `/${name}`;
    const sql = connect(url.toString());
    result = {
      sql,
      url: url.toString(),
      dataDir,
      embedded: false,
      async close() {
        await sql.end({ timeout: 5 });
        await admin.unsafe(`drop database if exists ${name} with (force)`);
        await admin.end();
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  } else {
    const db = await openDatabase(null, dataDir);
    result = {
      sql: db.sql,
      dataDir,
      embedded: true,
      async close() {
        await db.close();
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  }
  if (options.migrated !== false) await migrate(result.sql);
  return result;
}
