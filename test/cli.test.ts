import { describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pkg from "../package.json";
import { freePort } from "./helpers/ports.ts";
import { freshServerDatabase } from "./helpers/server.ts";

const MAIN = join(import.meta.dir, "../src/main.ts");

/** Runs the fairywren command (from source) and collects its output. */
async function run(
  args: string[],
  options: { env?: Record<string, string>; stdin?: string; cwd?: string } = {},
) {
  const proc = Bun.spawn([process.execPath, MAIN, ...args], {
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", ...options.env },
    cwd: options.cwd ?? mkdtempSync(join(tmpdir(), "fw-cwd-")),
    stdin: options.stdin === undefined ? "ignore" : new TextEncoder().encode(options.stdin),
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { stdout, stderr, code };
}

async function waitForHealth(url: string, deadlineMs = 20_000): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (Date.now() < end) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {}
    await Bun.sleep(100);
  }
  throw new Error(`${url} did not answer`);
}

describe("fairywren command", () => {
  test("--help and --version", async () => {
    const help = await run(["--help"]);
    expect(help.code).toBe(0);
    for (const word of ["adduser", "migrate", "config", "--data-dir"]) expect(help.stdout).toContain(word);
    const version = await run(["--version"]);
    expect(version.stdout.trim()).toBe(pkg.version);
  });

  test("--only needs a PostgreSQL server and takes web or tracker", async () => {
    const embedded = await run(["serve", "--only", "web"], { env: { DATABASE_URL: "" } });
    expect(embedded.code).toBe(1);
    expect(embedded.stderr).toContain(
      "--only web needs a PostgreSQL server (DATABASE_URL or webapi.postgresql)",
    );
    const unknown = await run(["serve", "--only", "both"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("--only takes web or tracker");
    const elsewhere = await run(["migrate", "--only", "web"]);
    expect(elsewhere.code).toBe(2);
    expect(elsewhere.stderr).toContain("--only applies to fairywren serve");
  });

  test("health reports a server that is not there with exit code 1", async () => {
    const port = await freePort();
    const down = await run(["health"], { env: { FAIRYWREN_METRICS_PORT: String(port) } });
    expect(down.code).toBe(1);
    expect(down.stderr).toContain(`http://127.0.0.1:${port}/readyz did not answer`);
    const off = await run(["health"], { env: { FAIRYWREN_METRICS: "false" } });
    expect(off.code).toBe(1);
    expect(off.stderr).toContain("metrics.enabled is false");
  });

  test("a bad configuration stops with every problem listed and exit code 2", async () => {
    const dir = mkdtempSync(join(tmpdir(), "fw-bad-"));
    const file = join(dir, "config.json");
    writeFileSync(file, JSON.stringify({ trackerUrl: "ftp://x", webapi: { port: -1 }, nonsense: true }));
    const result = await run(["--config", file]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("trackerUrl must start with http: or https:");
    expect(result.stderr).toContain("webapi.port must be between 0 and 65535");
    expect(result.stderr).toContain("unknown key nonsense");
    expect(result.stderr).not.toContain("    at ");
  });

  test("unknown commands and options are refused with exit code 2", async () => {
    expect((await run(["frobnicate"])).code).toBe(2);
    const option = await run(["--frob"]);
    expect(option.code).toBe(2);
    expect(option.stderr).toContain("unknown option --frob");
  });

  test("config prints the effective configuration with secrets masked", async () => {
    const result = await run(["config"], {
      env: {
        FAIRYWREN_SALT: "s3cr3t-pepper",
        DATABASE_URL: "postgres://u:pw123@h/db",
        FAIRYWREN_WEB_PORT: "9000",
      },
    });
    expect(result.code).toBe(0);
    const shown = JSON.parse(result.stdout);
    expect(shown.webapi.port).toBe(9000);
    expect(result.stdout).not.toContain("s3cr3t-pepper");
    expect(result.stdout).not.toContain("pw123");
  });

  test("adduser from standard input, then migrate finds nothing to do", async () => {
    const db = await freshServerDatabase();
    try {
      const first = await run(["adduser"], { env: db.env, stdin: "admin\ncorrect horse battery\n" });
      expect(first.stderr).toBe("");
      expect(first.code).toBe(0);
      expect(first.stdout).toContain("created admin");
      expect(first.stdout).toContain("with roles: upload, trusted, invite, moderate, admin");
      const second = await run(["adduser", "--name", "carol", "--password-stdin"], {
        env: db.env,
        stdin: "another password\n",
      });
      expect(second.code).toBe(0);
      expect(second.stdout).toContain("roles: none");
      const taken = await run(["adduser", "--name", "CAROL", "--password-stdin"], {
        env: db.env,
        stdin: "another password\n",
      });
      expect(taken.code).toBe(1);
      expect(taken.stderr).toContain("The name CAROL is taken");
      const short = await run(["adduser", "--name", "dave", "--password-stdin"], {
        env: db.env,
        stdin: "short\n",
      });
      expect(short.code).toBe(1);
      expect(short.stderr).toContain("invalid password");
      const migrate = await run(["migrate"], { env: db.env });
      expect(migrate.stdout).toContain("up to date");
    } finally {
      await db.drop();
    }
  });

  test("adduser with nothing on standard input and no terminal says how to give a name and a password", async () => {
    const cwd = mkdtempSync(join(tmpdir(), "fw-cwd-"));
    const noPassword = await run(["adduser", "--name", "x"], { cwd });
    expect(noPassword.code).toBe(1);
    expect(noPassword.stderr).not.toContain("invalid password");
    expect(noPassword.stderr).toContain("no password given for x: run adduser in a terminal");
    expect(noPassword.stderr).toContain(
      `printf '%s\\n' "$PASSWORD" | fairywren adduser --name x --password-stdin`,
    );
    expect(noPassword.stderr.trim().split("\n")).toHaveLength(1);
    const noName = await run(["adduser"]);
    expect(noName.code).toBe(1);
    expect(noName.stderr).toContain("no name given: pass --name NAME");
    const empty = await run(["adduser", "--name", "x", "--password-stdin"], { cwd, stdin: "" });
    expect(empty.stderr).toContain("no password given for x");
    // Refused before anything was opened: no data folder in the working directory.
    expect(existsSync(join(cwd, "data"))).toBe(false);
  });

  test("an unreachable database is one clear line, exit 1", async () => {
    const port = await freePort();
    const result = await run(["migrate"], { env: { DATABASE_URL: `postgres://u@127.0.0.1:${port}/x` } });
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split("\n")).toHaveLength(1);
    expect(result.stderr).toContain("refused the connection");
  });

  test("an unwritable data folder is one clear line, exit 1", async () => {
    const result = await run([], { env: { FAIRYWREN_DATA_DIR: "/proc/fairywren-data" } });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("the data folder /proc/fairywren-data cannot be created or written");
  });

  test("serves both ports, refuses a second server on the same folder or port, stops on SIGTERM", async () => {
    const db = await freshServerDatabase();
    const webPort = await freePort();
    const trackerPort = await freePort();
    const metricsPort = await freePort();
    const env: Record<string, string> = {
      ...db.env,
      FAIRYWREN_WEB_PORT: String(webPort),
      FAIRYWREN_TRACKER_PORT: String(trackerPort),
      FAIRYWREN_WEB_HOST: "127.0.0.1",
      FAIRYWREN_TRACKER_HOST: "127.0.0.1",
      FAIRYWREN_METRICS_PORT: String(metricsPort),
    };
    const proc = Bun.spawn([process.execPath, MAIN], {
      env: { PATH: process.env.PATH ?? "", ...env },
      stdout: "pipe",
      stderr: "pipe",
    });
    try {
      await waitForHealth(`http://127.0.0.1:${webPort}/health`);
      await waitForHealth(`http://127.0.0.1:${trackerPort}/health`);
      await waitForHealth(`http://127.0.0.1:${metricsPort}/readyz`);
      const health = await run(["health"], { env });
      expect(health).toMatchObject({ code: 0, stdout: '{"status":"ready"}\n' });
      const other = await freePort();
      const again = await run([], { env: { ...env, FAIRYWREN_WEB_PORT: String(other) } });
      expect(again.code).toBe(1);
      if (env.DATABASE_URL)
        expect(again.stderr).toContain(`port ${trackerPort} on 127.0.0.1 is already in use`);
      else expect(again.stderr).toContain("is in use by another fairywren process");
      proc.kill("SIGTERM");
      expect(await proc.exited).toBe(0);
      // On loopback only, the default links are right: no warning.
      expect(await new Response(proc.stderr).text()).not.toContain("WARNING");
    } finally {
      proc.kill("SIGKILL");
      await db.drop();
    }
  });

  test("the first start in an empty folder says it is initialising the embedded database, and how long it took; the next start does not", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "fw-first-"));
    /** Starts the server on the embedded database in `dataDir`, waits until it answers, stops it, returns its output. */
    async function startAndStop(): Promise<string> {
      const webPort = await freePort();
      const env = {
        DATABASE_URL: "",
        FAIRYWREN_DATA_DIR: dataDir,
        FAIRYWREN_WEB_PORT: String(webPort),
        FAIRYWREN_TRACKER_PORT: String(await freePort()),
        FAIRYWREN_METRICS_PORT: String(await freePort()),
        FAIRYWREN_WEB_HOST: "127.0.0.1",
        FAIRYWREN_TRACKER_HOST: "127.0.0.1",
      };
      const proc = Bun.spawn([process.execPath, MAIN], {
        env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", ...env },
        cwd: mkdtempSync(join(tmpdir(), "fw-cwd-")),
        stdout: "pipe",
        stderr: "pipe",
      });
      try {
        await waitForHealth(`http://127.0.0.1:${webPort}/health`, 90_000);
        proc.kill("SIGTERM");
        expect(await proc.exited).toBe(0);
        return await new Response(proc.stdout).text();
      } finally {
        proc.kill("SIGKILL");
      }
    }
    try {
      // The log's JSON lines (the start also prints a plain notice or two).
      const first = (await startAndStop()).split("\n").filter((line) => line.startsWith("{"));
      const messages = first.map((line) => (JSON.parse(line) as { msg: string }).msg);
      const before = messages.findIndex((m) =>
        m.startsWith(`Initialising the embedded database in ${join(dataDir, "pg")} (first start only`),
      );
      const after = messages.findIndex((m) => /^Embedded database initialised in \d+(\.\d)? s$/.test(m));
      // Said before the work, and the time after it, both before the site listens.
      expect(before).toBeGreaterThanOrEqual(0);
      expect(after).toBeGreaterThan(before);
      expect(messages.indexOf("web site listening")).toBeGreaterThan(after);
      const second = await startAndStop();
      expect(second).toContain("web site listening");
      expect(second).not.toContain("Initialising the embedded database");
      expect(second).not.toContain("Embedded database initialised");
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 240_000);

  test("warns at start-up when it serves beyond loopback with siteUrl and trackerUrl at their defaults", async () => {
    const db = await freshServerDatabase();
    const webPort = await freePort();
    const trackerPort = await freePort();
    const proc = Bun.spawn([process.execPath, MAIN], {
      env: {
        PATH: process.env.PATH ?? "",
        ...db.env,
        FAIRYWREN_WEB_PORT: String(webPort),
        FAIRYWREN_TRACKER_PORT: String(trackerPort),
        FAIRYWREN_WEB_HOST: "0.0.0.0",
        FAIRYWREN_TRACKER_HOST: "0.0.0.0",
        FAIRYWREN_METRICS_PORT: "0",
      },
      stdout: "pipe",
      stderr: "pipe",
    });
    try {
      await waitForHealth(`http://127.0.0.1:${webPort}/health`);
      proc.kill("SIGTERM");
      expect(await proc.exited).toBe(0);
      const stderr = await new Response(proc.stderr).text();
      // Once as a log line, once plainly for whoever started it.
      const logged = stderr
        .split("\n")
        .filter((line) => line.startsWith("{"))
        .map((line) => JSON.parse(line) as { level: string; msg: string })
        .find((line) => line.msg.startsWith("siteUrl (FAIRYWREN_SITE_URL) and trackerUrl"));
      expect(logged?.level).toBe("warn");
      expect(logged?.msg).toContain(`announce URLs with the tracker's port, ${trackerPort}`);
      expect(stderr).toContain(
        "\n  WARNING: siteUrl (FAIRYWREN_SITE_URL) and trackerUrl (FAIRYWREN_TRACKER_URL) are",
      );
    } finally {
      proc.kill("SIGKILL");
      await db.drop();
    }
  });
});
