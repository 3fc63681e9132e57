// Credit the database could not take at shutdown, saved in the data folder and replayed at the
// next start. Each batch keeps its source and sequence number, so a batch that did reach the
// database after all is skipped on replay: nothing counts twice.
import {
  closeSync,
  existsSync,
  fsyncSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from "node:fs";
import { dirname, join } from "node:path";
import { checkDeltas, type DeadLetter, type StatBatch } from "../db/queries/stats.ts";
import { log } from "../log.ts";
import { DELTA_FIELDS, SWARM_FIELDS, type SwarmChanges, WAITING_FIELDS } from "../shared/channel.ts";

const FORMAT = "fairywren-pending-credit";
const VERSION = 2;
/** Version 1 files hold credit rows of the first five fields only (no history). */
const V1_FIELDS = 5;

/** The spill file in a data folder. */
export function spillPath(dataDir: string): string {
  return join(dataDir, "pending-credit.json");
}

/** The spill file exists but does not hold batches this version can read. */
export class SpillUnreadableError extends Error {}

interface SavedBatch {
  source: string;
  seq: number;
  deltas: number[];
  refused: DeadLetter[];
  /** The peers' changes that go with the batch (absent in files of earlier versions). */
  swarm?: SavedSwarm;
}

/** Swarm changes as saved: numbers as arrays, bytes as base64. */
interface SavedSwarm {
  rows: number[];
  peerIds: string;
  addresses: string;
  removed: number[];
  removedIds: string;
  /** Byte conservation's waiting rows (absent in files of earlier versions). */
  waitingTorrents?: number[];
  waitingRows?: number[];
}

const base64 = (bytes: Uint8Array) =>
  Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");

function savedSwarm(changes: SwarmChanges): SavedSwarm {
  return {
    rows: Array.from(changes.peers.rows),
    peerIds: base64(changes.peers.peerIds),
    addresses: base64(changes.peers.addresses),
    removed: Array.from(changes.removed),
    removedIds: base64(changes.removedIds),
    ...(changes.waiting
      ? {
          waitingTorrents: Array.from(changes.waiting.torrents),
          waitingRows: Array.from(changes.waiting.rows),
        }
      : {}),
  };
}

/** Saved swarm changes back, or null when absent; throws when they are malformed. */
function swarmOf(value: unknown, bad: (what: string) => Error): SwarmChanges | null {
  if (value === undefined || value === null) return null;
  const v = value as Partial<Record<keyof SavedSwarm, unknown>>;
  const numbers = (x: unknown): x is number[] =>
    Array.isArray(x) && x.every((n) => typeof n === "number" && Number.isFinite(n));
  if (typeof v !== "object" || !numbers(v.rows) || !numbers(v.removed)) throw bad("peers are malformed");
  if (typeof v.peerIds !== "string" || typeof v.addresses !== "string" || typeof v.removedIds !== "string")
    throw bad("peers are malformed");
  const bytes = (text: string) => new Uint8Array(Buffer.from(text, "base64"));
  if (v.waitingTorrents !== undefined || v.waitingRows !== undefined) {
    if (!numbers(v.waitingTorrents) || !numbers(v.waitingRows) || v.waitingRows.length % WAITING_FIELDS !== 0)
      throw bad("waiting claims are malformed");
  }
  const changes: SwarmChanges = {
    peers: { rows: Float64Array.from(v.rows), peerIds: bytes(v.peerIds), addresses: bytes(v.addresses) },
    removed: Float64Array.from(v.removed),
    removedIds: bytes(v.removedIds),
    ...(numbers(v.waitingTorrents) && numbers(v.waitingRows)
      ? {
          waiting: { torrents: Float64Array.from(v.waitingTorrents), rows: Float64Array.from(v.waitingRows) },
        }
      : {}),
  };
  const n = changes.peers.rows.length / SWARM_FIELDS;
  if (
    !Number.isInteger(n) ||
    changes.peers.peerIds.length !== n * 20 ||
    changes.peers.addresses.length !== n * 16 ||
    changes.removed.length % 2 !== 0 ||
    changes.removedIds.length !== changes.removed.length * 10
  )
    throw bad("peers do not add up");
  return changes;
}

/**
 * Writes `batches` to `file` atomically: a temporary file beside it, flushed to disk, renamed over
 * it, and the folder flushed, so a crash leaves either the old file or the new one whole.
 */
export function writeSpill(file: string, batches: readonly StatBatch[]): void {
  const saved: SavedBatch[] = batches.map((b) => ({
    source: b.source,
    seq: b.seq,
    deltas: Array.from(b.deltas),
    refused: [...b.refused],
    ...(b.swarm ? { swarm: savedSwarm(b.swarm) } : {}),
  }));
  const text = JSON.stringify({
    format: FORMAT,
    version: VERSION,
    savedAt: new Date().toISOString(),
    batches: saved,
  });
  const tmp = `${file}.${process.pid}.tmp`;
  const fd = openSync(tmp, "w", 0o600);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
  const dir = openSync(dirname(file), "r");
  try {
    fsyncSync(dir);
  } finally {
    closeSync(dir);
  }
}

function isDeadLetter(value: unknown): value is DeadLetter {
  const v = value as Record<string, unknown> | null;
  const id = (x: unknown) => x === null || Number.isSafeInteger(x);
  return (
    typeof v === "object" &&
    v !== null &&
    id(v.userId) &&
    id(v.torrentId) &&
    typeof v.uploaded === "string" &&
    typeof v.downloaded === "string" &&
    typeof v.completed === "boolean" &&
    typeof v.error === "string"
  );
}

function batchOf(value: unknown, index: number, fields: number): StatBatch {
  const v = value as Partial<Record<keyof SavedBatch, unknown>> | null;
  const bad = (what: string) => new SpillUnreadableError(`batch ${index}: ${what}`);
  if (typeof v !== "object" || v === null) throw bad("not an object");
  if (typeof v.source !== "string" || v.source === "") throw bad("no source");
  if (!Number.isSafeInteger(v.seq) || (v.seq as number) < 1) throw bad("no sequence number");
  const deltas = v.deltas;
  if (!Array.isArray(deltas) || deltas.length % fields !== 0 || !deltas.every((n) => typeof n === "number"))
    throw bad("credit rows are not rows of numbers");
  const refused = v.refused;
  if (!Array.isArray(refused) || !refused.every(isDeadLetter)) throw bad("refused rows are malformed");
  // Rows are checked again, as when they were first queued: a file edited by hand gets no further.
  const rows = Float64Array.from(deltas as number[]);
  const checked = checkDeltas(fields === DELTA_FIELDS ? rows : widen(rows, fields));
  return {
    source: v.source,
    seq: v.seq as number,
    deltas: checked.deltas,
    refused: [...refused, ...checked.refused],
    swarm: swarmOf(v.swarm, bad),
  };
}

/** Rows of `fields` numbers as full credit rows, the fields they lack zero. */
function widen(rows: Float64Array, fields: number): Float64Array {
  const out = new Float64Array((rows.length / fields) * DELTA_FIELDS);
  for (let i = 0; i * fields < rows.length; i++)
    out.set(rows.subarray(i * fields, (i + 1) * fields), i * DELTA_FIELDS);
  return out;
}

/** The batches saved in `file`, or null when there is none; throws SpillUnreadableError. */
export function readSpill(file: string): StatBatch[] | null {
  if (!existsSync(file)) return null;
  let parsed: { format?: unknown; version?: unknown; batches?: unknown };
  try {
    parsed = JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    throw new SpillUnreadableError(`not JSON: ${(error as Error).message}`);
  }
  if (
    parsed?.format !== FORMAT ||
    (parsed.version !== VERSION && parsed.version !== 1) ||
    !Array.isArray(parsed.batches)
  )
    throw new SpillUnreadableError(`not a version ${VERSION} ${FORMAT} file`);
  const fields = parsed.version === 1 ? V1_FIELDS : DELTA_FIELDS;
  return parsed.batches.map((b, i) => batchOf(b, i, fields));
}

/**
 * Removes the spill file once its credit is in the database. A file that cannot be removed is
 * only replayed again at the next start, which changes nothing: a warning is enough.
 */
export function removeSpill(file: string): void {
  try {
    rmSync(file, { force: true });
  } catch (error) {
    log.warn("cannot remove the spill file; its credit is written and a replay changes nothing", {
      file,
      error: error as Error,
    });
  }
}

/** Moves an unreadable spill file aside, for the operator to look at; returns its new name. */
export function setAsideSpill(file: string): string {
  const aside = `${file}.unreadable-${new Date().toISOString().replace(/[:.]/g, "-")}`;
  renameSync(file, aside);
  return aside;
}
