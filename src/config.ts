import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";

/** A PostgreSQL server: a `postgres://` URL, or its parts as in the original configuration format. */
export type PostgresSetting =
  | string
  | { host?: string; port?: number; database?: string; user?: string; password?: string };

/** The value each kind of key holds. */
interface KindValue {
  string: string;
  url: string;
  int: number;
  bool: boolean;
  postgres: PostgresSetting | null;
  strings: readonly string[];
  level: "debug" | "info" | "warn" | "error";
  path: string;
}

type Kind = keyof KindValue;

/** One configuration key: its dotted path, kind (hence type), default, variable and meaning. */
type KeyOf<K extends Kind> = {
  /** Dotted path in the JSON file. */
  readonly key: string;
  readonly kind: K;
  readonly default: KindValue[K];
  /** Environment variable that overrides the file. */
  readonly env: string;
  /** Shown masked by `fairywren config`. */
  readonly secret?: boolean;
  readonly min?: number;
  readonly max?: number;
  readonly doc: string;
};

/** A key of any kind, its default checked against its own kind. */
export type KeySpec = { [K in Kind]: KeyOf<K> }[Kind];

/** Every configuration key, its type, default, environment variable and meaning (the README's table). */
const KEYS = [
  {
    key: "trackerUrl",
    kind: "url",
    default: "http://localhost:6969",
    env: "FAIRYWREN_TRACKER_URL",
    doc: "Public base URL of the tracker; announce URLs are `<trackerUrl>/<passkey>/announce`. Left at the default: the host each member reached the site at, on `tracker.port`.",
  },
  {
    key: "siteUrl",
    kind: "url",
    default: "http://localhost:8080",
    env: "FAIRYWREN_SITE_URL",
    doc: "Public base URL of the web site, used in invite links and RSS feeds. Left at the default: the address each visitor used.",
  },
  {
    key: "siteName",
    kind: "string",
    default: "Fairywren",
    env: "FAIRYWREN_SITE_NAME",
    doc: "Site name in page titles and the `source` tag written into uploaded torrents.",
  },
  {
    key: "pathDepth",
    kind: "int",
    default: 0,
    min: 0,
    max: 16,
    env: "FAIRYWREN_PATH_DEPTH",
    doc: "Leading path segments to ignore on both ports, for a reverse proxy that forwards `/a/b/...`.",
  },
  {
    key: "salt",
    kind: "string",
    default: "",
    env: "FAIRYWREN_SALT",
    secret: true,
    doc: "Server-side pepper for password hashes; changing it invalidates every password. Empty: a random one is generated once into `<dataDir>/salt`.",
  },
  {
    key: "dataDir",
    kind: "path",
    default: "./data",
    env: "FAIRYWREN_DATA_DIR",
    doc: "Data folder: the embedded database and the generated salt.",
  },
  {
    key: "logLevel",
    kind: "level",
    default: "info",
    env: "FAIRYWREN_LOG_LEVEL",
    doc: "Least severe log level written: `debug`, `info`, `warn` or `error`.",
  },
  {
    key: "webapi.postgresql",
    kind: "postgres",
    default: null,
    env: "DATABASE_URL",
    secret: true,
    doc: "Database of the web side: a `postgres://` URL or `{host, port, database, user, password}`. Unset: embedded PostgreSQL in the data folder.",
  },
  {
    key: "webapi.secure",
    kind: "bool",
    default: false,
    env: "FAIRYWREN_SECURE",
    doc: "Send session cookies with `Secure` (set when the site is served over HTTPS).",
  },
  {
    key: "webapi.host",
    kind: "string",
    default: "0.0.0.0",
    env: "FAIRYWREN_WEB_HOST",
    doc: "Address the web site binds to.",
  },
  {
    key: "webapi.port",
    kind: "int",
    default: 8080,
    min: 0,
    max: 65535,
    env: "FAIRYWREN_WEB_PORT",
    doc: "Port of the web site (0 picks a free one).",
  },
  {
    key: "webapi.flushIntervalMs",
    kind: "int",
    default: 3000,
    min: 100,
    max: 600000,
    env: "FAIRYWREN_FLUSH_INTERVAL_MS",
    doc: "How often the tracker's upload/download deltas are written to the database.",
  },
  {
    key: "webapi.maxTorrentBytes",
    kind: "int",
    default: 10 * 1024 * 1024,
    min: 1024,
    max: 1024 * 1024 * 1024,
    env: "FAIRYWREN_MAX_TORRENT_BYTES",
    doc: "Largest .torrent file accepted on upload.",
  },
  {
    key: "webapi.trustedProxies",
    kind: "strings",
    default: [],
    env: "FAIRYWREN_WEB_TRUSTED_PROXIES",
    doc: "Addresses of reverse proxies in front of the web site whose `X-Forwarded-For` is believed, so log-in throttling counts each visitor's address rather than the proxy's (comma-separated in the environment).",
  },
  {
    key: "webapi.commentsPerMinute",
    kind: "int",
    default: 5,
    min: 1,
    max: 1000,
    env: "FAIRYWREN_COMMENTS_PER_MINUTE",
    doc: "Most comments one member may post in a minute; more are refused with the time to wait.",
  },
  {
    key: "webapi.editsPerMinute",
    kind: "int",
    default: 10,
    min: 1,
    max: 1000,
    env: "FAIRYWREN_EDITS_PER_MINUTE",
    doc: "Most edits of comments, descriptions and news one member may save in a minute; more are refused with the time to wait.",
  },
  {
    key: "webapi.previewsPerMinute",
    kind: "int",
    default: 30,
    min: 1,
    max: 10000,
    env: "FAIRYWREN_PREVIEWS_PER_MINUTE",
    doc: "Most Markdown previews one member may ask for in a minute (the live preview under a text field); more get 429 with the time to wait.",
  },
  {
    key: "webapi.messagesPerMinute",
    kind: "int",
    default: 5,
    min: 1,
    max: 1000,
    env: "FAIRYWREN_MESSAGES_PER_MINUTE",
    doc: "Most private messages (new conversations and replies) one member may send in a minute; more are refused with the time to wait.",
  },
  {
    key: "webapi.conversationsPerDay",
    kind: "int",
    default: 20,
    min: 1,
    max: 10000,
    env: "FAIRYWREN_CONVERSATIONS_PER_DAY",
    doc: "Most private conversations one member may start in a day (staff are not limited); more are refused with the time to wait.",
  },
  {
    key: "metrics.enabled",
    kind: "bool",
    default: true,
    env: "FAIRYWREN_METRICS",
    doc: "Serve Prometheus `/metrics`, `/healthz` and `/readyz` on the admin address below.",
  },
  {
    key: "metrics.host",
    kind: "string",
    default: "127.0.0.1",
    env: "FAIRYWREN_METRICS_HOST",
    doc: "Address of the metrics and health endpoints (keep it private: loopback or an admin network).",
  },
  {
    key: "metrics.port",
    kind: "int",
    default: 9669,
    min: 0,
    max: 65535,
    env: "FAIRYWREN_METRICS_PORT",
    doc: "Port of the metrics and health endpoints (0 picks a free one).",
  },
  {
    key: "tracker.postgresql",
    kind: "postgres",
    default: null,
    env: "TRACKER_DATABASE_URL",
    secret: true,
    doc: "The tracker's own read-only database login (see `sql/roles.sql`). Unset: the web side's database.",
  },
  {
    key: "tracker.host",
    kind: "string",
    default: "0.0.0.0",
    env: "FAIRYWREN_TRACKER_HOST",
    doc: "Address the tracker binds to.",
  },
  {
    key: "tracker.port",
    kind: "int",
    default: 6969,
    min: 0,
    max: 65535,
    env: "FAIRYWREN_TRACKER_PORT",
    doc: "Port of the tracker (0 picks a free one).",
  },
  {
    key: "tracker.udpPort",
    kind: "int",
    default: -1,
    min: -1,
    max: 65535,
    env: "FAIRYWREN_UDP_PORT",
    doc: "UDP port of the tracker (BEP 15, passkey in BEP 41 URL data), on `tracker.host`; downloaded .torrent files then list `udp://<tracker host>:<port>/<passkey>/announce` after the HTTP URL. -1 (default): no UDP tracker; 0 picks a free port.",
  },
  {
    key: "tracker.udpPacketsPerSecond",
    kind: "int",
    default: 100,
    min: 0,
    max: 1_000_000,
    env: "FAIRYWREN_UDP_RATE",
    doc: "Most UDP packets a second the tracker answers from one address (bursts of twice as many); more are dropped unanswered. 0: no limit (benchmarks).",
  },
  {
    key: "tracker.announceIntervalSeconds",
    kind: "int",
    default: 1800,
    min: 10,
    max: 86400,
    env: "FAIRYWREN_ANNOUNCE_INTERVAL",
    doc: "`interval` sent to clients (jittered by up to 10%). libtorrent honours no less than 300 s and rtorrent no less than 600 s: the peer timeout allows for that.",
  },
  {
    key: "tracker.minAnnounceIntervalSeconds",
    kind: "int",
    default: 900,
    min: 0,
    max: 86400,
    env: "FAIRYWREN_MIN_ANNOUNCE_INTERVAL",
    doc: "`min interval`; a member re-announcing sooner gets a reply that changes no accounting.",
  },
  {
    key: "tracker.numwantDefault",
    kind: "int",
    default: 50,
    min: 0,
    max: 1000,
    env: "FAIRYWREN_NUMWANT_DEFAULT",
    doc: "Peers returned when the client sends no `numwant`.",
  },
  {
    key: "tracker.numwantMax",
    kind: "int",
    default: 100,
    min: 0,
    max: 1000,
    env: "FAIRYWREN_NUMWANT_MAX",
    doc: "Most peers returned in one reply.",
  },
  {
    key: "tracker.maxPeersPerUserPerTorrent",
    kind: "int",
    default: 3,
    min: 1,
    max: 100,
    env: "FAIRYWREN_MAX_PEERS_PER_USER",
    doc: "Concurrent peers (clients) one member may have in one swarm.",
  },
  {
    key: "tracker.reloadIntervalSeconds",
    kind: "int",
    default: 300,
    min: 5,
    max: 86400,
    env: "FAIRYWREN_RELOAD_INTERVAL",
    doc: "Full reload of members and torrents from the database, a safety net behind the live updates.",
  },
  {
    key: "tracker.scrapeMaxHashes",
    kind: "int",
    default: 100,
    min: 1,
    max: 1000,
    env: "FAIRYWREN_SCRAPE_MAX_HASHES",
    doc: "Most `info_hash` values in one scrape.",
  },
  {
    key: "tracker.maxPeers",
    kind: "int",
    default: 10_000_000,
    min: 1,
    max: 60_000_000,
    env: "FAIRYWREN_MAX_PEERS",
    doc: "Most peers held in memory (about 75 bytes each); beyond it new peers are told the tracker is full.",
  },
  {
    key: "tracker.maxTorrents",
    kind: "int",
    default: 5_000_000,
    min: 1,
    max: 50_000_000,
    env: "FAIRYWREN_MAX_TORRENTS",
    doc: "Most torrents the tracker registers; any beyond it are left out with a warning in the log.",
  },
  {
    key: "tracker.trustedProxies",
    kind: "strings",
    default: [],
    env: "FAIRYWREN_TRUSTED_PROXIES",
    doc: "Addresses of reverse proxies whose `X-Forwarded-For` is believed (comma-separated in the environment).",
  },
  {
    key: "tracker.allowedClients",
    kind: "strings",
    default: [],
    env: "FAIRYWREN_ALLOWED_CLIENTS",
    doc: "peer_id prefixes allowed to announce, e.g. `-TR4`, `-qB`; empty allows every client.",
  },
  {
    key: "tracker.maxRateBytesPerSecond",
    kind: "int",
    default: 1_250_000_000,
    min: 0,
    max: 1_000_000_000_000,
    env: "FAIRYWREN_MAX_RATE",
    doc: "Most bytes a second credited to one peer, up and down each (default 10 Gbit/s): more is credited up to (seconds since its last report + 1) × this and recorded. 0 turns the cap off.",
  },
  {
    key: "tracker.uploadNeedsLeecher",
    kind: "bool",
    default: true,
    env: "FAIRYWREN_UPLOAD_NEEDS_LEECHER",
    doc: "Credit upload only if the swarm had a leecher other than the peer since its previous report; refused upload is recorded.",
  },
  {
    key: "tracker.byteConservation",
    kind: "bool",
    default: true,
    env: "FAIRYWREN_BYTE_CONSERVATION",
    doc: "Credit upload only against download that other members' peers in the same swarm reported (see the README's accounting). `false`: upload is credited as reported, under the other rules.",
  },
  {
    key: "tracker.claimHoldSeconds",
    kind: "int",
    default: 0,
    min: 0,
    max: 86400,
    env: "FAIRYWREN_CLAIM_HOLD",
    doc: "Byte conservation: seconds a reported download waits before it is shared among the upload claims of other members in its swarm, so that every seeder has announced. 0: `tracker.announceIntervalSeconds`.",
  },
  {
    key: "tracker.resetOnBackwardsCounter",
    kind: "bool",
    default: true,
    env: "FAIRYWREN_RESET_ON_BACKWARDS_COUNTER",
    doc: "A report with a counter lower than the peer's previous one starts a new session: neither counter is credited (recorded unless `event=started`). `false`: only that counter is ignored.",
  },
  {
    key: "tracker.peerTimeoutSeconds",
    kind: "int",
    default: 0,
    min: 0,
    max: 7 * 86400,
    env: "FAIRYWREN_PEER_TIMEOUT",
    doc: "Seconds without an announce before a peer is dropped from its swarm. 0: 1.5 × the larger of `tracker.announceIntervalSeconds` and 600 (rtorrent never re-announces sooner).",
  },
  {
    key: "tracker.graceSeconds",
    kind: "int",
    default: 86400,
    min: 0,
    max: 30 * 86400,
    env: "FAIRYWREN_GRACE",
    doc: "Seconds a dropped peer's last counters are kept, so a client that comes back with the same peer_id is credited what it did meanwhile. 0 keeps none.",
  },
  {
    key: "tracker.graceMaxPeers",
    kind: "int",
    default: 1_000_000,
    min: 0,
    max: 60_000_000,
    env: "FAIRYWREN_GRACE_MAX_PEERS",
    doc: "Most dropped peers whose counters are kept (about 75 bytes each); beyond it further ones are forgotten, with a warning in the log.",
  },
  {
    key: "tracker.connectableProbesPerSecond",
    kind: "int",
    default: 5,
    min: 0,
    max: 1000,
    env: "FAIRYWREN_CONNECTABLE_PROBES",
    doc: "Most BitTorrent handshakes a second the tracker's process opens to members' peers to learn whether they are connectable (the seeding bonus pays only connectable seeders: see Seeding bonus). Each (address, port, torrent) is probed again after an hour. 0: no probes, so no seeding bonus.",
  },
  {
    key: "hitAndRun.seedHours",
    kind: "int",
    default: 168,
    min: 0,
    max: 24 * 365,
    env: "FAIRYWREN_HNR_SEED_HOURS",
    doc: "Hours a member must seed a torrent they completed (default 7 days, UNIT3D's `seedtime`). 0 turns the hit-and-run rule off.",
  },
  {
    key: "hitAndRun.windowDays",
    kind: "int",
    default: 10,
    min: 1,
    max: 3650,
    env: "FAIRYWREN_HNR_WINDOW_DAYS",
    doc: "Days after completing within which the seed time is owed (default 10: UNIT3D's 7-day `seedtime` plus its 3-day `grace`); past it, a snatch still short is a hit-and-run.",
  },
  {
    key: "hitAndRun.ratioPercent",
    kind: "int",
    default: 100,
    min: 0,
    max: 100_000,
    env: "FAIRYWREN_HNR_RATIO_PERCENT",
    doc: "Upload credited on the torrent, as a percentage of the torrent's size, that settles a snatch without the seed time (default 100: a ratio of 1). 0: only seed time settles it.",
  },
  {
    key: "hitAndRun.minDownloadPercent",
    kind: "int",
    default: 3,
    min: 0,
    max: 100,
    env: "FAIRYWREN_HNR_MIN_DOWNLOAD_PERCENT",
    doc: "A completion is owed seed time only if the member was credited at least this percentage of the torrent's size as download (default 3, UNIT3D's `buffer`): a member who already had the files owes nothing.",
  },
  {
    key: "hitAndRun.pauseDownloadsAfter",
    kind: "int",
    default: 0,
    min: 0,
    max: 1_000_000,
    env: "FAIRYWREN_HNR_PAUSE_AFTER",
    doc: "With this many hit-and-runs or more, a member's new downloads are refused: the tracker answers a new leecher with a `failure reason` saying why (seeding, and downloads already running, go on). Checked at start and every hour; settling hit-and-runs lifts it at the next check. 0 (default): never.",
  },
  {
    key: "bonus.pointsPerHour",
    kind: "int",
    default: 1,
    min: 0,
    max: 1_000_000,
    env: "FAIRYWREN_BONUS_POINTS_PER_HOUR",
    doc: "Base bonus points an hour for seeding one torrent, before the size, age and seeder factors (see Seeding bonus). 0 turns earning off.",
  },
  {
    key: "bonus.pointsPerGiB",
    kind: "int",
    default: 100,
    min: 0,
    max: 1_000_000_000,
    env: "FAIRYWREN_BONUS_POINTS_PER_GIB",
    doc: "Bonus points for 1 GiB (2^30 bytes) of upload credit. 0: upload credit is not for sale.",
  },
  {
    key: "bonus.invitePoints",
    kind: "int",
    default: 1000,
    min: 0,
    max: 1_000_000_000,
    env: "FAIRYWREN_BONUS_INVITE_POINTS",
    doc: "Bonus points for one invite. 0: invites are not for sale.",
  },
  {
    key: "requests.expireDays",
    kind: "int",
    default: 90,
    min: 1,
    max: 3650,
    env: "FAIRYWREN_REQUESTS_EXPIRE_DAYS",
    doc: "Days a request stays open for a fill; past them, a request whose fill was not accepted expires and each contribution to its bounty is refunded (see Requests).",
  },
  {
    key: "requests.minBountyPoints",
    kind: "int",
    default: 100,
    min: 1,
    max: 1_000_000_000,
    env: "FAIRYWREN_REQUESTS_MIN_BOUNTY",
    doc: "Bonus points a member puts on a request when making it, at the least (later contributions may be any whole number of points).",
  },
] as const satisfies readonly KeySpec[];

