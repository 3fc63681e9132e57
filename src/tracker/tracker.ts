import {
  DELTA_FIELDS,
  type StatDeltas,
  type TorrentCounts,
  type TrackerTorrent,
  type TrackerUser,
} from "../shared/channel.ts";
import { CLIENT_ERRORS, type ClientError } from "./protocol/errors.ts";
import {
  type AnnounceRequest,
  EVENT_COMPLETED,
  EVENT_NONE,
  EVENT_STOPPED,
  parseAnnounce,
  parseScrape,
} from "./protocol/query.ts";
import {
  announceResponse,
  announceResponseDict,
  type DictPeer,
  scrapeResponse,
} from "./protocol/response.ts";
import { hashKey, type TorrentEntry, TrackerState } from "./state.ts";
import { SwarmStore } from "./swarm.ts";

/** The tracker settings the announce and scrape policy uses. */
export interface TrackerPolicy {
  readonly announceIntervalSeconds: number;
  readonly minAnnounceIntervalSeconds: number;
  readonly numwantDefault: number;
  readonly numwantMax: number;
  readonly maxPeersPerUserPerTorrent: number;
  readonly scrapeMaxHashes: number;
  /** Most peers in all swarms; most torrents registered. */
  readonly maxPeers: number;
  readonly maxTorrents: number;
  /** peer_id prefixes allowed to announce; empty allows all. */
  readonly allowedClients: readonly string[];
}

/** Outcome of one request, for metrics: "ok", "throttled" or a client error code. */
export type Outcome = "ok" | "throttled" | ClientError["code"];

/** A response body and the outcome behind it. */
export interface Reply {
  readonly body: Uint8Array;
  readonly outcome: Outcome;
}

const MAX_COMPACT_PEERS = 1000;

/**
 * The tracker's policy and state: announce, scrape, accounting and counts. Pure apart from its own
 * memory: time (`now`, whole seconds) and randomness (`rand`) come from the caller, so tests can fix
 * both. Never touches the database.
 */
export class Tracker {
  readonly state = new TrackerState();
  // A per-run seed keeps crafted peer ids from piling into one hash chain.
  readonly swarms = new SwarmStore({ hashSeed: (Math.random() * 2 ** 31) | 0 });
  private readonly peers4 = new Uint8Array(MAX_COMPACT_PEERS * 6);
  private readonly peers6 = new Uint8Array(MAX_COMPACT_PEERS * 18);
  private readonly allowed: Uint8Array[];
  /** Pending credit: (member, torrent) pair key → row in `deltas`. */
  private deltaIndex = new Map<number, number>();
  /** Pending credit rows, packed (see StatDeltas); `deltaRows` of them are in use. */
  private deltas = new Float64Array(DELTA_FIELDS * 1024);
  private deltaRows = 0;
  /** Snatches already counted in this run: "user:torrent". */
  private readonly snatched = new Set<number>();
  /** Swarm indexes whose counts changed since the last `takeCounts`. */
  private dirty = new Set<number>();
  private seq = 0;

  constructor(
    private readonly policy: TrackerPolicy,
    private readonly rand: () => number = Math.random,
    /** Told when a memory limit refuses something (the caller logs it, rate-limited). */
    private readonly onLimit: (what: "peers" | "torrents", limit: number) => void = () => {},
  ) {
    this.allowed = policy.allowedClients.map((p) => new TextEncoder().encode(p));
  }

