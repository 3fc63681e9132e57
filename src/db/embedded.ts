import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { PGLiteSocketServer } from "@electric-sql/pglite-socket";
// The compiler does not follow PGlite's own asset loading; naming the files embeds them in the binary.
import initdbWasmPath from "../../node_modules/@electric-sql/pglite/dist/initdb.wasm" with { type: "file" };
import fsBundlePath from "../../node_modules/@electric-sql/pglite/dist/pglite.data" with { type: "file" };
import pgliteWasmPath from "../../node_modules/@electric-sql/pglite/dist/pglite.wasm" with { type: "file" };
import { log } from "../log.ts";

/** A running embedded PostgreSQL, reachable by postgres.js over a Unix socket. */
export interface EmbeddedPostgres {
  /** Path of the Unix socket postgres.js connects to. */
  readonly socketPath: string;
  stop(): Promise<void>;
}

/** Thrown when another process already has the embedded database open. */
export class DataDirBusyError extends Error {}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Claims the data folder for this process; PGlite must never be opened twice on one folder. */
function lockDataDir(dataDir: string): () => void {
  const lockPath = join(dataDir, "fairywren.pid");
  if (existsSync(lockPath)) {
    const pid = Number(readFileSync(lockPath, "utf8").trim());
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && pidAlive(pid))
      throw new DataDirBusyError(
        `the embedded database in ${dataDir} is in use by another fairywren process (pid ${pid}); stop it first, or use another --data-dir`,
      );
  }
  writeFileSync(lockPath, String(process.pid));
  return () => rmSync(lockPath, { force: true });
}

/**
 * Starts PGlite in `<dataDir>/pg` and serves it on a Unix socket with one connection at a time:
 * PGlite is a single backend, and interleaving two clients' extended-protocol messages would mix
 * their statements.
 */
export async function startEmbeddedPostgres(dataDir: string): Promise<EmbeddedPostgres> {
  mkdirSync(dataDir, { recursive: true });
  const unlock = lockDataDir(dataDir);
  try {
    const [pgliteWasmModule, initdbWasmModule] = await Promise.all([
      WebAssembly.compile(await Bun.file(pgliteWasmPath).arrayBuffer()),
      WebAssembly.compile(await Bun.file(initdbWasmPath).arrayBuffer()),
    ]);
    const fsBundle = new Blob([await Bun.file(fsBundlePath).arrayBuffer()]);
    const pgDir = join(dataDir, "pg");
    // A folder without PostgreSQL's version file is made from scratch (initdb): say so, as it takes a while.
    const first = !existsSync(join(pgDir, "PG_VERSION"));
    const started = performance.now();
    if (first)
      log.info(`Initialising the embedded database in ${pgDir} (first start only; usually 5–30 s)…`, {
        dataDir: pgDir,
      });
    const db = await PGlite.create({ dataDir: pgDir, pgliteWasmModule, initdbWasmModule, fsBundle });
    if (first) {
      const seconds = Math.round((performance.now() - started) / 100) / 10;
      log.info(`Embedded database initialised in ${seconds} s`, { dataDir: pgDir, seconds });
    }
    // Socket paths are limited to about 100 bytes; a deep data folder gets one in the temp folder.
    let socketPath = join(dataDir, ".s.PGSQL.5432");
    if (socketPath.length > 100) socketPath = join(tmpdir(), `fairywren-${process.pid}.sock`);
    rmSync(socketPath, { force: true });
    const server = new PGLiteSocketServer({ db, path: socketPath, maxConnections: 1 });
    await server.start();
    return {
      socketPath,
      async stop() {
        await server.stop();
        await db.close();
        rmSync(socketPath, { force: true });
        unlock();
      },
    };
  } catch (error) {
    unlock();
    throw error;
  }
}