/** The key table, each entry typed as a KeySpec (the README's table, in its order). */
export const CONFIG_KEYS: readonly KeySpec[] = KEYS;

type Key = (typeof KEYS)[number];
type ValueOf<E extends Key> = KindValue[E["kind"]];
type SectionName = Key["key"] extends infer P ? (P extends `${infer S}.${string}` ? S : never) : never;

/**
 * The effective configuration, read once at start and frozen: derived from the key table above,
 * top-level keys and one object per section (`webapi.port` is `config.webapi.port`).
 */
export type Config = {
  readonly [E in Key as E["key"] extends `${string}.${string}` ? never : E["key"]]: ValueOf<E>;
} & {
  readonly [S in SectionName]: {
    readonly [E in Key as E["key"] extends `${S}.${infer F}` ? F : never]: ValueOf<E>;
  };
};

/**
 * The tracker settings the announce and scrape policy and the accounting use: the `tracker`
 * section less what only the tracker process's plumbing reads (addresses, database, reloads).
 */
export type TrackerPolicy = Omit<
  Config["tracker"],
  | "postgresql"
  | "host"
  | "port"
  | "udpPort"
  | "udpPacketsPerSecond"
  | "reloadIntervalSeconds"
  | "trustedProxies"
  | "connectableProbesPerSecond"
