import type { TrackerTorrent, TrackerUser } from "../shared/channel.ts";
import { CLIENT_ERRORS, type ClientError } from "./protocol/errors.ts";

/** A member as the announce path sees them. */
export interface UserEntry {
  readonly id: number;
  disabled: boolean;
  /** New downloads refused: too many hit-and-runs or active warnings (see the README). */
  downloadsPaused: boolean;
  /** Why new downloads are refused, when they are. */
  pausedBy: ClientError;
}

/** A registered torrent; `index` is its dense number in the swarm store. */
export interface TorrentEntry {
  readonly id: number;
  readonly index: number;
  /** The v1 info hash (20 bytes), used as its key in scrape replies. */
  readonly infoHash: Uint8Array;
  /** Key of the truncated v2 hash, when the torrent is hybrid or v2. */
  readonly v2Key: string | null;
  /** Completions recorded in the database (the site's figure, refreshed at every reload). */
  snatches: number;
  /**
   * Members who had completed the torrent when the tracker started, ascending: their `completed`
   * is never another snatch. Null when none did (or the torrent came later).
   */
  completedBy: Int32Array | null;
  /** The torrent's own credit factors (see TrackerTorrent). */
  downloadFactor: number;
  uploadFactor: number;
  /** The torrent's size in bytes; 0 when unknown. */
  size: number;
  /** The refusal of a torrent held for moderation (pending or rejected), or null when approved. */
  held: ClientError | null;
}

/** The refusal of a torrent in this moderation state, or null when clients may use it. */
function heldBy(torrent: TrackerTorrent): ClientError | null {
  if (torrent.moderation === "pending") return CLIENT_ERRORS.awaitingModeration;
  if (torrent.moderation === "rejected") return CLIENT_ERRORS.rejected(torrent.moderationNote ?? "");
  return null;
}

/** The 20 bytes of an info hash as a Map key (one char per byte). */
export function hashKey(b: Uint8Array): string {
  // One call with twenty arguments: far cheaper on the announce path than twenty concatenations.
  return String.fromCharCode(
    b[0]!,
    b[1]!,
    b[2]!,
    b[3]!,
    b[4]!,
    b[5]!,
    b[6]!,
    b[7]!,
    b[8]!,
    b[9]!,
    b[10]!,
    b[11]!,
    b[12]!,
    b[13]!,
    b[14]!,
    b[15]!,
    b[16]!,
    b[17]!,
    b[18]!,
    b[19]!,
  );
}

/** A credit factor as given, or 1 when it is missing or not a finite, non-negative number. */
function factor(n: number | undefined): number {
  return typeof n === "number" && Number.isFinite(n) && n >= 0 ? n : 1;
}

/** A torrent size as given, or 0 (unknown) when it is missing or not a finite, positive number. */
function sizeOf(n: number | undefined): number {
  return typeof n === "number" && Number.isFinite(n) && n > 0 ? n : 0;
}

function hexBytes(hex: string): Uint8Array {
  return Uint8Array.from(Buffer.from(hex, "hex"));
}

/**
 * Passkeys and torrents in memory, kept current by channel messages and full reloads. A hybrid
 * torrent is reachable by its v1 hash and by its v2 hash truncated to 20 bytes (BEP 52), so both
 * reach the same swarm.
 */
export class TrackerState {
  /** Called with a torrent's swarm index when a reload changes its snatch count. */
  constructor(private readonly onSnatchesChanged: (index: number) => void = () => {}) {}

  /** passkey → member */
  readonly users = new Map<string, UserEntry>();
  private readonly passkeyOf = new Map<number, string>();
  /** hash key (v1, or truncated v2) → torrent */
  readonly torrents = new Map<string, TorrentEntry>();
  private readonly byId = new Map<number, TorrentEntry>();
  /** swarm index → torrent */
  readonly byIndex: (TorrentEntry | undefined)[] = [];
  private readonly freeIndexes: number[] = [];

