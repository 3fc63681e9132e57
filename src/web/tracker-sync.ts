import type { Sql } from "../db/client.ts";
import { factorWindows } from "../db/queries/freeleech.ts";
import { trackerTorrent } from "../db/queries/torrents.ts";
import { trackerUser } from "../db/queries/users.ts";
import type { Channel, TrackerToWeb, WebToTracker } from "../shared/channel.ts";

/** Tells the tracker about changes the web side made, so announces see them at once. */
export interface TrackerSync {
  /** A member was added, disabled or enabled, or had the passkey rotated. */
  user(id: number): Promise<void>;
  /** A torrent was added (or removed, when it is gone from the database). */
  torrent(id: number): Promise<void>;
  /** The site-wide factor windows changed. */
  windows(): Promise<void>;
}

/** How long a change may wait for the tracker's acknowledgement before the web side moves on. */
const ACK_TIMEOUT_MS = 1000;

/**
 * Reads the committed row and sends it over the channel, then waits (briefly) until the tracker has
 * applied it: the tracker handles messages in order, so the answer to a ping sent after the change
 * means the change is live. A member who disables someone, or rotates a passkey, gets the page back
 * only once announces see the change.
 */
export function trackerSync(sql: Sql, channel: Channel<WebToTracker, TrackerToWeb>): TrackerSync {
  const waiting = new Map<number, () => void>();
  // Several web processes hear every pong over PostgreSQL: each counts from its own random start.
  let nonce = Math.floor(Math.random() * 2 ** 48);
  channel.onMessage((message) => {
    if (message.kind !== "pong") return;
    waiting.get(message.nonce)?.();
    waiting.delete(message.nonce);
  });
  const applied = () =>
    new Promise<void>((resolve) => {
      const n = ++nonce;
      const timer = setTimeout(() => {
        waiting.delete(n);
        resolve();
      }, ACK_TIMEOUT_MS);
      waiting.set(n, () => {
        clearTimeout(timer);
        resolve();
      });
      channel.send({ kind: "ping", nonce: n });
    });
  return {
    async user(id) {
      const user = await trackerUser(sql, id);
      channel.send(user ? { kind: "user-upsert", user } : { kind: "user-removed", id });
      await applied();
    },
    async torrent(id) {
      const torrent = await trackerTorrent(sql, id);
      channel.send(torrent ? { kind: "torrent-upsert", torrent } : { kind: "torrent-removed", id });
      await applied();
    },
    async windows() {
      channel.send({ kind: "windows", windows: await factorWindows(sql) });
      await applied();
    },
  };
}