>;

/** A configuration that failed validation; `problems` lists every problem found. */
export class ConfigError extends Error {
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(`invalid configuration (${source}):\n${problems.map((p) => `  - ${p}`).join("\n")}`);
  }
}

const SECTIONS = new Set(CONFIG_KEYS.filter((k) => k.key.includes(".")).map((k) => k.key.split(".")[0]!));

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  return typeof value === "object" ? "an object" : `${typeof value} ${JSON.stringify(value)}`;
}

function checkUrl(text: string, protocols: string[]): string | null {
  try {
    const url = new URL(text);
    if (!protocols.includes(url.protocol)) return `must start with ${protocols.join(" or ")}`;
    return null;
  } catch {
    return "is not a valid URL";
  }
}

const PG_PARTS: Record<string, "string" | "number"> = {
  host: "string",
  port: "number",
  database: "string",
  user: "string",
  password: "string",
};

/** Checks one value against its key's type; returns the converted value or a problem. */
function checkValue(spec: KeySpec, raw: unknown, fromEnv: boolean): { value?: unknown; problem?: string } {
  const where = fromEnv ? `${spec.env}` : spec.key;
  switch (spec.kind) {
    case "string":
    case "path":
      if (typeof raw !== "string") return { problem: `${where} must be a string, not ${describe(raw)}` };
      return { value: raw };
    case "level":
      if (raw !== "debug" && raw !== "info" && raw !== "warn" && raw !== "error")
        return { problem: `${where} must be one of debug, info, warn, error, not ${describe(raw)}` };
      return { value: raw };
    case "url": {
      if (typeof raw !== "string") return { problem: `${where} must be a URL string, not ${describe(raw)}` };
      const bad = checkUrl(raw, ["http:", "https:"]);
      return bad
        ? { problem: `${where} ${bad}: ${JSON.stringify(raw)}` }
        : { value: raw.replace(/\/+$/, "") };
    }
    case "int": {
      let n = raw;
      if (fromEnv && typeof raw === "string" && /^-?\d+$/.test(raw.trim())) n = Number(raw);
      if (typeof n !== "number" || !Number.isInteger(n))
        return { problem: `${where} must be a whole number, not ${describe(raw)}` };
      if ((spec.min !== undefined && n < spec.min) || (spec.max !== undefined && n > spec.max))
        return { problem: `${where} must be between ${spec.min} and ${spec.max}, not ${n}` };
      return { value: n };
    }
    case "bool": {
      if (fromEnv && typeof raw === "string") {
        const t = raw.trim().toLowerCase();
        if (["1", "true", "yes", "on"].includes(t)) return { value: true };
        if (["0", "false", "no", "off", ""].includes(t)) return { value: false };
      }
      if (typeof raw !== "boolean")
        return { problem: `${where} must be true or false, not ${describe(raw)}` };
      return { value: raw };
    }
    case "strings": {
      if (fromEnv && typeof raw === "string")
        return {
          value: raw
            .split(",")
            .map((s) => s.trim())
            .filter(Boolean),
        };
      if (!Array.isArray(raw) || raw.some((s) => typeof s !== "string"))
        return { problem: `${where} must be a list of strings, not ${describe(raw)}` };
      return { value: raw };
    }
    case "postgres": {
      if (raw === null || raw === "") return { value: null };
      if (typeof raw === "string") {
        const bad = checkUrl(raw, ["postgres:", "postgresql:"]);
        return bad ? { problem: `${where} ${bad}` } : { value: raw };
      }
      if (typeof raw !== "object" || Array.isArray(raw))
        return { problem: `${where} must be a postgres:// URL or an object, not ${describe(raw)}` };
      const problems: string[] = [];
      for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
        const want = PG_PARTS[k];
        if (!want)
          problems.push(`${where}.${k} is not a known key (use ${Object.keys(PG_PARTS).join(", ")})`);
        else if (typeof v !== want) problems.push(`${where}.${k} must be a ${want}, not ${describe(v)}`);
      }
      return problems.length ? { problem: problems.join("; ") } : { value: raw };
    }
  }
}

