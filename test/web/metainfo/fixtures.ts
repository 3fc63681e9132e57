/**
 * Test-only bencode writer and reader and torrent builders, written independently of
 * `src/web/metainfo.ts` so that a bug there cannot hide itself in the expected values.
 */
import { createHash } from "node:crypto";

/** A value the test encoder writes: strings are UTF-8, numbers must be integers. */
export type TV = string | number | bigint | Uint8Array | TV[] | Dict;

/** A bencode dictionary with raw-byte keys; written sorted by raw bytes unless `unsorted` is set. */
export class Dict {
  entries: [Buffer, TV][] = [];
  /** Write the entries in insertion order, to build non-canonical input. */
  unsorted = false;

  constructor(init: Record<string, TV> | [string | Uint8Array, TV][] = {}) {
    const pairs = Array.isArray(init) ? init : Object.entries(init);
    for (const [key, value] of pairs) this.set(key, value);
  }

  set(key: string | Uint8Array, value: TV): this {
    const k = toKey(key);
    const existing = this.entries.find(([e]) => e.equals(k));
    if (existing) existing[1] = value;
    else this.entries.push([k, value]);
    return this;
  }

  get(key: string | Uint8Array): TV | undefined {
    const k = toKey(key);
    return this.entries.find(([e]) => e.equals(k))?.[1];
  }

  delete(key: string | Uint8Array): this {
    const k = toKey(key);
    this.entries = this.entries.filter(([e]) => !e.equals(k));
    return this;
  }

  /** A deep copy, so cases can change nested dictionaries freely. */
  clone(): Dict {
    const copy = new Dict();
    copy.unsorted = this.unsorted;
    copy.entries = this.entries.map(([k, v]) => [k, cloneValue(v)]);
    return copy;
  }
}

function toKey(key: string | Uint8Array): Buffer {
  return typeof key === "string" ? Buffer.from(key, "utf8") : Buffer.from(key);
}

function cloneValue(v: TV): TV {
  if (v instanceof Dict) return v.clone();
  if (Array.isArray(v)) return v.map(cloneValue);
  return v;
}

/** Test encoder; `duplicate` entries are impossible through `Dict.set`, so tests splice bytes for that. */
export function be(value: TV): Buffer {
  if (typeof value === "string") value = Buffer.from(value, "utf8");
  if (value instanceof Uint8Array) return Buffer.concat([Buffer.from(`${value.length}:`), value]);
  if (typeof value === "number" || typeof value === "bigint") {
    if (typeof value === "number" && !Number.isInteger(value)) throw new Error("not an integer");
    return Buffer.from(`i${value}e`);
  }
  if (Array.isArray(value)) return Buffer.concat([Buffer.from("l"), ...value.map(be), Buffer.from("e")]);
  const entries = value.unsorted
    ? value.entries
    : [...value.entries].sort(([a], [b]) => Buffer.compare(a, b));
  const parts = entries.flatMap(([k, v]) => [be(k), be(v)]);
  return Buffer.concat([Buffer.from("d"), ...parts, Buffer.from("e")]);
}

export function sha1(bytes: Uint8Array): Buffer {
  return createHash("sha1").update(bytes).digest();
}

export function sha256(...parts: Uint8Array[]): Buffer {
  const hash = createHash("sha256");
  for (const p of parts) hash.update(p);
  return hash.digest();
}

/** Where one value ends, for a well-formed value starting at `pos`. */
function skip(buf: Uint8Array, pos: number): number {
  const c = buf[pos];
  if (c === 0x69) return buf.indexOf(0x65, pos) + 1;
  if (c === 0x6c || c === 0x64) {
    pos++;
    while (buf[pos] !== 0x65) pos = skip(buf, pos);
    return pos + 1;
  }
  const colon = buf.indexOf(0x3a, pos);
  if (colon < 0 || c === undefined) throw new Error(`bad bencode at ${pos}`);
  return colon + 1 + Number(Buffer.from(buf.subarray(pos, colon)).toString());
}

/** The keys of a dictionary, in written order, with the byte span of each value. */
export function dictEntries(buf: Uint8Array): { key: Buffer; start: number; end: number }[] {
  if (buf[0] !== 0x64) throw new Error("not a dictionary");
  const out: { key: Buffer; start: number; end: number }[] = [];
  let pos = 1;
  while (buf[pos] !== 0x65) {
    const colon = buf.indexOf(0x3a, pos);
    const keyEnd = skip(buf, pos);
    const key = Buffer.from(buf.subarray(colon + 1, keyEnd));
    const end = skip(buf, keyEnd);
    out.push({ key, start: keyEnd, end });
    pos = end;
  }
  if (pos + 1 !== buf.length) throw new Error("trailing bytes after the dictionary");
  return out;
}

