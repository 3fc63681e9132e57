// Everything the tracker loads from the database: members, torrents and factor windows (at start
// and at each periodic reload) and who completed which torrent (at start). Read in the process
// that runs the tracker and handed to its Worker, which holds no database code.
import type { Config } from "../config.ts";
import { connect, type Sql } from "../db/client.ts";
import { factorWindows } from "../db/queries/freeleech.ts";
import { trackerCompletions, trackerTorrents } from "../db/queries/torrents.ts";
import { trackerClaims, trackerPeers } from "../db/queries/tracker-peers.ts";
import { trackerUsers } from "../db/queries/users.ts";
import type {
  Completions,
  FactorWindow,
  SwarmPeers,
  TrackerTorrent,
  TrackerUser,
} from "../shared/channel.ts";

/** What a full reload gives the tracker. */
export interface Snapshot {
  readonly users: TrackerUser[];
  readonly torrents: TrackerTorrent[];
  readonly windows: FactorWindow[];
}

/** Reads what the tracker loads. */
export interface TrackerLoader {
  snapshot(): Promise<Snapshot>;
  completions(): Promise<Completions>;
  /** The peers saved with the last credit written (sql/019_tracker_peers.sql). */
  swarm(): Promise<SwarmPeers>;
  /** Byte conservation's claims and downloads saved with it (sql/020_waiting_claims_and_probes.sql). */
  waiting(): Promise<Float64Array>;
}

/**
 * On a PostgreSQL server, each full read goes through a connection of its own, with the tracker's
 * own (read-only) login when `tracker.postgresql` is set: every row is streamed from the start, so
 * only a silent server is cut short, and the web side's pool is not held up. The embedded
 * database serves one connection: `sql`.
 */
export function trackerLoader(config: Config, sql: Sql): TrackerLoader {
  const setting = config.tracker.postgresql ?? config.webapi.postgresql;
  const reading = async <T>(read: (sql: Sql) => Promise<T>): Promise<T> => {
    if (!setting) return read(sql);
    const own = connect(setting, 1, { statementTimeoutMs: 0, unansweredMs: 60_000, idleSeconds: 0 });
    try {
      return await read(own);
    } finally {
      await own.end({ timeout: 5 });
    }
  };
  return {
    snapshot: () =>
      reading(async (s) => ({
        users: await trackerUsers(s),
        torrents: await trackerTorrents(s),
        windows: await factorWindows(s),
      })),
    completions: () => reading(trackerCompletions),
    swarm: () => reading((s) => trackerPeers(s)),
    waiting: () => reading(trackerClaims),
  };
}
