import type { Sql } from "../db/client.ts";
import { trackerTorrent } from "../db/queries/torrents.ts";
import { trackerUser } from "../db/queries/users.ts";
import type { Channel, TrackerToWeb, WebToTracker } from "../shared/channel.ts";

/** Tells the tracker about changes the web side made, so announces see them at once. */
export interface TrackerSync {
  /** A member was added, disabled or enabled, or had the passkey rotated. */
  user(id: number): Promise<void>;
  /** A torrent was added (or removed, when it is gone from the database). */
  torrent(id: number): Promise<void>;
}

/** Reads the committed row and sends it over the channel. */
export function trackerSync(sql: Sql, channel: Channel<WebToTracker, TrackerToWeb>): TrackerSync {
  return {
    async user(id) {
      const user = await trackerUser(sql, id);
      channel.send(user ? { kind: "user-upsert", user } : { kind: "user-removed", id });
    },
    async torrent(id) {
      const torrent = await trackerTorrent(sql, id);
      channel.send(torrent ? { kind: "torrent-upsert", torrent } : { kind: "torrent-removed", id });
    },
  };
}
