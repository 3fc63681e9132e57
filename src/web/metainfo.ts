/**
 * Validation and rewriting of uploaded .torrent files: BEP 3 (v1), BEP 52 (v2 and hybrid), BEP 27
 * (private) and BEP 47 (padding files).
 *
 * The module has its own strict bencode reader and writer instead of the `bencode` npm package: that
 * package ignores trailing bytes, reads "i03e" and "i-0e", silently truncates short strings, turns
 * dictionary keys that are not UTF-8 into hex text, overflows the stack on deep nesting and sorts keys
 * as UTF-16 text rather than raw bytes. Any of those would make the info hash we compute differ from
 * the one a BitTorrent client computes.
 *
 * Decoded values: byte strings are `Uint8Array` (views into the input, never copied), integers are
 * `bigint`, lists are arrays and dictionaries are `Map`s keyed by "binary" strings: one UTF-16 code
 * unit per raw key byte (latin1). Comparing such strings with `<` is comparing the raw bytes, which
 * is the order bencode requires, and ASCII keys such as "piece length" can be looked up as written.
 */
import { createHash } from "node:crypto";

/** One file of a torrent, as shown on the site. */
export interface TorrentFile {
  /**
   * Path components joined with "/". Relative to the torrent's folder for multi-file torrents (the
   * torrent's name is not included); the file's name for a single-file torrent.
   */
  path: string;
  /** Size in bytes. */
  length: number;
}

/** An accepted upload, rewritten into the form the site stores and serves. */
export interface ParsedTorrent {
  /** SHA-1 of the info dictionary of the stored (rewritten) torrent: the v1 info hash, 20 bytes. */
  infoHash: Buffer;
  /** SHA-256 of the stored info dictionary when it is v2 or hybrid (`meta version` 2), 32 bytes. */
  infoHashV2: Buffer | null;
  /** SHA-1 of the info dictionary exactly as uploaded. */
  originalInfoHash: Buffer;
  /** The torrent's name (`name.utf-8` when present), the folder or file name clients use. */
  name: string;
  /** Total size in bytes of the real files; BEP 47 padding files are not counted. */
  size: number;
  /** The real files in torrent order, without BEP 47 padding files. */
  files: TorrentFile[];
  /** Bytes per piece. */
  pieceLength: number;
  /** The stored torrent, bencoded: no announce URL (`personalise` adds the member's on download). */
  metainfo: Buffer;
  /** True when the info hash differs from the uploaded one: the uploader must download the site's copy. */
  changed: boolean;
}

/** A rejected upload. The message is shown to the uploader as it is: it says what is wrong. */
export class MetainfoError extends Error {
  override name = "MetainfoError";
}

/** Options of `parseTorrent`. */
export interface ParseOptions {
  /** Written to `info.source`; makes the info hash unique to this site. Must not be empty. */
  source: string;
  /** Largest accepted .torrent file, in bytes. */
  maxBytes: number;
}

type BValue = Uint8Array | bigint | BValue[] | BDict;
type BDict = Map<string, BValue>;

/** Already bencoded bytes, written by `encode` as they are. */
class RawBencode {
  constructor(readonly bytes: Uint8Array) {}
}

type Encodable = Uint8Array | bigint | RawBencode | readonly Encodable[] | ReadonlyMap<string, Encodable>;

/** Deepest nesting of lists and dictionaries read; a v2 file tree spends one level per folder. */
const MAX_DEPTH = 64;
/**
 * Most values (integers, strings, lists, dictionaries, keys included) in one .torrent. Decoding
 * costs about 100 bytes of memory a value, so a 10 MiB file of tiny values ("0:0:0:...") would
 * take half a gigabyte; real torrents need about 10 to 25 values a file, and files are capped at
 * MAX_FILES, so 2 million leaves room for the largest real torrents.
 */
export const MAX_BENCODE_VALUES = 2_000_000;
/** Digits in an integer: 64-bit values need at most 19; more is an attack on BigInt parsing. */
const MAX_INTEGER_DIGITS = 32;
const MAX_FILES = 100_000;
/** UTF-8 bytes of a file's path including the torrent's name and separators. */
const MAX_PATH_BYTES = 4096;
/**
 * Folder depth of one file path. Real torrents nest a handful of levels; the cap also bounds the
 * work of checking folder prefixes, which grows with depth times path length.
 */
