import { describe, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  CONFIG_KEYS,
  ConfigError,
  describeConfig,
  loadConfig,
  stripPrefix,
  type TrackerPolicy,
} from "../src/config.ts";

function file(content: unknown): string {
  const path = join(mkdtempSync(join(tmpdir(), "fw-config-")), "config.json");
  writeFileSync(path, typeof content === "string" ? content : JSON.stringify(content));
  return path;
}

function problems(fn: () => unknown): string[] {
  try {
    fn();
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error("expected a ConfigError");
}

describe("loadConfig", () => {
  test("no file and no environment gives the documented defaults", () => {
    const config = loadConfig({ env: {} });
    expect(config.webapi.port).toBe(8080);
    expect(config.tracker.port).toBe(6969);
    expect(config.webapi.postgresql).toBeNull();
    expect(config.tracker.announceIntervalSeconds).toBe(1800);
    expect(config.tracker.minAnnounceIntervalSeconds).toBe(900);
    expect(config.tracker.numwantMax).toBe(100);
    expect(config.dataDir).toBe(join(process.cwd(), "data"));
    expect(Object.isFrozen(config.tracker)).toBe(true);
  });

  test("the file sets the original keys and the environment wins over it", () => {
    const path = file({
      trackerUrl: "https://t.example/tr/",
      pathDepth: 1,
      salt: "pepper",
      webapi: {
        postgresql: { host: "db", port: 5433, database: "fw", user: "web", password: "pw" },
        secure: true,
      },
      tracker: { postgresql: "postgres://tracker@db/fw", port: 7000 },
    });
    const config = loadConfig({ file: path, env: { FAIRYWREN_TRACKER_PORT: "7100", FAIRYWREN_SECURE: "0" } });
    expect(config.trackerUrl).toBe("https://t.example/tr");
    expect(config.pathDepth).toBe(1);
    expect(config.webapi.postgresql).toEqual({
      host: "db",
      port: 5433,
      database: "fw",
      user: "web",
      password: "pw",
    });
    expect(config.tracker.postgresql).toBe("postgres://tracker@db/fw");
    expect(config.tracker.port).toBe(7100);
    expect(config.webapi.secure).toBe(false);
  });

  test("FAIRYWREN_CONFIG names the file and DATABASE_URL overrides webapi.postgresql", () => {
    const path = file({ webapi: { postgresql: "postgres://a@b/c" } });
    const config = loadConfig({ env: { FAIRYWREN_CONFIG: path, DATABASE_URL: "postgres://x@y/z" } });
    expect(config.webapi.postgresql).toBe("postgres://x@y/z");
  });

  test("every problem is reported at once", () => {
    const found = problems(() =>
      loadConfig({
        file: file({
          trackerUrl: "not a url",
          colour: "blue",
          webapi: { port: "8080", secure: "yes", extra: 1 },
          tracker: { postgresql: "mysql://x", allowedClients: [1] },
        }),
        env: { FAIRYWREN_PATH_DEPTH: "deep" },
      }),
    );
    expect(found).toContain("unknown key colour");
    expect(found).toContain("unknown key webapi.extra");
    expect(found.some((p) => p.startsWith("trackerUrl is not a valid URL"))).toBe(true);
    expect(found.some((p) => p.startsWith("webapi.port must be a whole number"))).toBe(true);
    expect(found.some((p) => p.startsWith("webapi.secure must be true or false"))).toBe(true);
    expect(found.some((p) => p.startsWith("tracker.postgresql must start with postgres:"))).toBe(true);
    expect(found.some((p) => p.startsWith("tracker.allowedClients must be a list of strings"))).toBe(true);
    expect(found.some((p) => p.startsWith("FAIRYWREN_PATH_DEPTH must be a whole number"))).toBe(true);
    expect(found).toHaveLength(8);
  });

  test("ranges, sections and cross-key rules are checked", () => {
    expect(problems(() => loadConfig({ env: { FAIRYWREN_WEB_PORT: "70000" } }))).toEqual([
      "FAIRYWREN_WEB_PORT must be between 0 and 65535, not 70000",
    ]);
    expect(problems(() => loadConfig({ file: file({ tracker: 5 }), env: {} }))).toEqual([
      "tracker must be an object, not number 5",
    ]);
    expect(
      problems(() =>
        loadConfig({ env: { FAIRYWREN_MIN_ANNOUNCE_INTERVAL: "2000", FAIRYWREN_ANNOUNCE_INTERVAL: "1000" } }),
      ),
    ).toEqual(["tracker.minAnnounceIntervalSeconds must not exceed tracker.announceIntervalSeconds"]);
    expect(problems(() => loadConfig({ file: file("{nope"), env: {} }))[0]).toStartWith(
      "the file is not valid JSON",
    );
    expect(problems(() => loadConfig({ file: "/nonexistent/fw.json", env: {} }))[0]).toContain(
      "does not exist",
    );
    expect(
      problems(() =>
        loadConfig({ file: file({ webapi: { postgresql: { host: "h", pasword: "x" } } }), env: {} }),
      )[0],
    ).toContain("webapi.postgresql.pasword is not a known key");
  });

  test("describeConfig masks every secret", () => {
    const config = loadConfig({
      env: {
        FAIRYWREN_SALT: "topsecretpepper",
        DATABASE_URL: "postgres://web:hunter2@db:5432/fw",
      },
      file: file({ tracker: { postgresql: { host: "db", user: "tracker", password: "swordfish" } } }),
    });
    const text = describeConfig(config);
    for (const secret of ["topsecretpepper", "hunter2", "swordfish"]) expect(text).not.toContain(secret);
    const shown = JSON.parse(text);
    expect(shown.salt).toBe("****");
    expect(shown.webapi.postgresql).toBe("postgres://web:****@db:5432/fw");
    expect(shown.tracker.postgresql).toEqual({ host: "db", user: "tracker", password: "****" });
  });

  test("every key is documented with an environment variable", () => {
    const envs = new Set<string>();
    for (const spec of CONFIG_KEYS) {
      expect(spec.doc.length).toBeGreaterThan(10);
      expect(envs.has(spec.env)).toBe(false);
      envs.add(spec.env);
    }
  });
});

describe("the Config type", () => {
  test("is the key table: one leaf per key, at its dotted path, in its kind's type", () => {
    const config = loadConfig({ env: {} });
    const leaves = (node: object, prefix = ""): string[] =>
      Object.entries(node).flatMap(([k, v]) =>
        v !== null && typeof v === "object" && !Array.isArray(v)
          ? leaves(v, `${prefix}${k}.`)
          : [`${prefix}${k}`],
      );
    expect(leaves(config)).toEqual(CONFIG_KEYS.map((spec) => spec.key));
    // Compile-time: each kind gives its type; the tracker policy is the tracker section's rules.
    const level: "debug" | "info" | "warn" | "error" = config.logLevel;
    const port: number = config.webapi.port;
    const secure: boolean = config.webapi.secure;
    const clients: readonly string[] = config.tracker.allowedClients;
    const policy: TrackerPolicy = config.tracker;
    // @ts-expect-error an address is not policy
    expect(policy.host).toBe("0.0.0.0");
    // @ts-expect-error no such key
    expect(config.tracker.interval).toBeUndefined();
    expect([level, port, secure, clients, policy.graceSeconds]).toEqual(["info", 8080, false, [], 86400]);
  });
});

describe("stripPrefix", () => {
  test.each([
    ["/a/b/announce", 0, "/a/b/announce"],
    ["/proxy/abc/announce", 1, "/abc/announce"],
    ["/x/y/abc/scrape", 2, "/abc/scrape"],
    ["/x", 1, null],
    ["/x/", 1, "/"],
  ] as const)("%s at depth %d", (path, depth, expected) => {
    expect(stripPrefix(path, depth)).toBe(expected);
  });
});
