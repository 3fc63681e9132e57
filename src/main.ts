#!/usr/bin/env bun
// The fairywren command: serves the tracker and site, and administers them.
import { accessSync, constants, mkdirSync } from "node:fs";
import pkg from "../package.json" with { type: "json" };
import { ask, readStdinLines } from "./cli/prompt.ts";
import { type Config, ConfigError, describeConfig, loadConfig } from "./config.ts";
import { CONNECT_TIMEOUT_SECONDS, openDatabase } from "./db/client.ts";
import { DataDirBusyError } from "./db/embedded.ts";
import { migrate } from "./db/migrate.ts";
import { createUser, NameTakenError, nameProblem, passwordProblem } from "./db/queries/users.ts";
import { configureLog, log } from "./log.ts";
import { type Role, roleProblem, StartupError, serve } from "./server.ts";
import { hashPassword, resolvePepper } from "./shared/secrets.ts";

const HELP = `fairywren ${pkg.version}: a private BitTorrent tracker and its web site

Usage:
  fairywren [serve]            run the tracker and the web site
      --only web|tracker       run one of them; several web processes and one tracker
                               share one PostgreSQL server (not the embedded database)
  fairywren health             ask this configuration's /readyz; exit 0 when ready
  fairywren adduser            create a member (the first one gets every role)
      --name NAME              the member's name (asked when omitted)
      --password-stdin         read the password from standard input, e.g.
                               printf '%s\\n' "$PASSWORD" | fairywren adduser --name NAME --password-stdin
                               (without a terminal, standard input is read anyway: the name,
                               unless --name is given, then the password, one a line)
  fairywren migrate            apply pending database migrations and exit
  fairywren config             print the effective configuration (secrets masked)
  fairywren --help | --version

Options for every command:
  --config FILE                JSON configuration file (or FAIRYWREN_CONFIG)
  --data-dir DIR               data folder (or FAIRYWREN_DATA_DIR; default ./data)

With no database configured (DATABASE_URL or webapi.postgresql), an embedded PostgreSQL
runs in the data folder.`;

/** A problem the operator must fix; printed as one line, exit code `code`. */
class UsageError extends Error {
  constructor(
    message: string,
    readonly code = 1,
  ) {
    super(message);
  }
}

interface Args {
  command: string;
  flags: Map<string, string | true>;
}

const VALUE_FLAGS = new Set(["--config", "--data-dir", "--name", "--only"]);
const BOOL_FLAGS = new Set(["--password-stdin", "--help", "-h", "--version", "-v"]);

function parseArgs(argv: string[]): Args {
  const flags = new Map<string, string | true>();
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.indexOf("=");
    const name = arg.startsWith("--") && eq > 0 ? arg.slice(0, eq) : arg;
    if (VALUE_FLAGS.has(name)) {
      const value = eq > 0 && name !== arg ? arg.slice(eq + 1) : argv[++i];
      if (value === undefined) throw new UsageError(`${name} needs a value`, 2);
      flags.set(name, value);
    } else if (BOOL_FLAGS.has(arg)) flags.set(arg, true);
    else if (arg.startsWith("-")) throw new UsageError(`unknown option ${arg} (see fairywren --help)`, 2);
    else positional.push(arg);
  }
  if (positional.length > 1)
    throw new UsageError(`unexpected argument ${positional[1]} (see fairywren --help)`, 2);
  return { command: positional[0] ?? "serve", flags };
}

function configFrom(args: Args): Config {
  const env = { ...process.env };
  const dataDir = args.flags.get("--data-dir");
  if (typeof dataDir === "string") env.FAIRYWREN_DATA_DIR = dataDir;
  const file = args.flags.get("--config");
  return loadConfig({ file: typeof file === "string" ? file : undefined, env });
}

/** The data folder must exist (or be creatable) and be writable before anything else starts. */
function ensureDataDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true });
    accessSync(dir, constants.W_OK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? "error";
    throw new UsageError(
      `the data folder ${dir} cannot be created or written (${code}): choose another with --data-dir or FAIRYWREN_DATA_DIR, or fix its permissions`,
    );
  }
}