  /** Adds a member or applies a change (disabled, passkey rotated: the old passkey stops working). */
  upsertUser(user: TrackerUser): void {
    const old = this.passkeyOf.get(user.id);
    if (old !== undefined && old !== user.passkey) this.users.delete(old);
    this.passkeyOf.set(user.id, user.passkey);
    this.users.set(user.passkey, {
      id: user.id,
      disabled: user.disabled,
      downloadsPaused: user.downloadsPaused === true || user.warningsPaused === true,
      pausedBy: user.downloadsPaused === true ? CLIENT_ERRORS.downloadsPaused : CLIENT_ERRORS.warningsPaused,
    });
  }

  /** Forgets a member. */
  removeUser(id: number): void {
    const passkey = this.passkeyOf.get(id);
    if (passkey !== undefined) this.users.delete(passkey);
    this.passkeyOf.delete(id);
  }

  /**
   * Registers a torrent (or updates its snatch count); returns its entry. The database's count
   * wins: snatches are counted once there, and a higher figure in memory would be a wrong one.
   */
  upsertTorrent(torrent: TrackerTorrent): TorrentEntry {
    const existing = this.byId.get(torrent.id);
    if (existing) {
      existing.downloadFactor = factor(torrent.downloadFactor);
      existing.uploadFactor = factor(torrent.uploadFactor);
      existing.size = sizeOf(torrent.size);
      existing.held = heldBy(torrent);
      if (existing.snatches !== torrent.snatches) {
        existing.snatches = torrent.snatches;
        this.onSnatchesChanged(existing.index);
      }
      return existing;
    }
    const infoHash = hexBytes(torrent.infoHash);
    const v2Key = torrent.infoHashV2 ? hashKey(hexBytes(torrent.infoHashV2)) : null;
    const index = this.freeIndexes.pop() ?? this.byIndex.length;
    const entry: TorrentEntry = {
      id: torrent.id,
      index,
      infoHash,
      v2Key,
      snatches: torrent.snatches,
      completedBy: null,
      downloadFactor: factor(torrent.downloadFactor),
      uploadFactor: factor(torrent.uploadFactor),
      size: sizeOf(torrent.size),
      held: heldBy(torrent),
    };
    this.byIndex[index] = entry;
    this.byId.set(torrent.id, entry);
    this.torrents.set(hashKey(infoHash), entry);
    if (v2Key) this.torrents.set(v2Key, entry);
    return entry;
  }

  /** Unregisters a torrent; returns its swarm index so the caller can drop the swarm, or -1. */
  removeTorrent(id: number): number {
    const entry = this.byId.get(id);
    if (!entry) return -1;
    this.byId.delete(id);
    this.torrents.delete(hashKey(entry.infoHash));
    if (entry.v2Key) this.torrents.delete(entry.v2Key);
    this.byIndex[entry.index] = undefined;
    this.freeIndexes.push(entry.index);
    return entry.index;
  }

  /** A member by id, or undefined when the tracker does not know them. */
  userById(id: number): UserEntry | undefined {
    const passkey = this.passkeyOf.get(id);
    return passkey === undefined ? undefined : this.users.get(passkey);
  }

  /**
   * Replaces everything with a full snapshot; returns the swarm indexes of torrents that are gone.
   * Swarms of torrents still registered are kept.
   */
  replaceAll(users: readonly TrackerUser[], torrents: readonly TrackerTorrent[]): number[] {
    this.users.clear();
    this.passkeyOf.clear();
    for (const user of users) this.upsertUser(user);
    const keep = new Set(torrents.map((t) => t.id));
    const dropped: number[] = [];
    for (const id of [...this.byId.keys()]) {
      if (!keep.has(id)) dropped.push(this.removeTorrent(id));
    }
    for (const torrent of torrents) this.upsertTorrent(torrent);
    return dropped;
  }

  /** Whether a torrent is registered. */
  hasTorrent(id: number): boolean {
    return this.byId.has(id);
  }

  /** A registered torrent by its database id, or undefined. */
  torrentById(id: number): TorrentEntry | undefined {
    return this.byId.get(id);
  }

  /** Number of registered torrents. */
  get torrentCount(): number {
    return this.byId.size;
  }
}