const MAX_PATH_COMPONENTS = 32;
/** BEP 52 forbids v2 pieces below 16 KiB; we hold v1 to the same floor. */
const MIN_PIECE_LENGTH = 16 * 1024;
const MAX_PIECE_LENGTH = 64 * 1024 * 1024;
/** BEP 52 merkle leaves hash 16 KiB blocks. */
const BLOCK_SIZE = 16 * 1024;
/** The longest name `safeFileName` returns, ".torrent" included. */
const MAX_FILE_NAME = 150;
const TORRENT_EXTENSION = ".torrent";

/**
 * Top-level keys kept in the stored torrent; everything else goes. `announce`, `announce-list`,
 * `nodes` (DHT), `url-list` and `httpseeds` (web seeds) all lead clients to peers or data outside
 * the tracker, which a private torrent must not; unknown keys are dropped rather than trusted.
 */
const KEPT_TOP_LEVEL: ReadonlyMap<string, "bytes" | "integer"> = new Map([
  ["comment", "bytes"],
  ["comment.utf-8", "bytes"],
  ["created by", "bytes"],
  ["created by.utf-8", "bytes"],
  ["creation date", "integer"],
  ["encoding", "bytes"],
]);

const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const lossyUtf8 = new TextDecoder("utf-8", { ignoreBOM: true });

/** The bytes of a decoded dictionary key. */
function keyBytes(key: string): Buffer {
  return Buffer.from(key, "latin1");
}

/** The dictionary key spelled by raw bytes. */
function bytesKey(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("latin1");
}

function isDict(value: BValue | undefined): value is BDict {
  return value instanceof Map;
}

function isBytes(value: BValue | undefined): value is Uint8Array {
  return value instanceof Uint8Array;
}

function sha1(bytes: Uint8Array): Buffer {
  return createHash("sha1").update(bytes).digest();
}

function sha256(...parts: Uint8Array[]): Buffer {
  const hash = createHash("sha256");
  for (const part of parts) hash.update(part);
  return hash.digest();
}

/** Result of `decodeTopLevel`. */
interface Decoded {
  value: BValue;
  /** For a top-level dictionary: where each value's bytes start and end in the input. */
  spans: Map<string, { start: number; end: number }>;
}

/** Strict bencode reader over one input; see the module comment for the shapes it returns. */
class Reader {
  pos = 0;
  readonly spans = new Map<string, { start: number; end: number }>();

  constructor(readonly buf: Uint8Array) {}

  fail(problem: string, at: number = this.pos): never {
    throw new MetainfoError(`This is not a valid .torrent file: ${problem} (at byte ${at}).`);
  }

  value(depth: number): BValue {
    const byte = this.buf[this.pos];
    if (byte === undefined) this.fail("it ends in the middle of a value");
    if (byte === 0x69) return this.integer();
    if (byte >= 0x30 && byte <= 0x39) return this.bytes();
    if (byte === 0x6c || byte === 0x64) {
      // Checked before descending, so hostile nesting is an error, never a stack overflow.
      if (depth >= MAX_DEPTH) this.fail(`lists and dictionaries are nested more than ${MAX_DEPTH} deep`);
      return byte === 0x6c ? this.list(depth + 1) : this.dict(depth + 1);
    }
    this.fail(`unexpected ${describeByte(byte)}`);
  }

  integer(): bigint {
    const start = this.pos;
    let pos = start + 1;
    const negative = this.buf[pos] === 0x2d;
    if (negative) pos++;
    const digitsStart = pos;
    while (pos < this.buf.length && this.buf[pos]! >= 0x30 && this.buf[pos]! <= 0x39) pos++;
    const digits = pos - digitsStart;
    if (this.buf[pos] !== 0x65) {
      this.fail(pos >= this.buf.length ? "it ends inside a number" : "a number contains a non-digit", pos);
    }
    if (digits === 0) this.fail("a number has no digits", start);
    if (digits > MAX_INTEGER_DIGITS) this.fail("a number is too long", start);
    // Only one spelling per integer is allowed: a different spelling would change the info hash.
    if (this.buf[digitsStart] === 0x30 && (digits > 1 || negative)) {
      this.fail(negative ? 'a number is written as "-0"' : "a number is written with a leading zero", start);
    }
    this.pos = pos + 1;
    return BigInt(Buffer.from(this.buf.buffer, this.buf.byteOffset + start + 1, pos - start - 1).toString());
  }