/** Turns a database connection failure into one line naming the fix. */
function databaseProblem(error: unknown, config: Config): string | null {
  const code = (error as NodeJS.ErrnoException).code;
  const where = config.webapi.postgresql
    ? "the database in DATABASE_URL / webapi.postgresql"
    : "the embedded database";
  const known: Record<string, string> = {
    ECONNREFUSED: "refused the connection: is PostgreSQL running and listening there?",
    ENOTFOUND: "has a host name that does not resolve",
    CONNECT_TIMEOUT: `did not answer within ${CONNECT_TIMEOUT_SECONDS} s`,
    "28P01": "rejected the password",
    "28000": "rejected the login (check the user name and pg_hba.conf)",
    "3D000": "names a database that does not exist: create it first",
    "42501": "lacks a permission: run `fairywren migrate` as the database owner",
  };
  if (code && known[code]) return `${where} ${known[code]}`;
  return null;
}

/** The role named by --only, checked against the configuration before anything starts. */
function roleFrom(args: Args, config: Config): Role {
  const only = args.flags.get("--only");
  if (only === undefined) return "all";
  if (args.command !== "serve") throw new UsageError("--only applies to fairywren serve", 2);
  if (only !== "web" && only !== "tracker") throw new UsageError("--only takes web or tracker", 2);
  const problem = roleProblem(config, only);
  if (problem) throw new UsageError(problem);
  return only;
}

async function commandServe(config: Config, role: Role): Promise<void> {
  ensureDataDir(config.dataDir);
  // Handlers go in before start-up: a SIGTERM that arrives while starting still stops cleanly.
  let running: Awaited<ReturnType<typeof serve>> | null = null;
  let stopRequested: string | null = null;
  const stop = async (signal: string) => {
    if (!running) {
      stopRequested ??= signal;
      return;
    }
    const current = running;
    running = null;
    log.info("stopping", { signal });
    const force = setTimeout(() => {
      log.error("shutdown took longer than 10 s; exiting");
      process.exit(1);
    }, 10_000);
    const outcome = await current.stop();
    clearTimeout(force);
    // "stopped" means nothing was lost; saved credit is replayed at the next start.
    if (outcome.creditLost > 0) {
      log.error("shut down with pending credit lost", { rows: outcome.creditLost });
      process.exit(1);
    }
    log.info(
      "stopped",
      outcome.creditSaved ? { creditSaved: outcome.creditSaved, file: outcome.spillFile } : {},
    );
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));
  running = await serve(config, { role });
  if (stopRequested) await stop(stopRequested);
}

/**
 * Asks /readyz on this configuration's metrics address (for a container's HEALTHCHECK, which has
 * no curl): prints the answer, exit 0 when ready and 1 otherwise.
 */
async function commandHealth(config: Config): Promise<void> {
  if (!config.metrics.enabled)
    throw new UsageError("metrics.enabled is false: there is no /readyz to ask (FAIRYWREN_METRICS)");
  const host = config.metrics.host;
  // A wildcard bind answers on loopback; an IPv6 literal needs brackets in a URL.
  const target =
    host === "0.0.0.0" || host === ""
      ? "127.0.0.1"
      : host === "::"
        ? "[::1]"
        : host.includes(":")
          ? `[${host}]`
          : host;
  const url = `http://${target}:${config.metrics.port}/readyz`;
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(4000) });
  } catch (error) {
    throw new UsageError(`${url} did not answer: ${(error as Error).message}`);
  }
  const body = (await response.text()).trim();
  if (!response.ok) throw new UsageError(`not ready (${response.status}): ${body}`);
  console.log(body);
}

async function commandMigrate(config: Config): Promise<void> {
  if (!config.webapi.postgresql) ensureDataDir(config.dataDir);
  const db = await openDatabase(config.webapi.postgresql, config.dataDir);
  try {
    const applied = await db.longWork(migrate);
    console.log(applied.length ? `applied ${applied.join(", ")}` : "the schema is up to date");
  } finally {
    await db.close();
  }
}