function setPath(target: Record<string, unknown>, key: string, value: unknown): void {
  const parts = key.split(".");
  let node = target;
  for (const part of parts.slice(0, -1)) {
    node[part] ??= {};
    node = node[part] as Record<string, unknown>;
  }
  node[parts.at(-1)!] = value;
}

function getPath(source: Record<string, unknown>, key: string): unknown {
  let node: unknown = source;
  for (const part of key.split(".")) {
    if (node === null || typeof node !== "object" || !Object.hasOwn(node, part)) return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object") {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/**
 * Builds the configuration from an optional JSON file and the environment (which wins), checking
 * every key. Throws a ConfigError naming every problem at once.
 */
export function loadConfig(
  options: { file?: string; env?: Record<string, string | undefined> } = {},
): Config {
  const env = options.env ?? process.env;
  const file = options.file ?? env.FAIRYWREN_CONFIG;
  const source = file ? resolve(file) : "defaults and environment";
  const problems: string[] = [];
  let parsed: Record<string, unknown> = {};
  if (file) {
    if (!existsSync(file)) throw new ConfigError(source, [`the file ${source} does not exist`]);
    try {
      parsed = JSON.parse(readFileSync(file, "utf8"));
    } catch (error) {
      throw new ConfigError(source, [`the file is not valid JSON: ${(error as Error).message}`]);
    }
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed))
      throw new ConfigError(source, ["the file must hold a JSON object"]);
    for (const [key, value] of Object.entries(parsed)) {
      if (SECTIONS.has(key)) {
        if (value === null || typeof value !== "object" || Array.isArray(value)) {
          problems.push(`${key} must be an object, not ${describe(value)}`);
          continue;
        }
        for (const sub of Object.keys(value))
          if (!CONFIG_KEYS.some((k) => k.key === `${key}.${sub}`)) problems.push(`unknown key ${key}.${sub}`);
      } else if (!CONFIG_KEYS.some((k) => k.key === key)) problems.push(`unknown key ${key}`);
    }
  }
  const result: Record<string, unknown> = {};
  for (const spec of CONFIG_KEYS) {
    const fromEnv = env[spec.env];
    const fromFile = getPath(parsed, spec.key);
    let value: unknown = spec.default;
    if (fromEnv !== undefined) {
      const checked = checkValue(spec, fromEnv, true);
      if (checked.problem) problems.push(checked.problem);
      else value = checked.value;
    } else if (fromFile !== undefined) {
      const checked = checkValue(spec, fromFile, false);
      if (checked.problem) problems.push(checked.problem);
      else value = checked.value;
    }
    setPath(result, spec.key, Array.isArray(value) ? [...value] : value);
  }
  const tracker = result.tracker as Record<string, number>;
  if (tracker.minAnnounceIntervalSeconds! > tracker.announceIntervalSeconds!)
    problems.push("tracker.minAnnounceIntervalSeconds must not exceed tracker.announceIntervalSeconds");
  if (tracker.numwantDefault! > tracker.numwantMax!)
    problems.push("tracker.numwantDefault must not exceed tracker.numwantMax");
  if (problems.length) throw new ConfigError(source, problems);
  result.dataDir = resolve(result.dataDir as string);
  if (!isConfig(result)) throw new ConfigError(source, ["a key of the table was not set"]);
  return deepFreeze(result);
}