  /** Answers an announce from the member with `passkey`, whose address is `ip` (4 or 16 bytes). */
  announce(passkey: string, query: string, ip: Uint8Array, now: number): Reply {
    const user = this.state.users.get(passkey);
    if (!user) return fail(CLIENT_ERRORS.unknownPasskey);
    if (user.disabled) return fail(CLIENT_ERRORS.disabledAccount);
    const request = parseAnnounce(query, this.policy);
    if ("error" in request) return { body: failureBody(request.error), outcome: "malformed" };
    if (this.allowed.length > 0 && !this.clientAllowed(request.peerId))
      return fail(CLIENT_ERRORS.clientNotAllowed);
    const torrent = this.state.torrents.get(hashKey(request.infoHash));
    if (!torrent) return fail(CLIENT_ERRORS.unregisteredTorrent);

    const t = torrent.index;
    const swarms = this.swarms;
    let slot = swarms.find(t, request.peerId);
    if (slot >= 0 && swarms.userId(slot) !== user.id) return fail(CLIENT_ERRORS.peerIdInUse);
    const seeder = request.left === 0;

    if (request.event === EVENT_STOPPED) {
      if (slot >= 0) {
        this.credit(user.id, torrent, slot, request, false);
        swarms.remove(t, request.peerId);
        this.dirty.add(t);
      }
      return { body: this.reply(torrent, request, -1, true), outcome: "ok" };
    }

    if (slot < 0) {
      if (swarms.size >= this.policy.maxPeers) {
        this.onLimit("peers", this.policy.maxPeers);
        return fail(CLIENT_ERRORS.trackerFull);
      }
      if (swarms.peersOfUser(t, user.id) >= this.policy.maxPeersPerUserPerTorrent)
        return fail(CLIENT_ERRORS.tooManyPeers);
      // A first announce earns no credit: there is nothing to compare its counters with.
      slot = swarms.put(
        t,
        request.peerId,
        user.id,
        ip,
        request.port,
        seeder,
        request.uploaded,
        request.downloaded,
        now,
      );
      this.dirty.add(t);
      if (request.event === EVENT_COMPLETED) this.snatch(user.id, torrent);
      return { body: this.reply(torrent, request, slot, seeder), outcome: "ok" };
    }

    // Re-announcing too soon gets a valid reply and changes nothing: the credit waits, intact, for
    // the next announce, whose counters it is computed from.
    const early =
      request.event === EVENT_NONE && now - swarms.lastSeen(slot) < this.policy.minAnnounceIntervalSeconds;
    if (early)
      return { body: this.reply(torrent, request, slot, swarms.isSeeder(slot)), outcome: "throttled" };

    const wasSeeder = swarms.isSeeder(slot);
    this.credit(user.id, torrent, slot, request, request.event === EVENT_COMPLETED && !wasSeeder);
    swarms.put(
      t,
      request.peerId,
      user.id,
      ip,
      request.port,
      seeder,
      request.uploaded,
      request.downloaded,
      now,
    );
    if (wasSeeder !== seeder) this.dirty.add(t);
    return { body: this.reply(torrent, request, slot, seeder), outcome: "ok" };
  }

  /** Answers a scrape: counts for each registered torrent asked for; unknown hashes are left out. */
  scrape(passkey: string, query: string): Reply {
    const user = this.state.users.get(passkey);
    if (!user) return fail(CLIENT_ERRORS.unknownPasskey);
    if (user.disabled) return fail(CLIENT_ERRORS.disabledAccount);
    const request = parseScrape(query, this.policy.scrapeMaxHashes);
    if ("error" in request) return { body: failureBody(request.error), outcome: "malformed" };
    if (request.infoHashes.length === 0) return fail(CLIENT_ERRORS.scrapeNeedsHash);
    const files = [];
    for (const hash of request.infoHashes) {
      const torrent = this.state.torrents.get(hashKey(hash));
      if (!torrent) continue;
      files.push({
        // The key is the hash the client asked with (v1, or truncated v2 of a hybrid).
        infoHash: hash,
        complete: this.swarms.seeders(torrent.index),
        incomplete: this.swarms.leechers(torrent.index),
        downloaded: torrent.snatches,
      });
    }
    return { body: scrapeResponse(files), outcome: "ok" };
  }