async function commandAddUser(config: Config, args: Args): Promise<void> {
  const interactive = process.stdin.isTTY && !args.flags.has("--password-stdin");
  let name = args.flags.get("--name");
  let password: string;
  if (interactive) {
    if (typeof name !== "string") name = (await ask("Name: ")).trim();
    const problem = nameProblem(name);
    if (problem) throw new UsageError(`invalid name: ${problem}`);
    password = await ask("Password: ", true);
    const again = await ask("Repeat password: ", true);
    if (password !== again) throw new UsageError("the passwords do not match");
  } else {
    const lines = await readStdinLines();
    if (typeof name !== "string") name = (lines.shift() ?? "").trim();
    password = lines.shift() ?? "";
    // Run from a script or a service with nothing on standard input: say how to give them.
    if (name === "")
      throw new UsageError(
        "no name given: pass --name NAME, run adduser in a terminal to be asked, or give the name and then the password on standard input, one a line",
      );
    if (password === "")
      throw new UsageError(
        `no password given for ${name}: run adduser in a terminal to be asked for it, or pass it on standard input with --password-stdin, e.g. printf '%s\\n' "$PASSWORD" | fairywren adduser --name ${name} --password-stdin`,
      );
  }
  const nameBad = nameProblem(name);
  if (nameBad) throw new UsageError(`invalid name: ${nameBad}`);
  const passwordBad = passwordProblem(password);
  if (passwordBad) throw new UsageError(`invalid password: ${passwordBad}`);

  if (!config.webapi.postgresql) ensureDataDir(config.dataDir);
  const pepper = resolvePepper(config.salt, config.dataDir);
  const db = await openDatabase(config.webapi.postgresql, config.dataDir);
  try {
    await db.longWork(migrate);
    const { user, roles } = await createUser(db.sql, {
      name,
      passwordHash: await hashPassword(password, pepper),
    });
    console.log(
      `created ${user.name} (id ${user.id}) with roles: ${roles.length ? roles.join(", ") : "none"}`,
    );
  } catch (error) {
    if (error instanceof NameTakenError) throw new UsageError(error.message);
    throw error;
  } finally {
    await db.close();
  }
}

async function main(argv: string[]): Promise<void> {
  const args = parseArgs(argv);
  if (args.flags.has("--help") || args.flags.has("-h") || args.command === "help") {
    console.log(HELP);
    return;
  }
  if (args.flags.has("--version") || args.flags.has("-v") || args.command === "version") {
    console.log(pkg.version);
    return;
  }
  const config = configFrom(args);
  const role = roleFrom(args, config);
  // Administrative commands print their own results; their logs are for problems only.
  configureLog(
    args.command === "serve" || config.logLevel === "error" ? config.logLevel : "warn",
    role === "tracker" ? "tracker" : "web",
  );
  try {
    switch (args.command) {
      case "serve":
        return await commandServe(config, role);
      case "health":
        return await commandHealth(config);
      case "migrate":
        return await commandMigrate(config);
      case "adduser":
        return await commandAddUser(config, args);
      case "config":
        console.log(describeConfig(config));
        return;
      default:
        throw new UsageError(`unknown command ${args.command} (see fairywren --help)`, 2);
    }
  } catch (error) {
    const db = databaseProblem(error, config);
    if (db) throw new UsageError(db);
    throw error;
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof ConfigError) {
    console.error(`fairywren: ${error.message}`);
    process.exit(2);
  }
  if (error instanceof UsageError || error instanceof StartupError || error instanceof DataDirBusyError) {
    console.error(`fairywren: ${error.message}`);
    process.exit(error instanceof UsageError ? error.code : 1);
  }
  log.error("unexpected failure", { error: (error as Error).stack ?? String(error) });
  console.error(`fairywren: unexpected failure: ${(error as Error).message}`);
  process.exit(1);
});