  bytes(): Uint8Array {
    const start = this.pos;
    let pos = start;
    let length = 0;
    while (pos < this.buf.length && this.buf[pos]! >= 0x30 && this.buf[pos]! <= 0x39) {
      length = length * 10 + (this.buf[pos]! - 0x30);
      pos++;
      if (length > this.buf.length) this.fail("a string runs past the end of the file", start);
    }
    if (this.buf[pos] !== 0x3a) {
      this.fail(
        pos >= this.buf.length ? "it ends inside a string length" : "a string length is malformed",
        pos,
      );
    }
    if (this.buf[start] === 0x30 && pos - start > 1) this.fail("a string length has a leading zero", start);
    const end = pos + 1 + length;
    if (end > this.buf.length) this.fail("a string runs past the end of the file", start);
    this.pos = end;
    return this.buf.subarray(pos + 1, end);
  }

  list(depth: number): BValue[] {
    this.pos++;
    const out: BValue[] = [];
    while (this.buf[this.pos] !== 0x65) {
      if (this.pos >= this.buf.length) this.fail("it ends inside a list");
      out.push(this.value(depth));
    }
    this.pos++;
    return out;
  }

  dict(depth: number): BDict {
    this.pos++;
    const out: BDict = new Map();
    while (this.buf[this.pos] !== 0x65) {
      if (this.pos >= this.buf.length) this.fail("it ends inside a dictionary");
      const keyAt = this.pos;
      const first = this.buf[keyAt]!;
      if (first < 0x30 || first > 0x39) this.fail("a dictionary key is not a string");
      const key = bytesKey(this.bytes());
      // Repeated keys are refused: clients disagree on which copy wins, so they would disagree on
      // the files. Keys merely out of order are common in old torrents and are accepted; they are
      // put in order when the dictionary is written again.
      if (out.has(key)) {
        this.fail(`the key "${printable(keyBytes(key))}" appears twice in one dictionary`, keyAt);
      }
      const valueAt = this.pos;
      out.set(key, this.value(depth));
      if (depth === 1) this.spans.set(key, { start: valueAt, end: this.pos });
    }
    this.pos++;
    return out;
  }
}

/**
 * Counts the values in `buf` without building any, stopping at `limit` or at the first byte that
 * is not well-formed bencode (the reader then reports that byte). On a well-formed prefix it splits
 * values exactly as `Reader` does, so a document it counts under the limit decodes under it too.
 */
function countValues(buf: Uint8Array, limit: number): number {
  let count = 0;
  let pos = 0;
  const end = buf.length;
  while (pos < end && count < limit) {
    const byte = buf[pos]!;
    if (byte === 0x65) {
      pos++;
      continue;
    }
    count++;
    if (byte === 0x6c || byte === 0x64) {
      pos++;
    } else if (byte === 0x69) {
      pos++;
      if (buf[pos] === 0x2d) pos++;
      while (pos < end && buf[pos]! >= 0x30 && buf[pos]! <= 0x39) pos++;
      if (buf[pos] !== 0x65) return count;
      pos++;
    } else if (byte >= 0x30 && byte <= 0x39) {
      let length = 0;
      while (pos < end && buf[pos]! >= 0x30 && buf[pos]! <= 0x39) {
        length = length * 10 + (buf[pos]! - 0x30);
        if (length > end) return count;
        pos++;
      }
      if (buf[pos] !== 0x3a) return count;
      pos += 1 + length;
    } else {
      return count;
    }
  }
  return count;
}

/** Decodes a whole bencoded document, refusing anything after the first value. */
function decodeTopLevel(bytes: Uint8Array): Decoded {
  if (bytes.length === 0) throw new MetainfoError("The file is empty.");
  const reader = new Reader(bytes);
  const value = reader.value(0);
  if (reader.pos !== bytes.length) reader.fail("there is extra data after the end of the torrent");
  return { value, spans: reader.spans };
}

/** Canonical bencode of `value`: dictionary keys in raw-byte order, `RawBencode` copied as it is. */
function encode(value: Encodable): Buffer {
  const chunks: Uint8Array[] = [];
  const write = (v: Encodable): void => {
    if (v instanceof Uint8Array) {
      chunks.push(utf8.encode(`${v.length}:`), v);
    } else if (typeof v === "bigint") {
      chunks.push(utf8.encode(`i${v}e`));
    } else if (v instanceof RawBencode) {
      chunks.push(v.bytes);
    } else if (v instanceof Map) {
      chunks.push(utf8.encode("d"));
      // Binary strings compare code unit by code unit, which is raw-byte order.
      for (const key of [...v.keys()].sort()) {
        if (/[^\x00-\xff]/.test(key)) throw new TypeError(`bencode key is not a binary string: ${key}`);
        const k = keyBytes(key);
        chunks.push(utf8.encode(`${k.length}:`), k);
        write(v.get(key)!);
      }
      chunks.push(utf8.encode("e"));
    } else {
      chunks.push(utf8.encode("l"));
      for (const item of v as readonly Encodable[]) write(item);
      chunks.push(utf8.encode("e"));
    }
  };
  write(value);
  return Buffer.concat(chunks);
}

