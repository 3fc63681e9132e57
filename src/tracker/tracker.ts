import type { TrackerPolicy } from "../config.ts";
import {
  type Completions,
  type FactorWindow,
  PAIR_STATE,
  PEER_FIELDS,
  PEER_ROW,
  type PeerList,
  type StatDeltas,
  type SuspiciousBatch,
  SWARM_FIELDS,
  SWARM_FLAG,
  SWARM_ROW,
  type SwarmChanges,
  type SwarmPeers,
  type TorrentCounts,
  type TrackerTorrent,
  type TrackerUser,
  WAITING_FIELDS,
  WAITING_ROW,
  type WaitingChanges,
} from "../shared/channel.ts";
import {
  addCredit,
  addUpload,
  applyFactors,
  assess,
  chargeLeft,
  expirySeconds,
  holdSeconds,
  markCompleted,
  newAssessment,
  newReport,
  REASON,
  type SiteFactors,
  setPairState,
  siteFactorsAt,
  touchCreditRow,
  usableWindow,
} from "./accounting.ts";
import { Conservation, MAX_ENTRIES } from "./conservation.ts";
import { SwarmJournal } from "./journal.ts";
import { type AgentSource, CreditLedger, SuspiciousLedger } from "./ledger.ts";
import { CLIENT_ERRORS, ClientError } from "./protocol/errors.ts";
import {
  type AnnounceRequest,
  EVENT_COMPLETED,
  EVENT_STARTED,
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
import { hashKey, type TorrentEntry, TrackerState, type UserEntry } from "./state.ts";
import { SwarmStore } from "./swarm.ts";
import { peerTimeoutSeconds } from "./timeouts.ts";

export type { AgentSource, TrackerPolicy };

/** Outcome of one request, for metrics: "ok", "throttled" or a client error code. */
export type Outcome = "ok" | "throttled" | ClientError["code"];

/** A response body and the outcome behind it. */
export interface Reply {
  readonly body: Uint8Array;
  readonly outcome: Outcome;
}

/** What an announce answered over UDP carries (see `Tracker.announceParsed`). */
export interface ParsedAnswer {
  readonly outcome: "ok" | "throttled";
  /** Seconds until the next regular announce. */
  readonly interval: number;
  readonly seeders: number;
  readonly leechers: number;
  /** Compact peers of the requester's family, a view of a reused buffer. */
  readonly peers: Uint8Array;
}

/** One torrent's counts as a scrape gives them. */
export interface ScrapeCounts {
  readonly complete: number;
  readonly incomplete: number;
  readonly downloaded: number;
}

/** What `decide` leaves for the reply: the torrent, the peer's slot (-1 once gone), whether it seeds. */
interface Decided {
  torrent: TorrentEntry | null;
  slot: number;
  seeder: boolean;
}

const EMPTY = new Uint8Array(0);
const MAX_COMPACT_PEERS = 1000;
/** Address given to kept counters of dropped peers: the grace store needs one, nobody reads it. */
const NO_ADDRESS = new Uint8Array(4);
/** Peer id of a suspicious record that no one announce made (an upload claim that expired). */
const NO_PEER_ID = new Uint8Array(20);

/**
 * The tracker's announce policy and state: who may announce and what an announce does (refusals,
 * throttles, peers, swarm membership), scrapes and counts; what a peer is credited is the rules of
 * accounting.ts, pending in the ledgers of ledger.ts. Pure apart from its own memory: time (`now`,
 * whole seconds) and randomness (`rand`) come from the caller, so tests can fix both. Never touches
 * the database.
 */
export class Tracker {
  readonly state = new TrackerState((index) => this.dirty.add(index));
  readonly swarms: SwarmStore;
  /**
   * Last counters of peers dropped by the reaper, kept for `graceSeconds` (at most
   * `graceMaxPeers`); null when the grace period is off.
   */
  readonly grace: SwarmStore | null;
  /** Peers changed since the last credit batch, saved with it (see journal.ts). */
  private readonly journal: SwarmJournal;
  private readonly peers4 = new Uint8Array(MAX_COMPACT_PEERS * 6);
  private readonly peers6 = new Uint8Array(MAX_COMPACT_PEERS * 18);
  private readonly allowed: Uint8Array[];
  /** Pending credit rows, one per (member, torrent) pair. */
  private readonly credit = new CreditLedger();
  /** Snatches counted in this run: pair keys (see pairKey). */
  private readonly snatched = new Set<number>();
  /** Swarm indexes whose counts changed since the last `takeCounts`. */
  private dirty = new Set<number>();
  /**
   * Per swarm index, the last time (seconds) the tracker saw at least one leecher in it, and at
   * least two: the swarm-balance rule asks whether a peer had anyone to upload to.
   */
  private leecherAt = new Uint32Array(1024);
  private leechersAt = new Uint32Array(1024);
  /** Pending suspicious transfers. */
  private readonly suspicious = new SuspiciousLedger();
  /** Dropped peers not kept for lack of room in the grace store: total. */
  graceRefused = 0;
  /** The last decision, read by the front end's reply: reused, so that an announce allocates nothing. */
  private readonly decided: Decided = { torrent: null, slot: -1, seeder: false };
  /** The intervals of the reply being written (see setIntervals). */
  private interval = 0;
  private minInterval = 0;
  /** The report being credited and what it earns: reused, so that an announce allocates neither. */
  private readonly report = newReport();
  private readonly assessment = newAssessment();
  /** The request being answered, for the User-Agent of a suspicious transfer. */
  private agentSource: AgentSource | null = null;
  private readonly onReaped: (t: number, slot: number) => void;
  /** What each swarm slot last reported as `left` (the peer list's progress, download implied by `left`). */
  private left = new Float64Array(1024);
  /**
   * Byte conservation: upload claims and other members' download, per swarm, waiting to be
   * matched; a download is shared `hold` seconds after it is reported, a claim unpaid for
   * `expiry` seconds expires (recorded), a download period lasts `expiry` seconds.
   */
  readonly conservation: Conservation;
  private readonly hold: number;
  private readonly expiry: number;
  /** The torrent being settled, and when, for the two callbacks below (made once, not per announce). */
  private settling: TorrentEntry | null = null;
  private settlingAt = 0;
  private readonly payClaim: (userId: number, bytes: number) => void;
  private readonly expireClaim: (userId: number, bytes: number) => void;
  private readonly expired = newAssessment();
  /** The earliest last announce of a swarm's peers, as `noteHeard` finds it. */
  private heardAll = 0;
  private readonly noteHeard = (slot: number): void => {
    const seen = this.swarms.lastSeen(slot);
    if (seen < this.heardAll) this.heardAll = seen;
  };
  /** Site-wide factor windows not yet over, and the factors in force between two boundaries. */
  private windows: readonly FactorWindow[] = [];
  private readonly site: SiteFactors = { down: 1, up: 1, until: Number.NEGATIVE_INFINITY };
  private siteFrom = Number.POSITIVE_INFINITY;

  constructor(
    private readonly policy: TrackerPolicy,
    private readonly rand: () => number = Math.random,
    /** Told when a memory limit refuses something (the caller logs it, rate-limited). */
    private readonly onLimit: (what: "peers" | "torrents", limit: number) => void = () => {},
  ) {
    this.allowed = policy.allowedClients.map((p) => new TextEncoder().encode(p));
    const familyStaleSeconds = peerTimeoutSeconds(policy);
    // A per-run seed keeps crafted peer ids from piling into one hash chain.
    this.swarms = new SwarmStore({ hashSeed: (Math.random() * 2 ** 31) | 0, familyStaleSeconds });
    this.grace =
      policy.graceSeconds > 0 && policy.graceMaxPeers > 0
        ? new SwarmStore({ hashSeed: (Math.random() * 2 ** 31) | 0, initialPeers: 64 })
        : null;
    // Room for a claim and a download per peer the swarms may hold, and at least MAX_ENTRIES.
    this.conservation = new Conservation(Math.max(MAX_ENTRIES, 2 * policy.maxPeers));
    this.hold = holdSeconds(policy);
    this.expiry = expirySeconds(familyStaleSeconds, this.hold);
    this.payClaim = (userId, bytes) => {
      const torrent = this.settling!;
      const site = this.refreshSite(this.settlingAt);
      const o = this.credit.rowOf(userId, torrent.id);
      addUpload(this.credit.rows, o, Math.round(bytes * Math.max(torrent.uploadFactor, site.up)));
    };
    this.expireClaim = (userId, bytes) => {
      const a = this.expired;
      a.claimedUp = bytes;
      a.reasons = REASON.unbacked;
      this.suspicious.record(userId, this.settling!.id, NO_PEER_ID, null, a, this.settlingAt);
    };
    this.journal = new SwarmJournal(
      this.swarms,
      this.grace,
      (t) => this.state.byIndex[t]?.id ?? -1,
      (slot) => (slot < this.left.length ? Math.round(this.left[slot]!) : 0),
    );
    this.onReaped = (t, slot) => {
      const s = this.swarms;
      this.journal.gone(t, slot, false);
      const torrent = this.state.byIndex[t];
      if (torrent) {
        const userId = s.userId(slot);
        // The count still includes this peer: it goes right after.
        if (s.peersOfUser(t, userId) <= 1) {
          const o = this.credit.rowOf(userId, torrent.id);
          setPairState(this.credit.rows, o, PAIR_STATE.gone);
        }
      }
      const grace = this.grace;
      if (!grace) return;
      if (grace.size >= this.policy.graceMaxPeers) {
        this.graceRefused++;
        return;
      }
      const kept = grace.put(
        t,
        s.peerIdOf(slot),
        s.userId(slot),
        NO_ADDRESS,
        1,
        s.isSeeder(slot),
        s.uploaded(slot),
        s.downloaded(slot),
        s.lastSeen(slot),
      );
      this.journal.keptPeer(t, kept);
    };
  }

  /** The announce and scrape limits of the policy (numwant, hashes per scrape), for front ends. */
  get policyLimits(): Pick<TrackerPolicy, "numwantDefault" | "numwantMax" | "scrapeMaxHashes"> {
    return this.policy;
  }

  /**
   * Answers an announce from the member with `passkey`, whose address is `ip` (4 or 16 bytes).
   * `agent` gives the User-Agent when the announce has to be recorded as suspicious.
   */
  announce(
    passkey: string,
    query: string,
    ip: Uint8Array,
    now: number,
    agent: AgentSource | null = null,
  ): Reply {
    const user = this.member(passkey);
    if (user instanceof ClientError) return fail(user);
    const request = parseAnnounce(query, this.policy);
    if ("error" in request) return fail(request.error);
    const outcome = this.decide(user, request, ip, now, agent);
    if (outcome instanceof ClientError) return fail(outcome);
    const d = this.decided;
    return { body: this.reply(d.torrent!, request, d.slot, d.seeder), outcome };
  }

  /**
   * Answers an announce that arrived over UDP (BEP 15), already parsed, under the same policy as
   * `announce`: the interval, the swarm's counts and up to `request.numwant` peers of the
   * requester's address family (6 bytes each for IPv4, 18 for IPv6), or the refusal.
   * The peers are a view of a buffer the next announce reuses: write them out before then.
   */
  announceParsed(
    passkey: string,
    request: AnnounceRequest,
    ip: Uint8Array,
    now: number,
    agent: AgentSource | null = null,
  ): ParsedAnswer | ClientError {
    const user = this.member(passkey);
    if (user instanceof ClientError) return user;
    const outcome = this.decide(user, request, ip, now, agent);
    if (outcome instanceof ClientError) return outcome;
    const { torrent, slot, seeder } = this.decided;
    const t = torrent!.index;
    this.setIntervals();
    const interval = this.interval;
    const want = request.event === EVENT_STOPPED ? 0 : Math.min(request.numwant, MAX_COMPACT_PEERS);
    let peers = EMPTY;
    if (want > 0) {
      this.swarms.selectCompact(t, slot, seeder, want, this.peers4, this.peers6, this.rand);
      peers =
        ip.length === 4
          ? this.peers4.subarray(0, this.swarms.selected4 * 6)
          : this.peers6.subarray(0, this.swarms.selected6 * 18);
    }
    return {
      outcome,
      interval,
      seeders: this.swarms.seeders(t),
      leechers: this.swarms.leechers(t),
      peers,
    };
  }

  /** The member with `passkey`, or why they may not announce or scrape. */
  private member(passkey: string): UserEntry | ClientError {
    const user = this.state.users.get(passkey);
    if (!user) return CLIENT_ERRORS.unknownPasskey;
    if (user.disabled) return CLIENT_ERRORS.disabledAccount;
    return user;
  }

  /**
   * The announce policy, whichever front end the request came through: refuses it, or changes the
   * swarm and the credit as the request says and leaves the torrent, the peer's slot (-1 once it
   * left) and whether it seeds in `decided` for the reply.
   */
  private decide(
    user: UserEntry,
    request: AnnounceRequest,
    ip: Uint8Array,
    now: number,
    agent: AgentSource | null,
  ): "ok" | "throttled" | ClientError {
    if (this.allowed.length > 0 && !this.clientAllowed(request.peerId)) return CLIENT_ERRORS.clientNotAllowed;
    const torrent = this.state.torrents.get(hashKey(request.infoHash));
    if (!torrent) return CLIENT_ERRORS.unregisteredTorrent;
    const d = this.decided;
    d.torrent = torrent;

    const t = torrent.index;
    const swarms = this.swarms;
    // A peer is (member, peer_id): another member announcing the same peer_id is another peer, and
    // touches neither this one nor its kept counters.
    let slot = swarms.find(t, request.peerId, user.id);
    const seeder = request.left === 0;
    this.agentSource = agent;
    this.noteLeechers(t, now);

    if (slot < 0) {
      // A peer dropped while still running comes back with its session's counters: its kept ones
      // are the baseline, so the upload it reports since then is credited.
      const grace = this.grace;
      const back = grace !== null && grace.size > 0 ? grace.find(t, request.peerId, user.id) : -1;
      if (request.event === EVENT_STOPPED) {
        if (back >= 0) {
          this.creditFrom(user.id, torrent, request, grace!, back, true, now);
          this.dropKept(t, back, request.peerId, user.id);
        }
        return this.answered(-1, true, "ok");
      }
      if (swarms.size >= this.policy.maxPeers) {
        this.onLimit("peers", this.policy.maxPeers);
        return CLIENT_ERRORS.trackerFull;
      }
      if (swarms.peersOfUser(t, user.id) >= this.policy.maxPeersPerUserPerTorrent)
        return CLIENT_ERRORS.tooManyPeers;
      // A paused member keeps seeding; every announce with left > 0 is turned away.
      if (user.downloadsPaused && !seeder) return CLIENT_ERRORS.downloadsPaused;
      let o: number;
      if (back >= 0) {
        o = this.creditFrom(user.id, torrent, request, grace!, back, true, now);
        this.dropKept(t, back, request.peerId, user.id);
      } else {
        // A first announce earns no credit (there is nothing to compare its counters with), but a
        // completion reported on it is one.
        if (request.event === EVENT_COMPLETED && seeder) this.snatch(user.id, torrent);
        o = this.credit.rowOf(user.id, torrent.id);
        touchCreditRow(this.credit.rows, o, now);
      }
      slot = this.place(t, request, user.id, ip, seeder, now, o);
      this.dirty.add(t);
      this.noteLeechers(t, now);
      return this.answered(slot, seeder, "ok");
    }

    const wasSeeder = swarms.isSeeder(slot);
    // A paused member's peer asking to download (a seeder turned leecher, or a download that was
    // running when the pause came) leaves the swarm as at `stopped`, credited, and is refused.
    const paused = user.downloadsPaused && !seeder;
    if (request.event === EVENT_STOPPED || paused) {
      const o = this.creditFrom(user.id, torrent, request, swarms, slot, false, now);
      this.journal.gone(t, slot, false);
      swarms.remove(t, request.peerId, user.id);
      if (swarms.peersOfUser(t, user.id) === 0) setPairState(this.credit.rows, o, PAIR_STATE.gone);
      this.dirty.add(t);
      if (paused) return CLIENT_ERRORS.downloadsPaused;
      return this.answered(-1, true, "ok");
    }

    // Re-announcing too soon gets a valid reply and changes nothing, whatever the event: the credit
    // waits, intact, for the next announce, whose counters it is computed from. Only a completion
    // (left going to 0, once a peer) is taken at once, as `stopped` is above.
    const completes = seeder && !wasSeeder;
    if (!completes && now - swarms.lastSeen(slot) < this.policy.minAnnounceIntervalSeconds) {
      // A dual-stack client announces over IPv4 and IPv6 moments apart: its second address is
      // still taken, without touching the accounting.
      if (!swarms.hasFamily(slot, ip)) {
        swarms.addAddress(t, slot, ip, request.port, now);
        this.journal.peer(t, slot);
      }
      return this.answered(slot, wasSeeder, "throttled");
    }

    const o = this.creditFrom(user.id, torrent, request, swarms, slot, false, now);
    // The same slot: the peer is in the swarm (the row's times were set when it was credited).
    this.place(t, request, user.id, ip, seeder, now, o);
    if (wasSeeder !== seeder) {
      this.dirty.add(t);
      this.noteLeechers(t, now);
    }
    return this.answered(slot, seeder, "ok");
  }

  /** Answers a scrape: counts for each registered torrent asked for; unknown hashes are left out. */
  scrape(passkey: string, query: string): Reply {
    const user = this.member(passkey);
    if (user instanceof ClientError) return fail(user);
    const request = parseScrape(query, this.policy.scrapeMaxHashes);
    if ("error" in request) return fail(request.error);
    const counts = this.scrapeParsed(passkey, request.infoHashes);
    if (counts instanceof ClientError) return fail(counts);
    const files = [];
    for (let i = 0; i < counts.length; i++) {
      const entry = counts[i];
      // The key is the hash the client asked with (v1, or truncated v2 of a hybrid).
      if (entry) files.push({ infoHash: request.infoHashes[i]!, ...entry });
    }
    return { body: scrapeResponse(files), outcome: "ok" };
  }

  /**
   * The scrape policy, whichever front end asked: the counts of each hash in order (null for a
   * torrent not registered), or the refusal.
   */
  scrapeParsed(passkey: string, infoHashes: readonly Uint8Array[]): (ScrapeCounts | null)[] | ClientError {
    const user = this.member(passkey);
    if (user instanceof ClientError) return user;
    if (infoHashes.length === 0) return CLIENT_ERRORS.scrapeNeedsHash;
    return infoHashes.map((hash) => {
      const torrent = this.state.torrents.get(hashKey(hash));
      if (!torrent) return null;
      return {
        complete: this.swarms.seeders(torrent.index),
        incomplete: this.swarms.leechers(torrent.index),
        downloaded: torrent.snatches,
      };
    });
  }

  /** Records the peer's slot and seeding for the reply, and returns the outcome. */
  private answered(slot: number, seeder: boolean, outcome: "ok" | "throttled"): "ok" | "throttled" {
    this.decided.slot = slot;
    this.decided.seeder = seeder;
    return outcome;
  }

  /**
   * Sets `interval` and `minInterval` for a reply: the interval up to 10% below the setting, to
   * spread re-announces; the min interval never below the setting. Fields, not a returned pair, so
   * that an announce allocates nothing.
   */
  private setIntervals(): void {
    const policy = this.policy;
    const jitter = this.rand() * 0.1;
    this.interval = Math.max(1, Math.round(policy.announceIntervalSeconds * (1 - jitter)));
    this.minInterval = Math.min(this.interval, Math.round(policy.minAnnounceIntervalSeconds * (1 + jitter)));
  }

  /**
   * Removes peers not seen since `cutoff`; returns how many. Their last counters go to the grace
   * store, whose entries older than `graceSeconds` before `cutoff` expire first.
   */
  reap(cutoff: number): number {
    const grace = this.grace;
    if (grace)
      grace.reap(cutoff - this.policy.graceSeconds, undefined, (t, slot) => this.journal.gone(t, slot, true));
    return this.swarms.reap(cutoff, (t) => this.dirty.add(t), this.onReaped);
  }

  /**
   * Byte conservation's clock, run every second or so: shares every download that has waited
   * its hold among the claims of other members, and expires claims and download periods.
   */
  settle(now: number): void {
    const c = this.conservation;
    const span = Math.min(c.span, this.state.byIndex.length);
    for (let t = 0; t < span; t++) {
      if (!c.holds(t)) continue;
      const torrent = this.state.byIndex[t];
      if (!torrent) {
        c.removeTorrent(t);
        continue;
      }
      // Every peer of the swarm announcing after a download ends its hold: no claim can be missing.
      this.heardAll = Number.POSITIVE_INFINITY;
      this.swarms.visitPeers(t, this.noteHeard);
      this.settleSwarm(torrent, now, this.heardAll);
      this.settling = torrent;
      this.settlingAt = now;
      c.expire(t, now, this.expiry, this.expireClaim);
    }
    this.settling = null;
  }

  /** Shares the swarm's downloads that waited their hold among other members' claims. */
  private settleSwarm(torrent: TorrentEntry, now: number, heardAllSince = 0): void {
    this.settling = torrent;
    this.settlingAt = now;
    this.conservation.settle(torrent.index, now, this.hold, this.payClaim, heardAllSince);
    this.settling = null;
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
    const torrent = this.state.torrentById(id);
    if (torrent) {
      const t = torrent.index;
      this.swarms.visitPeers(t, (slot) =>
        this.journal.goneId(id, this.swarms.userId(slot), this.swarms.peerIdOf(slot)),
      );
      this.grace?.visitPeers(t, (slot) =>
        this.journal.goneId(id, this.grace!.userId(slot), this.grace!.peerIdOf(slot)),
      );
    }
    this.freeIndex(this.state.removeTorrent(id));
  }

  /** Drops what is kept for a swarm index that a removed torrent gave up (it will be reused). */
  private freeIndex(index: number): void {
    if (index < 0) return;
    this.swarms.visitPeers(index, (slot) => this.journal.forget(slot, false));
    this.grace?.visitPeers(index, (slot) => this.journal.forget(slot, true));
    this.swarms.removeTorrent(index);
    this.grace?.removeTorrent(index);
    this.conservation.removeTorrent(index);
    this.dirty.delete(index);
    if (index < this.leecherAt.length) {
      this.leecherAt[index] = 0;
      this.leechersAt[index] = 0;
    }
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

  /**
   * Takes the completions recorded in the database (pairs of member id and torrent id), so that a
   * member who completed a torrent before this run never counts as a new snatch of it. Replaces
   * what an earlier call gave; pairs of unregistered torrents are ignored.
   */
  loadCompletions(pairs: Completions): void {
    const counts = new Map<TorrentEntry, number>();
    for (let o = 1; o < pairs.length; o += 2) {
      const torrent = this.state.torrentById(pairs[o]!);
      if (torrent) counts.set(torrent, (counts.get(torrent) ?? 0) + 1);
    }
    for (const torrent of this.state.byIndex) if (torrent) torrent.completedBy = null;
    const filled = new Map<TorrentEntry, number>();
    for (const [torrent, n] of counts) {
      torrent.completedBy = new Int32Array(n);
      filled.set(torrent, 0);
    }
    for (let o = 0; o + 1 < pairs.length; o += 2) {
      const torrent = this.state.torrentById(pairs[o + 1]!);
      if (!torrent) continue;
      const at = filled.get(torrent)!;
      torrent.completedBy![at] = pairs[o]!;
      filled.set(torrent, at + 1);
    }
    for (const torrent of counts.keys()) torrent.completedBy!.sort();
  }

  /**
   * Replaces the site-wide factor windows; they take effect by this tracker's clock, at their
   * start, and end at their end, with no further message.
   */
  setWindows(windows: readonly FactorWindow[]): void {
    this.windows = windows.filter(usableWindow);
    this.siteFrom = Number.POSITIVE_INFINITY;
    this.site.until = Number.NEGATIVE_INFINITY;
  }

  /** The site-wide factors at `now`: [download, upload] (1 and 1 outside every window). */
  siteFactors(now: number): [number, number] {
    const site = this.refreshSite(now);
    return [site.down, site.up];
  }

  /** The site-wide factors at `now`, recomputed when `now` left the span they were computed for. */
  private refreshSite(now: number): SiteFactors {
    if (now >= this.siteFrom && now < this.site.until) return this.site;
    this.siteFrom = now;
    return siteFactorsAt(this.windows, now, this.site);
  }

  /**
   * The peers of one torrent as its peer list shows them, asked for when someone looks: seeders
   * first, then the most recent announce first; at most `limit` seeders and `limit` leechers. Null for a torrent the tracker
   * does not know. No address is included.
   */
  peersOf(torrentId: number, limit: number): PeerList | null {
    const torrent = this.state.torrentById(torrentId);
    if (!torrent) return null;
    const s = this.swarms;
    const slots: number[] = [];
    s.visitPeers(torrent.index, (slot) => slots.push(slot));
    slots.sort(
      (a, b) => Number(s.isSeeder(b)) - Number(s.isSeeder(a)) || s.lastSeen(b) - s.lastSeen(a) || a - b,
    );
    // Up to `limit` of each kind: a busy swarm's seeders do not crowd out its leechers.
    const kept: number[] = [];
    let seeders = 0;
    let leechers = 0;
    for (const slot of slots) {
      if (s.isSeeder(slot) ? seeders++ < limit : leechers++ < limit) kept.push(slot);
    }
    const rows = new Float64Array(kept.length * PEER_FIELDS);
    const peerIds = new Uint8Array(kept.length * 20);
    for (let i = 0; i < kept.length; i++) {
      const slot = kept[i]!;
      const o = i * PEER_FIELDS;
      rows[o + PEER_ROW.userId] = s.userId(slot);
      rows[o + PEER_ROW.uploaded] = s.uploaded(slot);
      rows[o + PEER_ROW.downloaded] = s.downloaded(slot);
      rows[o + PEER_ROW.left] = slot < this.left.length ? Math.round(this.left[slot]!) : 0;
      rows[o + PEER_ROW.seeder] = s.isSeeder(slot) ? 1 : 0;
      rows[o + PEER_ROW.lastSeen] = s.lastSeen(slot);
      peerIds.set(s.peerIdOf(slot), i * 20);
    }
    return { rows, peerIds };
  }

  /**
   * Puts the peer in its swarm as this announce reports it, keeps its `left`, and sets its pair's
   * state in the credit row at `o`; returns its slot.
   */
  private place(
    t: number,
    request: AnnounceRequest,
    userId: number,
    ip: Uint8Array,
    seeder: boolean,
    now: number,
    o: number,
  ): number {
    const slot = this.swarms.put(
      t,
      request.peerId,
      userId,
      ip,
      request.port,
      seeder,
      request.uploaded,
      request.downloaded,
      now,
    );
    this.noteLeft(slot, request.left);
    this.journal.peer(t, slot);
    setPairState(this.credit.rows, o, seeder ? PAIR_STATE.seeding : PAIR_STATE.leeching);
    return slot;
  }

  /** Drops the kept counters in `slot` of the grace store (swarm t). */
  private dropKept(t: number, slot: number, peerId: Uint8Array, userId: number): void {
    this.journal.gone(t, slot, true);
    this.grace!.remove(t, peerId, userId);
  }

  /** Keeps what a peer reported as left, by slot. */
  private noteLeft(slot: number, left: number): void {
    if (slot >= this.left.length) {
      const grown = new Float64Array(Math.max(this.left.length * 2, slot + 1));
      grown.set(this.left);
      this.left = grown;
    }
    this.left[slot] = left;
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

  /**
   * Credit accumulated since the last call, with the next sequence number, and how the peers
   * changed up to this cut (to be saved with it, in its transaction); null when nothing changed.
   */
  takeDeltas(): { seq: number; deltas: StatDeltas; swarm: SwarmChanges | null } | null {
    const waitingChanged = this.conservation.hasChanges;
    const changed = this.journal.changed || waitingChanged;
    const batch = this.credit.take(changed);
    if (!batch) return null;
    if (!changed) return { ...batch, swarm: null };
    const swarm = this.journal.take() ?? {
      peers: { rows: new Float64Array(0), peerIds: new Uint8Array(0), addresses: new Uint8Array(0) },
      removed: new Float64Array(0),
      removedIds: new Uint8Array(0),
    };
    return { ...batch, swarm: waitingChanged ? { ...swarm, waiting: this.takeWaiting() } : swarm };
  }

  /**
   * Byte conservation's claims and downloads of every swarm whose ones changed since the last
   * batch, as they stand now (saved with the batch in place of what was saved for those torrents).
   */
  private takeWaiting(): WaitingChanges {
    const swarms = this.conservation.takeChanged();
    const torrents: number[] = [];
    const rows: number[] = [];
    for (const t of swarms) {
      const torrent = this.state.byIndex[t];
      if (!torrent) continue;
      torrents.push(torrent.id);
      this.conservation.visit(t, (kind, userId, bytes, fed, at, start) => {
        rows.push(torrent.id, userId, kind, bytes, fed, at, start);
      });
    }
    return { torrents: Float64Array.from(torrents), rows: Float64Array.from(rows) };
  }

  /**
   * Puts back byte conservation's claims and downloads saved with the last credit written
   * (WAITING_FIELDS numbers a row), before the first announce; rows of torrents not registered are
   * left out (they expire as usual otherwise). Returns how many were restored.
   */
  restoreWaiting(rows: Float64Array): number {
    let restored = 0;
    for (let o = 0; o + WAITING_FIELDS <= rows.length; o += WAITING_FIELDS) {
      const torrent = this.state.torrentById(rows[o + WAITING_ROW.torrentId]!);
      if (!torrent) continue;
      const ok = this.conservation.restore(
        torrent.index,
        rows[o + WAITING_ROW.kind]!,
        rows[o + WAITING_ROW.userId]!,
        rows[o + WAITING_ROW.bytes]!,
        rows[o + WAITING_ROW.fed]!,
        rows[o + WAITING_ROW.at]!,
        rows[o + WAITING_ROW.start]!,
      );
      if (ok) restored++;
    }
    return restored;
  }

  /**
   * Puts back the peers saved with the last credit written (and the grace store's kept counters),
   * before the first announce: each peer's next announce is then credited from its saved
   * baseline, and peers that do not come back expire as usual. Peers of torrents not registered
   * are left out; so are those of members unknown or disabled (whose announces are refused): they
   * go from the saved peers with the next batch, and their pair stops seeding or leeching. Returns
   * how many were restored.
   */
  restore(saved: SwarmPeers): number {
    const { rows, peerIds, addresses } = saved;
    let restored = 0;
    const refused: [TorrentEntry, number][] = [];
    for (let i = 0, o = 0; o + SWARM_FIELDS <= rows.length; i++, o += SWARM_FIELDS) {
      const torrent = this.state.torrentById(rows[o + SWARM_ROW.torrentId]!);
      if (!torrent) continue;
      const t = torrent.index;
      const flags = rows[o + SWARM_ROW.flags]!;
      const seeder = (flags & SWARM_FLAG.seeder) !== 0;
      const peerId = peerIds.subarray(i * 20, i * 20 + 20);
      const userId = rows[o + SWARM_ROW.userId]!;
      const uploaded = rows[o + SWARM_ROW.uploaded]!;
      const downloaded = rows[o + SWARM_ROW.downloaded]!;
      const lastSeen = rows[o + SWARM_ROW.lastSeen]!;
      const user = this.state.userById(userId);
      if (!user || user.disabled) {
        this.journal.goneId(torrent.id, userId, peerId);
        if ((flags & SWARM_FLAG.kept) === 0) refused.push([torrent, userId]);
        continue;
      }
      if ((flags & SWARM_FLAG.kept) !== 0) {
        const grace = this.grace;
        if (!grace || grace.size >= this.policy.graceMaxPeers || grace.find(t, peerId, userId) >= 0) continue;
        grace.put(t, peerId, userId, NO_ADDRESS, 1, seeder, uploaded, downloaded, lastSeen);
        restored++;
        continue;
      }
      if (this.swarms.size >= this.policy.maxPeers || this.swarms.find(t, peerId, userId) >= 0) continue;
      const ip = addresses.subarray(i * 16, i * 16 + ((flags & SWARM_FLAG.ipv6) !== 0 ? 16 : 4));
      const port = rows[o + SWARM_ROW.port]!;
      const slot = this.swarms.put(t, peerId, userId, ip, port, seeder, uploaded, downloaded, lastSeen);
      this.noteLeft(slot, rows[o + SWARM_ROW.left]!);
      this.dirty.add(t);
      // The swarm had its leechers when they last announced (for the swarm-balance rule).
      if (!seeder) {
        const one = t < this.leecherAt.length ? this.leecherAt[t]! : 0;
        const two = t < this.leechersAt.length ? this.leechersAt[t]! : 0;
        this.noteLeechers(t, lastSeen);
        this.leecherAt[t] = Math.max(one, this.leecherAt[t]!);
        this.leechersAt[t] = Math.max(two, this.leechersAt[t]!);
      }
      restored++;
    }
    for (const [torrent, userId] of refused) {
      if (this.swarms.peersOfUser(torrent.index, userId) > 0) continue;
      const o = this.credit.rowOf(userId, torrent.id);
      setPairState(this.credit.rows, o, PAIR_STATE.gone);
    }
    return restored;
  }

  /** Suspicious transfers recorded since the last call, with their own sequence number; or null. */
  takeSuspicious(): { seq: number; batch: SuspiciousBatch } | null {
    return this.suspicious.take();
  }

  /** Suspicious transfers dropped because a batch was full: total. */
  get suspiciousDropped(): number {
    return this.suspicious.dropped;
  }

  private clientAllowed(peerId: Uint8Array): boolean {
    outer: for (const prefix of this.allowed) {
      for (let i = 0; i < prefix.length; i++) if (peerId[i] !== prefix[i]) continue outer;
      return true;
    }
    return false;
  }

  /** Remembers that swarm t has leechers at `now` (one, or two and more) for the swarm-balance rule. */
  private noteLeechers(t: number, now: number): void {
    const leechers = this.swarms.leechers(t);
    if (leechers === 0) return;
    if (t >= this.leecherAt.length) {
      let length = this.leecherAt.length * 2;
      while (length <= t) length *= 2;
      const one = new Uint32Array(length);
      one.set(this.leecherAt);
      this.leecherAt = one;
      const two = new Uint32Array(length);
      two.set(this.leechersAt);
      this.leechersAt = two;
    }
    this.leecherAt[t] = now;
    if (leechers > 1) this.leechersAt[t] = now;
  }

  /**
   * Credits the difference between this report and the previous one of the same peer (the peer in
   * `slot` of `store`: the swarm, or the grace store for a peer coming back) under the accounting
   * rules, and counts a completion (left going from above 0 to 0) as a snatch. An announce that was
   * not credited in full is recorded as a suspicious transfer. Returns the pair's credit row.
   */
  private creditFrom(
    userId: number,
    torrent: TorrentEntry,
    request: AnnounceRequest,
    store: SwarmStore,
    slot: number,
    returning: boolean,
    now: number,
  ): number {
    const t = torrent.index;
    const report = this.report;
    report.previousUploaded = store.uploaded(slot);
    report.previousDownloaded = store.downloaded(slot);
    report.previousAt = store.lastSeen(slot);
    report.wasSeeder = store.isSeeder(slot);
    report.uploaded = request.uploaded;
    report.downloaded = request.downloaded;
    report.started = request.event === EVENT_STARTED;
    report.returning = returning;
    report.leecherAt = t < this.leecherAt.length ? this.leecherAt[t]! : 0;
    report.leechersAt = t < this.leechersAt.length ? this.leechersAt[t]! : 0;
    const a = assess(this.assessment, this.policy, report, now);
    // `left` falling by more than the download reported is charged (a peer back from the grace
    // store has no `left` kept).
    if (!returning && slot < this.left.length) chargeLeft(a, this.left[slot]!, request.left, torrent.size);
    // Byte conservation: the download (before factors) backs other members' upload claims, up
    // to the size multiple; the upload is a claim, credited when other members' download backs it.
    const c = this.conservation;
    const conserve = this.policy.byteConservation;
    if (conserve) {
      if (a.down > 0 && c.download(t, userId, a.down, torrent.size, now, this.expiry) > 0)
        a.reasons |= REASON.overSize;
      if (a.up > 0 && !c.claim(t, userId, a.up, now)) a.reasons |= REASON.unbacked;
    }
    if (a.reasons !== 0) this.suspicious.record(userId, torrent.id, request.peerId, this.agentSource, a, now);
    if (conserve) a.up = 0;
    const site = this.refreshSite(now);
    applyFactors(a, torrent.downloadFactor, torrent.uploadFactor, site.down, site.up);
    if (request.left === 0 && !report.wasSeeder) this.snatch(userId, torrent);
    const o = this.credit.rowOf(userId, torrent.id);
    addCredit(this.credit.rows, o, a, now);
    // Claims are paid by settle(), which the Worker runs before each credit batch: walking a
    // swarm's downloads on every announce would cost as much as the swarm is large.
    return o;
  }

  /**
   * Counts a member's first completion of a torrent; false if already counted, in this run or (as
   * the database said at start) before it.
   */
  private snatch(userId: number, torrent: TorrentEntry): boolean {
    if (torrent.completedBy && includes(torrent.completedBy, userId)) return false;
    const key = pairKey(userId, torrent);
    if (this.snatched.has(key)) return false;
    this.snatched.add(key);
    torrent.snatches++;
    this.dirty.add(torrent.index);
    // A completion on a first announce has no previous report to credit; record the snatch alone.
    const o = this.credit.rowOf(userId, torrent.id);
    markCompleted(this.credit.rows, o);
    return true;
  }

  private reply(torrent: TorrentEntry, request: AnnounceRequest, slot: number, seeder: boolean): Uint8Array {
    const t = torrent.index;
    this.setIntervals();
    const { interval, minInterval } = this;
    const complete = this.swarms.seeders(t);
    const incomplete = this.swarms.leechers(t);
    const want = request.event === EVENT_STOPPED ? 0 : Math.min(request.numwant, MAX_COMPACT_PEERS);
    if (!request.compact) {
      const peers: DictPeer[] = [];
      if (want > 0) {
        this.swarms.selectSlots(t, slot, seeder, want, this.rand, (s) => {
          // No peer ids: another member's peer_id is of no use to anyone but a squatter (BEP 3
          // clients connect by address and port and read the peer id from the handshake).
          const peerId = null;
          peers.push({ ip: this.swarms.ipString(s), port: this.swarms.port(s), peerId });
          // A dual-stack peer is listed at both of its addresses.
          if (this.swarms.isDualStack(s))
            peers.push({ ip: this.swarms.dualIPv4String(s), port: this.swarms.dualIPv4Port(s), peerId });
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

/** Whether the ascending `sorted` holds `value` (binary search). */
function includes(sorted: Int32Array, value: number): boolean {
  let lo = 0;
  let hi = sorted.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const v = sorted[mid]!;
    if (v === value) return true;
    if (v < value) lo = mid + 1;
    else hi = mid - 1;
  }
  return false;
}

/**
 * One number for a (member, torrent) pair: cheaper on every announce than a string key. Exact while
 * torrent indexes stay below INDEX_SPAN (2^26, far above `tracker.maxTorrents`) and member ids below
 * 2^27 (134 million), so the product stays under 2^53.
 */
function pairKey(userId: number, torrent: TorrentEntry): number {
  return userId * INDEX_SPAN + torrent.index;
}

function fail(error: ClientError): Reply {
  return { body: error.body, outcome: error.code };
}