/** The exact bytes of a top-level key's value. */
export function valueBytes(buf: Uint8Array, key: string): Buffer {
  const entry = dictEntries(buf).find((e) => e.key.equals(Buffer.from(key)));
  if (!entry) throw new Error(`no ${key}`);
  return Buffer.from(buf.subarray(entry.start, entry.end));
}

/** Deterministic pseudo-random bytes. */
export function content(length: number, seed: number): Buffer {
  const out = Buffer.alloc(length);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** One file of a fixture: path components (relative to the torrent's folder) and its bytes. */
export interface FileSpec {
  path: string[];
  data: Uint8Array;
}

function v1Pieces(data: Uint8Array, pieceLength: number): Buffer {
  const hashes: Buffer[] = [];
  for (let i = 0; i < data.length; i += pieceLength) hashes.push(sha1(data.subarray(i, i + pieceLength)));
  return Buffer.concat(hashes);
}

/** BEP 52 merkle tree of one file: its root and, when larger than a piece, its piece layer. */
export function merkle(data: Uint8Array, pieceLength: number): { root: Buffer; layer: Buffer | null } {
  const block = 16384;
  const leaves: Buffer[] = [];
  for (let i = 0; i < data.length; i += block) leaves.push(sha256(data.subarray(i, i + block)));
  let width = 1;
  while (width < leaves.length) width *= 2;
  while (leaves.length < width) leaves.push(Buffer.alloc(32));
  let level = leaves;
  let span = block;
  let layer: Buffer | null = null;
  const pieces = Math.ceil(data.length / pieceLength);
  for (;;) {
    if (span === pieceLength && data.length > pieceLength) layer = Buffer.concat(level.slice(0, pieces));
    if (level.length === 1) break;
    const next: Buffer[] = [];
    for (let i = 0; i < level.length; i += 2) next.push(sha256(level[i]!, level[i + 1]!));
    level = next;
    span *= 2;
  }
  return { root: level[0]!, layer };
}

function comparePaths(a: string[], b: string[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const d = Buffer.compare(Buffer.from(a[i]!), Buffer.from(b[i]!));
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

/** Options of `buildInfo`. */
export interface BuildOptions {
  kind: "v1" | "v2" | "hybrid";
  name: string;
  /** One file with an empty path makes a single-file torrent. */
  files: FileSpec[];
  pieceLength?: number;
  /** Add BEP 47 padding files after each file that does not end on a piece (always on for hybrid). */
  padding?: boolean;
}

/** An info dictionary and, for v2 and hybrid, the top-level piece layers. */
export function buildInfo(options: BuildOptions): { info: Dict; pieceLayers: Dict | null } {
  const pieceLength = options.pieceLength ?? 16384;
  const single = options.files.length === 1 && options.files[0]!.path.length === 0;
  const files = [...options.files].sort((a, b) => comparePaths(a.path, b.path));
  const info = new Dict({ name: options.name, "piece length": pieceLength });
  let pieceLayers: Dict | null = null;
  if (options.kind !== "v1") {
    pieceLayers = new Dict();
    const tree = new Dict();
    for (const file of files) {
      const { root, layer } = merkle(file.data, pieceLength);
      const leaf = new Dict({ length: file.data.length });
      if (file.data.length > 0) leaf.set("pieces root", root);
      if (layer) pieceLayers.set(root, layer);
      let node = tree;
      const path = single ? [options.name] : file.path;
      for (const part of path) {
        let child = node.get(part);
        if (!(child instanceof Dict)) {
          child = new Dict();
          node.set(part, child);
        }
        node = child;
      }
      node.set("", leaf);
    }
    info.set("meta version", 2).set("file tree", tree);
  }
  if (options.kind !== "v2") {
    const pad = options.padding || options.kind === "hybrid";
    const chunks: Uint8Array[] = [];
    if (single) {
      info.set("length", files[0]!.data.length);
      chunks.push(files[0]!.data);
    } else {
      const list: TV[] = [];
      files.forEach((file, i) => {
        list.push(new Dict({ length: file.data.length, path: file.path }));
        chunks.push(file.data);
        const rest = file.data.length % pieceLength;
        if (pad && rest !== 0 && i < files.length - 1) {
          const n = pieceLength - rest;
          list.push(new Dict({ attr: "p", length: n, path: [".pad", String(n)] }));
          chunks.push(Buffer.alloc(n));
        }
      });
      info.set("files", list);
    }
    info.set("pieces", v1Pieces(Buffer.concat(chunks), pieceLength));
  }
  return { info, pieceLayers };
}

/** A whole .torrent: the given top-level keys plus the info dictionary (and piece layers). */
export function torrentBytes(
  info: Dict,
  top: Record<string, TV> = {},
  pieceLayers: Dict | null = null,
): Buffer {
  const dict = new Dict(top).set("info", info);
  if (pieceLayers) dict.set("piece layers", pieceLayers);
  return be(dict);
}