function describeByte(byte: number): string {
  return byte >= 0x20 && byte < 0x7f
    ? `character "${String.fromCharCode(byte)}"`
    : `byte 0x${byte.toString(16)}`;
}

/** Text safe to put in a message: lossy UTF-8, control characters replaced, length capped. */
function printable(bytes: Uint8Array | string): string {
  const text = typeof bytes === "string" ? bytes : lossyUtf8.decode(bytes);
  const clean = text.replace(/[\x00-\x1f\x7f]/g, "?");
  return clean.length > 200 ? `${clean.slice(0, 200)}…` : clean;
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0;
}

function formatBytes(n: number): string {
  if (n >= 1024 * 1024 && n % (1024 * 1024) === 0) return `${n / (1024 * 1024)} MiB`;
  if (n >= 1024 && n % 1024 === 0) return `${n / 1024} KiB`;
  return `${n} bytes`;
}

/** Why a single path component is unsafe to create on disk, or null when it is fine. */
function componentProblem(component: Uint8Array): string | null {
  if (component.length === 0) return "it has an empty component";
  if (component.length <= 2 && component.every((b) => b === 0x2e)) return 'it has a "." or ".." component';
  if (component.includes(0x2f) || component.includes(0x5c)) return 'a component contains "/" or "\\"';
  if (component.includes(0)) return "a component contains a NUL character";
  const first = component[0]!;
  if (component[1] === 0x3a && ((first >= 0x41 && first <= 0x5a) || (first >= 0x61 && first <= 0x7a))) {
    return 'a component starts with a drive letter like "C:"';
  }
  return null;
}

function joinedForDisplay(components: readonly Uint8Array[]): string {
  return printable(components.map((c) => lossyUtf8.decode(c)).join("/"));
}

function checkPath(components: readonly Uint8Array[], nameBytes: number): void {
  if (components.length > MAX_PATH_COMPONENTS) {
    throw new MetainfoError(
      `A file path is ${components.length} folders deep; at most ${MAX_PATH_COMPONENTS} levels are allowed.`,
    );
  }
  let total = nameBytes;
  for (const component of components) {
    const problem = componentProblem(component);
    if (problem) {
      throw new MetainfoError(`The file path "${joinedForDisplay(components)}" is not allowed: ${problem}.`);
    }
    total += 1 + component.length;
  }
  if (total > MAX_PATH_BYTES) {
    const path = joinedForDisplay(components);
    throw new MetainfoError(
      `The file path "${path}" is too long: at most ${MAX_PATH_BYTES} bytes are allowed.`,
    );
  }
}

/** A non-negative safe integer from a decoded value, or an error naming `what`. */
function size(value: BValue | undefined, what: string): number {
  if (value === undefined) throw new MetainfoError(`${what} is missing.`);
  if (typeof value !== "bigint" || value < 0n || value > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new MetainfoError(`${what} is not a valid size in bytes.`);
  }
  return Number(value);
}

/** The display text of a string that may have a `.utf-8` twin (BEP 3 era clients wrote both). */
function text(plain: Uint8Array, twin: BValue | undefined, what: string): string {
  if (isBytes(twin)) {
    try {
      return strictUtf8.decode(twin);
    } catch {
      // Fall back to the plain spelling below.
    }
  }
  try {
    return strictUtf8.decode(plain);
  } catch {
    throw new MetainfoError(`${what} is not valid UTF-8 text.`);
  }
}

interface Layout {
  name: string;
  pieceLength: number;
  files: TorrentFile[];
  size: number;
  v2: boolean;
}

interface V1File {
  path: string;
  length: number;
  padding: boolean;
}

interface V2File {
  path: string;
  length: number;
  piecesRoot: Uint8Array | null;
}