  /** Removes peers not seen since `cutoff`; returns how many. */
  reap(cutoff: number): number {
    return this.swarms.reap(cutoff, (t) => this.dirty.add(t));
  }

  /** Applies a member change from the web side. */
  upsertUser(user: TrackerUser): void {
    this.state.upsertUser(user);
  }

  removeUser(id: number): void {
    this.state.removeUser(id);
  }

  /** Registers a torrent, or refreshes its snatch count; refused beyond `maxTorrents`. */
  upsertTorrent(torrent: TrackerTorrent): void {
    if (this.state.torrentCount >= this.policy.maxTorrents && !this.state.hasTorrent(torrent.id)) {
      this.onLimit("torrents", this.policy.maxTorrents);
      return;
    }
    this.state.upsertTorrent(torrent);
  }

  /** Unregisters a torrent and drops its swarm. */
  removeTorrent(id: number): void {
    this.freeIndex(this.state.removeTorrent(id));
  }

  /** Drops what is kept for a swarm index that a removed torrent gave up (it will be reused). */
  private freeIndex(index: number): void {
    if (index < 0) return;
    this.swarms.removeTorrent(index);
    this.dirty.delete(index);
    for (const key of this.snatched) if (key % INDEX_SPAN === index) this.snatched.delete(key);
  }

  /** Replaces members and torrents with a full snapshot, keeping swarms of torrents still registered. */
  load(users: readonly TrackerUser[], torrents: readonly TrackerTorrent[]): void {
    if (torrents.length > this.policy.maxTorrents) {
      this.onLimit("torrents", this.policy.maxTorrents);
      torrents = torrents.slice(0, this.policy.maxTorrents);
    }
    for (const index of this.state.replaceAll(users, torrents)) this.freeIndex(index);
  }

  /** Counts of torrents that changed since the last call, as [id, seeders, leechers, snatches]. */
  takeCounts(): TorrentCounts[] {
    const out: TorrentCounts[] = [];
    for (const t of this.dirty) {
      const torrent = this.state.byIndex[t];
      if (torrent) out.push([torrent.id, this.swarms.seeders(t), this.swarms.leechers(t), torrent.snatches]);
    }
    this.dirty = new Set();
    return out;
  }

  /** Credit accumulated since the last call, with the next sequence number; null when there is none. */
  takeDeltas(): { seq: number; deltas: StatDeltas } | null {
    if (this.deltaRows === 0) return null;
    const deltas = this.deltas.slice(0, this.deltaRows * DELTA_FIELDS);
    this.deltaRows = 0;
    this.deltaIndex = new Map();
    return { seq: ++this.seq, deltas };
  }

  /** The row of pending credit for a pair, added (zeroed) if there is none yet. */
  private deltaRow(key: number, userId: number, torrentId: number): number {
    const at = this.deltaIndex.get(key);
    if (at !== undefined) return at;
    const row = this.deltaRows++;
    if (row * DELTA_FIELDS === this.deltas.length) {
      const grown = new Float64Array(this.deltas.length * 2);
      grown.set(this.deltas);
      this.deltas = grown;
    }
    const o = row * DELTA_FIELDS;
    this.deltas.fill(0, o, o + DELTA_FIELDS);
    this.deltas[o] = userId;
    this.deltas[o + 1] = torrentId;
    this.deltaIndex.set(key, row);
    return row;
  }

  private clientAllowed(peerId: Uint8Array): boolean {
    outer: for (const prefix of this.allowed) {
      for (let i = 0; i < prefix.length; i++) if (peerId[i] !== prefix[i]) continue outer;
      return true;
    }
    return false;
  }

