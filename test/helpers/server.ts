import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { type Config, loadConfig } from "../../src/config.ts";
import { type Running, serve } from "../../src/server.ts";
import { freshDataDir, SERVER_URL } from "./database.ts";

/** A fresh database for a whole server: a new database on the real server, or a new data folder. */
export async function freshServerDatabase(): Promise<{ env: Record<string, string>; drop(): Promise<void> }> {
  if (!SERVER_URL) {
    const dataDir = await freshDataDir();
    return { env: { FAIRYWREN_DATA_DIR: dataDir }, drop: async () => {} };
  }
  const name = `fw_test_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
  const admin = postgres(SERVER_URL, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  const url = new URL(SERVER_URL);
  url.pathname = `/${name}`;
  return {
    env: { DATABASE_URL: url.toString(), FAIRYWREN_DATA_DIR: mkdtempSync(join(tmpdir(), "fw-data-")) },
    async drop() {
      await admin.unsafe(`drop database if exists ${name} with (force)`);
      await admin.end();
    },
  };
}

/**
 * Configuration for a test server on free loopback ports. Uploads are not held for moderation
 * unless `env` sets FAIRYWREN_MODERATE_UPLOADS (the suites of other features upload as plain members).
 */
export function testConfig(env: Record<string, string>): Config {
  return loadConfig({
    env: {
      FAIRYWREN_WEB_HOST: "127.0.0.1",
      FAIRYWREN_TRACKER_HOST: "127.0.0.1",
      FAIRYWREN_WEB_PORT: "0",
      FAIRYWREN_TRACKER_PORT: "0",
      FAIRYWREN_LOG_LEVEL: "warn",
      FAIRYWREN_METRICS_HOST: "127.0.0.1",
      FAIRYWREN_METRICS_PORT: "0",
      FAIRYWREN_FLUSH_INTERVAL_MS: "200",
      FAIRYWREN_MODERATE_UPLOADS: "false",
      ...env,
    },
  });
}

/** A whole Fairywren in this process, on its own fresh database. */
export async function startTestServer(env: Record<string, string> = {}): Promise<{
  running: Running;
  config: Config;
  web: string;
  tracker: string;
  stop(): Promise<void>;
}> {
  const db = await freshServerDatabase();
  const config = testConfig({ ...db.env, ...env });
  const running = await serve(config);
  return {
    running,
    config,
    web: `http://127.0.0.1:${running.webPort}`,
    tracker: `http://127.0.0.1:${running.trackerPort}`,
    async stop() {
      await running.stop();
      await db.drop();
    },
  };
}