function readName(info: BDict): { name: string; bytes: number } {
  const raw = info.get("name");
  if (raw === undefined) throw new MetainfoError("The torrent has no name.");
  if (!isBytes(raw)) throw new MetainfoError("The torrent's name is not text.");
  if (raw.length === 0) throw new MetainfoError("The torrent's name is empty.");
  const twin = info.get("name.utf-8");
  // Clients pick either spelling, so both must be safe as a folder or file name.
  for (const spelling of isBytes(twin) ? [raw, twin] : [raw]) {
    const problem = componentProblem(spelling);
    if (problem) {
      throw new MetainfoError(`The torrent's name "${printable(spelling)}" is not allowed: ${problem}.`);
    }
  }
  const name = text(raw, twin, "The torrent's name");
  return { name, bytes: Math.max(raw.length, isBytes(twin) ? twin.length : 0) };
}

function readPieceLength(info: BDict): number {
  const value = info.get("piece length");
  if (value === undefined) throw new MetainfoError("The torrent has no piece length.");
  if (typeof value !== "bigint" || value <= 0n) {
    throw new MetainfoError("The torrent's piece length is not a positive whole number.");
  }
  if (value > BigInt(MAX_PIECE_LENGTH)) {
    throw new MetainfoError(
      `The piece length is ${value} bytes; the largest allowed is ${formatBytes(MAX_PIECE_LENGTH)}.`,
    );
  }
  const n = Number(value);
  if (n < MIN_PIECE_LENGTH || (n & (n - 1)) !== 0) {
    throw new MetainfoError(
      `The piece length ${formatBytes(n)} is not allowed: it must be a power of two of at least 16 KiB.`,
    );
  }
  return n;
}

/** The components as UTF-8 text joined with "/", or null when absent or not UTF-8. */
function decodePath(components: readonly Uint8Array[] | undefined): string | null {
  if (components === undefined) return null;
  try {
    return components.map((c) => strictUtf8.decode(c)).join("/");
  } catch {
    return null;
  }
}

function readV1Files(info: BDict, name: string, nameBytes: number): V1File[] {
  const hasLength = info.has("length");
  const list = info.get("files");
  if (hasLength && list !== undefined) {
    throw new MetainfoError("The torrent has both a single-file length and a file list; it must have one.");
  }
  if (hasLength) {
    return [{ path: name, length: size(info.get("length"), "The file's length"), padding: false }];
  }
  if (list === undefined) throw new MetainfoError("The torrent has neither a file length nor a file list.");
  if (!Array.isArray(list) || list.length === 0) throw new MetainfoError("The torrent's file list is empty.");
  if (list.length > MAX_FILES) {
    throw new MetainfoError(`The torrent has ${list.length} files; at most ${MAX_FILES} are allowed.`);
  }
  const out: V1File[] = [];
  const seen = new Set<string>();
  const folders = new Set<string>();
  for (const [index, entry] of list.entries()) {
    const label = `File ${index + 1} in the file list`;
    if (!isDict(entry)) throw new MetainfoError(`${label} is not a dictionary.`);
    const length = size(entry.get("length"), `The length of ${label.toLowerCase()}`);
    const spellings: Uint8Array[][] = [];
    for (const key of ["path", "path.utf-8"]) {
      const path = entry.get(key);
      if (path === undefined && key === "path.utf-8") continue;
      if (!Array.isArray(path) || path.length === 0 || !path.every(isBytes)) {
        throw new MetainfoError(`${label} has no path, or its path is not a list of names.`);
      }
      checkPath(path, nameBytes);
      spellings.push(path);
    }
    const display = decodePath(spellings[1]) ?? decodePath(spellings[0]!);
    if (display === null) {
      throw new MetainfoError(`The file path "${joinedForDisplay(spellings[0]!)}" is not valid UTF-8 text.`);
    }
    const attr = entry.get("attr");
    // BEP 47: padding files only align the next file to a piece; many share one path like ".pad/N".
    const padding = isBytes(attr) && attr.includes(0x70);
    if (!padding) {
      if (seen.has(display) || folders.has(display)) {
        throw new MetainfoError(`The file list names "${printable(display)}" twice.`);
      }
      seen.add(display);
      for (let slash = display.indexOf("/"); slash > 0; slash = display.indexOf("/", slash + 1)) {
        const folder = display.slice(0, slash);
        if (seen.has(folder)) {
          throw new MetainfoError(`The file list uses "${printable(folder)}" as both a file and a folder.`);
        }
        folders.add(folder);
      }
    }
    out.push({ path: display, length, padding });
  }
  return out;
}

