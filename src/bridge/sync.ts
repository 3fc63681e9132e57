import type { TrackerLink } from "./vocabulary.ts";

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
 * Names the changed member or torrent over the link (the tracker's side reads the committed row),
 * then waits (briefly) until the tracker has applied it: the tracker handles messages in order, so
 * the answer to a ping sent after the change means the change is live. A member who disables
 * someone, or rotates a passkey, gets the page back only once announces see the change.
 */
export function trackerSync(link: TrackerLink): TrackerSync {
  const waiting = new Map<number, () => void>();
  // Several web processes hear every pong over PostgreSQL: each counts from its own random start.
  let nonce = Math.floor(Math.random() * 2 ** 48);
  link.onMessage((message) => {
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
      link.send({ kind: "ping", nonce: n });
    });
  return {
    async user(id) {
      link.send({ kind: "user", id });
      await applied();
    },
    async torrent(id) {
      link.send({ kind: "torrent", id });
      await applied();
    },
    async windows() {
      link.send({ kind: "windows" });
      await applied();
    },
  };
}