  /**
   * Credits the difference between this report and the peer's previous one. A counter lower than
   * before means the client restarted its session: no credit, and the new value is the baseline.
   */
  private credit(
    userId: number,
    torrent: TorrentEntry,
    slot: number,
    request: AnnounceRequest,
    completed: boolean,
  ) {
    const up = request.uploaded - this.swarms.uploaded(slot);
    const down = request.downloaded - this.swarms.downloaded(slot);
    const upCredit = Math.max(up, 0);
    const downCredit = Math.max(down, 0);
    const snatch = completed && this.snatch(userId, torrent);
    if (upCredit === 0 && downCredit === 0 && !snatch) return;
    const o = this.deltaRow(pairKey(userId, torrent), userId, torrent.id) * DELTA_FIELDS;
    this.deltas[o + 2]! += upCredit;
    this.deltas[o + 3]! += downCredit;
    if (snatch) this.deltas[o + 4] = 1;
  }

  /** Counts a member's first completion of a torrent in this run; false if already counted. */
  private snatch(userId: number, torrent: TorrentEntry): boolean {
    const key = pairKey(userId, torrent);
    if (this.snatched.has(key)) return false;
    this.snatched.add(key);
    torrent.snatches++;
    this.dirty.add(torrent.index);
    // A completion on a first announce has no previous report to credit; record the snatch alone.
    this.deltas[this.deltaRow(key, userId, torrent.id) * DELTA_FIELDS + 4] = 1;
    return true;
  }

  private reply(torrent: TorrentEntry, request: AnnounceRequest, slot: number, seeder: boolean): Uint8Array {
    const t = torrent.index;
    const policy = this.policy;
    // Spread re-announces: up to 10% below the interval; min interval never below the configured one.
    const jitter = this.rand() * 0.1;
    const interval = Math.max(1, Math.round(policy.announceIntervalSeconds * (1 - jitter)));
    const minInterval = Math.min(interval, Math.round(policy.minAnnounceIntervalSeconds * (1 + jitter)));
    const complete = this.swarms.seeders(t);
    const incomplete = this.swarms.leechers(t);
    const want = request.event === EVENT_STOPPED ? 0 : Math.min(request.numwant, MAX_COMPACT_PEERS);
    if (!request.compact) {
      const peers: DictPeer[] = [];
      if (want > 0) {
        this.swarms.selectSlots(t, slot, seeder, want, this.rand, (s) => {
          peers.push({
            ip: this.swarms.ipString(s),
            port: this.swarms.port(s),
            peerId: request.noPeerId ? null : this.swarms.peerIdOf(s),
          });
        });
      }
      return announceResponseDict({
        interval,
        minInterval,
        complete,
        incomplete,
        downloaded: torrent.snatches,
        peers,
      });
    }
    let peers4Length = 0;
    let peers6Length = 0;
    if (want > 0) {
      this.swarms.selectCompact(t, slot, seeder, want, this.peers4, this.peers6, this.rand);
      peers4Length = this.swarms.selected4 * 6;
      peers6Length = this.swarms.selected6 * 18;
    }
    return announceResponse({
      interval,
      minInterval,
      complete,
      incomplete,
      downloaded: torrent.snatches,
      peers4: this.peers4,
      peers4Length,
      peers6: this.peers6,
      peers6Length,
    });
  }
}

/** Swarm indexes stay below this (maxTorrents is at most 50 million). */
const INDEX_SPAN = 2 ** 26;

/**
 * One number for a (member, torrent) pair: cheaper on every announce than a string key. Exact while
 * member ids stay below 2^27 (134 million).
 */
function pairKey(userId: number, torrent: TorrentEntry): number {
  return userId * INDEX_SPAN + torrent.index;
}

function fail(error: ClientError): Reply {
  return { body: error.body, outcome: error.code };
}

const failureCache = new Map<string, Uint8Array>();

/** Bodies of parse failures, cached: the parser's messages form a small fixed set. */
function failureBody(message: string): Uint8Array {
  let body = failureCache.get(message);
  if (!body) {
    body = CLIENT_ERRORS.malformed(message.replace(/^Malformed request: /, "")).body;
    if (failureCache.size < 256) failureCache.set(message, body);
  }
  return body;
}