function readFileTree(tree: BValue | undefined, nameBytes: number): V2File[] {
  if (!isDict(tree)) throw new MetainfoError("The torrent's file tree is not a dictionary.");
  if (tree.size === 0) throw new MetainfoError("The torrent's file tree is empty.");
  const out: V2File[] = [];
  const walk = (node: BDict, path: Uint8Array[]): void => {
    const leaf = node.get("");
    if (leaf !== undefined) {
      // BEP 52: the "" key marks a file; a node that also has children would be file and folder at once.
      if (path.length === 0 || node.size !== 1) {
        throw new MetainfoError(
          `The file tree entry "${joinedForDisplay(path)}" is both a file and a folder.`,
        );
      }
      if (!isDict(leaf)) {
        throw new MetainfoError(`The file tree entry "${joinedForDisplay(path)}" is malformed.`);
      }
      const label = `The length of "${joinedForDisplay(path)}"`;
      const length = size(leaf.get("length"), label);
      const root = leaf.get("pieces root");
      if ((length > 0 || root !== undefined) && (!isBytes(root) || root.length !== 32)) {
        throw new MetainfoError(`The file "${joinedForDisplay(path)}" has no valid 32-byte pieces root.`);
      }
      if (out.length >= MAX_FILES) {
        throw new MetainfoError(
          `The torrent has more than ${MAX_FILES} files; at most ${MAX_FILES} are allowed.`,
        );
      }
      out.push({
        path: path.map((c) => strictUtf8.decode(c)).join("/"),
        length,
        piecesRoot: length > 0 ? root! : null,
      });
      return;
    }
    if (node.size === 0) {
      throw new MetainfoError(`The folder "${joinedForDisplay(path)}" in the file tree is empty.`);
    }
    // The stored info dictionary is written with sorted keys, so files are listed in that order.
    for (const key of [...node.keys()].sort()) {
      const child = node.get(key)!;
      const component = keyBytes(key);
      const childPath = [...path, component];
      checkPath(childPath, nameBytes);
      try {
        strictUtf8.decode(component);
      } catch {
        throw new MetainfoError(`The file path "${joinedForDisplay(childPath)}" is not valid UTF-8 text.`);
      }
      if (!isDict(child)) {
        throw new MetainfoError(`The file tree entry "${joinedForDisplay(childPath)}" is not a dictionary.`);
      }
      walk(child, childPath);
    }
  };
  walk(tree, []);
  return out;
}

/** The merkle root BEP 52 builds over one file's piece layer, padded with hashes of zero blocks. */
function merkleRoot(layer: Uint8Array, pieceLength: number): Buffer {
  // Leaves past the end of the file are 32 zero bytes; a whole padding piece hashes up to `pad`.
  let pad: Uint8Array = new Uint8Array(32);
  for (let blocks = pieceLength / BLOCK_SIZE; blocks > 1; blocks /= 2) pad = sha256(pad, pad);
  let level: Uint8Array[] = [];
  for (let i = 0; i < layer.length; i += 32) level.push(layer.subarray(i, i + 32));
  while (level.length > 1) {
    if (level.length % 2 === 1) level.push(pad);
    const next: Uint8Array[] = [];
    for (let i = 0; i < level.length; i += 2) next.push(sha256(level[i]!, level[i + 1]!));
    level = next;
    pad = sha256(pad, pad);
  }
  return Buffer.from(level[0]!);
}

function checkPieceLayers(layers: BValue | undefined, files: V2File[], pieceLength: number): void {
  if (layers !== undefined && !isDict(layers)) {
    throw new MetainfoError("The torrent's piece layers are malformed.");
  }
  for (const file of files) {
    // Files of at most one piece have no layer: their pieces root is the piece's own hash.
    if (file.length <= pieceLength || file.piecesRoot === null) continue;
    const layer = layers?.get(bytesKey(file.piecesRoot));
    const where = `the piece layers for "${printable(file.path)}"`;
    if (layer === undefined) throw new MetainfoError(`The torrent is missing ${where}.`);
    if (!isBytes(layer) || layer.length !== Math.ceil(file.length / pieceLength) * 32) {
      throw new MetainfoError(`The torrent has ${where} of the wrong length.`);
    }
    if (!bytesEqual(merkleRoot(layer, pieceLength), file.piecesRoot)) {
      throw new MetainfoError(`The torrent's ${where} do not match the file's pieces root.`);
    }
  }
}

