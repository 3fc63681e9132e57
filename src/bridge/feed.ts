// The one way into the tracker's maps. Whatever the web side says (in this process, or in another
// one over PostgreSQL) arrives here as ids; the rows are read here and handed to the tracker Worker
// in the order the messages came, so a ping is answered only after every change sent before it
// is applied.
import type { Sql } from "../db/client.ts";
import { factorWindows } from "../db/queries/freeleech.ts";
import { trackerTorrent } from "../db/queries/torrents.ts";
import { trackerUser } from "../db/queries/users.ts";
import { log } from "../log.ts";
import type { WebToTracker } from "../shared/channel.ts";
import type { ToTracker } from "./vocabulary.ts";

/** The message the tracker Worker applies for `message`, with the rows it names read from `sql`. */
export async function hydrate(sql: Sql, message: ToTracker): Promise<WebToTracker> {
  switch (message.kind) {
    case "user": {
      const user = await trackerUser(sql, message.id);
      return user ? { kind: "user-upsert", user } : { kind: "user-removed", id: message.id };
    }
    case "torrent": {
      const torrent = await trackerTorrent(sql, message.id);
      return torrent ? { kind: "torrent-upsert", torrent } : { kind: "torrent-removed", id: message.id };
    }
    case "windows":
      return { kind: "windows", windows: await factorWindows(sql) };
    case "ping":
    case "peers-request":
      return message;
  }
}

/** Hands what the web side says to the tracker Worker. */
export interface TrackerFeed {
  send(message: ToTracker): void;
  /** Resolves once everything sent so far is handed on. */
  drained(): Promise<void>;
}

/**
 * Reads, in order, the rows each message names and sends the result to `toWorker`. A read that
 * fails is logged and its message dropped: the tracker's periodic reload catches it up.
 */
export function trackerFeed(sql: Sql, toWorker: (message: WebToTracker) => void): TrackerFeed {
  let chain: Promise<void> = Promise.resolve();
  return {
    send(message) {
      chain = chain.then(async () => {
        try {
          toWorker(await hydrate(sql, message));
        } catch (error) {
          log.warn("a change could not be read for the tracker", {
            kind: message.kind,
            error: error as Error,
          });
        }
      });
    },
    drained: () => chain,
  };
}