/**
 * Whether `tree` holds every key of the table at its path: what loadConfig builds, each value
 * already checked against its key's kind, is then a Config.
 */
function isConfig(tree: Record<string, unknown>): tree is Config {
  return CONFIG_KEYS.every((spec) => getPath(tree, spec.key) !== undefined);
}

/** The configuration as JSON with every secret masked, for `fairywren config`. */
export function describeConfig(config: Config): string {
  const copy = structuredClone(config) as unknown as Record<string, unknown>;
  for (const spec of CONFIG_KEYS) {
    if (!spec.secret) continue;
    const value = getPath(copy, spec.key);
    if (value === null || value === "" || value === undefined) continue;
    if (typeof value === "string" && spec.kind === "postgres") {
      const url = new URL(value);
      if (url.password) url.password = "****";
      setPath(copy, spec.key, url.toString());
    } else if (typeof value === "object") {
      setPath(copy, spec.key, {
        ...(value as object),
        ...("password" in (value as object) ? { password: "****" } : {}),
      });
    } else setPath(copy, spec.key, "****");
  }
  return JSON.stringify(copy, null, 2);
}

/** Leading path a reverse proxy adds, from the first `pathDepth` segments of a request path. */
export function stripPrefix(pathname: string, depth: number): string | null {
  if (depth === 0) return pathname;
  let at = 0;
  for (let i = 0; i < depth; i++) {
    const next = pathname.indexOf("/", at + 1);
    if (next === -1) return null;
    at = next;
  }
  return pathname.slice(at);
}