function checkPieces(info: BDict, files: V1File[], pieceLength: number): void {
  const pieces = info.get("pieces");
  if (!isBytes(pieces)) throw new MetainfoError("The torrent has no piece hashes (pieces).");
  if (pieces.length === 0 || pieces.length % 20 !== 0) {
    throw new MetainfoError(
      `The piece hashes (pieces) must be a non-empty multiple of 20 bytes; these are ${pieces.length} bytes.`,
    );
  }
  const total = sumSizes(files.map((f) => f.length));
  // An empty torrent is refused later, with a clearer message than a piece count.
  if (total === 0) return;
  const expected = Math.ceil(total / pieceLength);
  if (pieces.length / 20 !== expected) {
    throw new MetainfoError(
      `The torrent has ${pieces.length / 20} piece hashes but its files need ${expected}: it is damaged.`,
    );
  }
}

function sumSizes(lengths: number[]): number {
  let total = 0;
  for (const length of lengths) {
    total += length;
    if (total > Number.MAX_SAFE_INTEGER) throw new MetainfoError("The torrent's total size is too large.");
  }
  return total;
}

/** Checks the info dictionary (and the v2 piece layers) and lists the files it describes. */
function readLayout(info: BDict, top: BDict): Layout {
  const { name, bytes: nameBytes } = readName(info);
  const pieceLength = readPieceLength(info);
  const metaVersion = info.get("meta version");
  if (metaVersion !== undefined && metaVersion !== 2n) {
    const shown = typeof metaVersion === "bigint" ? `${metaVersion}` : "value";
    throw new MetainfoError(`The torrent's meta version ${shown} is not supported; only version 2 is.`);
  }
  const v2 = metaVersion === 2n;
  if (!v2 && info.has("file tree")) {
    throw new MetainfoError("The torrent has a v2 file tree but no meta version 2.");
  }
  const v1 = !v2 || info.has("pieces") || info.has("length") || info.has("files");

  let v1Files: V1File[] | null = null;
  if (v1) {
    v1Files = readV1Files(info, name, nameBytes);
    checkPieces(info, v1Files, pieceLength);
  }
  let v2Files: V2File[] | null = null;
  if (v2) {
    v2Files = readFileTree(info.get("file tree"), nameBytes);
    checkPieceLayers(top.get("piece layers"), v2Files, pieceLength);
  }

  const real = v1Files?.filter((f) => !f.padding) ?? [];
  if (v1Files && v2Files) {
    // A hybrid torrent is one set of files seen two ways; clients refuse it if the views differ.
    const same =
      real.length === v2Files.length &&
      real.every((f, i) => f.path === v2Files[i]!.path && f.length === v2Files[i]!.length);
    if (!same) {
      throw new MetainfoError(
        "This hybrid torrent's v1 file list and v2 file tree describe different files, " +
          "or list them in a different order.",
      );
    }
    // BEP 52: in a hybrid, padding makes every file start on a piece boundary, as v2 pieces do.
    let offset = 0;
    for (const file of v1Files) {
      if (!file.padding && file.length > 0 && offset % pieceLength !== 0) {
        throw new MetainfoError(
          `This hybrid torrent's file "${printable(file.path)}" does not start on a piece boundary.`,
        );
      }
      offset += file.length;
    }
  }
  const files = (v2Files ?? real).map((f) => ({ path: f.path, length: f.length }));
  const total = sumSizes(files.map((f) => f.length));
  if (total === 0) throw new MetainfoError("The torrent contains no data: all of its files are empty.");
  return { name, pieceLength, files, size: total, v2 };
}

/**
 * Validates an uploaded .torrent file and rewrites it for the site: `info.private` becomes 1 and
 * `info.source` becomes `options.source` (so the info hash differs from the same files on other
 * trackers), and every top-level key but the info dictionary, comment, creator, creation date,
 * encoding and (for v2) piece layers is dropped, announce URLs and web seeds included. The info
 * dictionary keeps all its other keys and is written with keys in raw-byte order; a canonical upload
 * that already has private=1 and this source keeps its info hash.
 *
 * @throws MetainfoError with a message for the uploader when the file is not an acceptable torrent.
 */
export function parseTorrent(bytes: Uint8Array, options: ParseOptions): ParsedTorrent {
  if (options.source === "") throw new TypeError("parseTorrent needs a non-empty source");
  if (bytes.length > options.maxBytes) {
    const kib = options.maxBytes / 1024;
    throw new MetainfoError(`The file is larger than ${Number.isInteger(kib) ? kib : kib.toFixed(1)} KiB.`);
  }
  // Counted before decoding: refusing a file of millions of tiny values must not first build them.
  if (countValues(bytes, MAX_BENCODE_VALUES + 1) > MAX_BENCODE_VALUES) {
    const most = MAX_BENCODE_VALUES.toLocaleString("en-US");
    throw new MetainfoError(
      `The file holds more than ${most} values (numbers, strings, lists and dictionaries); ` +
        `a .torrent may hold at most ${most}.`,
    );
  }
  const { value: top, spans } = decodeTopLevel(bytes);
  if (!isDict(top)) {
    throw new MetainfoError("This is not a .torrent file: it does not start with a dictionary.");
  }
  const info = top.get("info");
  if (!isDict(info)) throw new MetainfoError("The torrent has no info dictionary.");
  const span = spans.get("info")!;
  const originalInfoHash = sha1(bytes.subarray(span.start, span.end));

  const layout = readLayout(info, top);

  const rewritten = new Map<string, BValue>(info);
  rewritten.set("private", 1n);
  rewritten.set("source", utf8.encode(options.source));
  const infoBytes = encode(rewritten);

  const stored = new Map<string, Encodable>();
  for (const [key, kind] of KEPT_TOP_LEVEL) {
    const value = top.get(key);
    if (kind === "bytes" ? isBytes(value) : typeof value === "bigint") stored.set(key, value!);
  }
  if (layout.v2 && isDict(top.get("piece layers"))) stored.set("piece layers", top.get("piece layers")!);
  stored.set("info", new RawBencode(infoBytes));

  const infoHash = sha1(infoBytes);
  return {
    infoHash,
    infoHashV2: layout.v2 ? sha256(infoBytes) : null,
    originalInfoHash,
    name: layout.name,
    size: layout.size,
    files: layout.files,
    pieceLength: layout.pieceLength,
    metainfo: encode(stored),
    changed: !infoHash.equals(originalInfoHash),
  };
}

/**
 * The stored torrent with `announce` set to the member's URL (and `comment` replaced when given),
 * ready to download. `announce-list` is removed, since clients prefer it to `announce`; given more
 * than one URL (the HTTP one, then the UDP one), `announce` is the first and `announce-list` holds
 * each in a tier of its own, in order. The info
 * dictionary's bytes are copied untouched, so the info hash is the stored one; the other keys are
 * written in raw-byte order.
 *
 * @throws MetainfoError when `metainfo` is not a bencoded dictionary with an info dictionary.
 */
export function personalise(
  metainfo: Uint8Array,
  announceUrl: string | readonly string[],
  comment?: string,
): Buffer {
  const urls = typeof announceUrl === "string" ? [announceUrl] : announceUrl;
  const { value: top, spans } = decodeTopLevel(metainfo);
  if (!isDict(top) || !isDict(top.get("info"))) {
    throw new MetainfoError("The stored torrent is damaged: it has no info dictionary.");
  }
  const span = spans.get("info")!;
  const out = new Map<string, Encodable>(top);
  out.set("info", new RawBencode(metainfo.subarray(span.start, span.end)));
  out.set("announce", utf8.encode(urls[0]!));
  out.delete("announce-list");
  if (urls.length > 1)
    out.set(
      "announce-list",
      urls.map((url) => [utf8.encode(url)]),
    );
  if (comment !== undefined) {
    out.set("comment", utf8.encode(comment));
    out.delete("comment.utf-8");
  }
  return encode(out);
}

const WINDOWS_RESERVED = /^(con|prn|aux|nul|com\d|lpt\d)(\.|$)/i;

/**
 * A download file name for `Content-Disposition`, made from a torrent's title: ASCII letters,
 * digits, spaces and `._-()[]+,!&` only (accents are dropped, anything else becomes "_"), no leading
 * or trailing dots or spaces, at most 150 characters, always ending in ".torrent";
 * "download.torrent" when nothing usable is left.
 */
export function safeFileName(title: string): string {
  const tidy = (s: string): string => s.replace(/^[\s._-]+|[\s._-]+$/g, "");
  let base = title
    .normalize("NFKD")
    .replace(/\p{M}/gu, "")
    .replace(/[^A-Za-z0-9 ._\-()[\]+,!&]+/g, "_")
    .replace(/ {2,}/g, " ")
    .replace(/_{2,}/g, "_");
  base = tidy(tidy(base).replace(/\.torrent$/i, ""));
  base = tidy(base.slice(0, MAX_FILE_NAME - TORRENT_EXTENSION.length));
  if (base === "") base = "download";
  if (WINDOWS_RESERVED.test(base)) base = `_${base}`.slice(0, MAX_FILE_NAME - TORRENT_EXTENSION.length);
  return `${base}${TORRENT_EXTENSION}`;
}
