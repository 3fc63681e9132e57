import { describe, expect, test } from "bun:test";
import bencode from "bencode";
import { type ParsedTorrent, parseTorrent } from "../../../src/web/metainfo.ts";
import {
  be,
  buildInfo,
  content,
  Dict,
  dictEntries,
  type FileSpec,
  sha1,
  sha256,
  type TV,
  torrentBytes,
  valueBytes,
} from "./fixtures.ts";

const SOURCE = "FW";
const OPTIONS = { source: SOURCE, maxBytes: 1 << 20 };
const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

/** Keys other trackers and clients put at the top level; only the last four may survive. */
const TOP: Record<string, TV> = {
  announce: "http://elsewhere.example/announce",
  "announce-list": [["http://a.example/announce"], ["http://b.example/announce"]],
  "url-list": "http://seed.example/",
  httpseeds: ["http://seed.example/h"],
  nodes: [["router.example", 6881]],
  comment: "hello",
  "created by": "fixture",
  "creation date": 1700000000,
};

const MULTI: FileSpec[] = [
  { path: ["b.txt"], data: content(20000, 1) },
  { path: ["a", "c.txt"], data: content(5000, 2) },
  { path: ["a", "b.bin"], data: content(40000, 3) },
  { path: ["empty"], data: new Uint8Array(0) },
];

/** The info dictionary the site should store for `info`. */
function rewritten(info: Dict): Dict {
  return info.clone().set("private", 1).set("source", SOURCE);
}

function topKeys(metainfo: Uint8Array): string[] {
  return dictEntries(metainfo).map((e) => e.key.toString("latin1"));
}

function expectStoredInfo(parsed: ParsedTorrent, expected: Dict): void {
  const bytes = be(expected);
  expect(hex(valueBytes(parsed.metainfo, "info"))).toBe(hex(bytes));
  expect(hex(parsed.infoHash)).toBe(hex(sha1(bytes)));
}

describe("parseTorrent accepts and rewrites", () => {
  test("a single-file v1 torrent: private and source added, announce and web seeds removed", () => {
    const data = content(40000, 9);
    const { info } = buildInfo({ kind: "v1", name: "file.bin", files: [{ path: [], data }] });
    const upload = torrentBytes(info, TOP);
    const parsed = parseTorrent(upload, OPTIONS);

    expect(hex(parsed.originalInfoHash)).toBe(hex(sha1(valueBytes(upload, "info"))));
    expect(hex(parsed.originalInfoHash)).toBe(hex(sha1(be(info))));
    expectStoredInfo(parsed, rewritten(info));
    expect(parsed.infoHash.length).toBe(20);
    expect(parsed.changed).toBe(true);
    expect(parsed.infoHashV2).toBeNull();
    expect(parsed.name).toBe("file.bin");
    expect(parsed.size).toBe(40000);
    expect(parsed.pieceLength).toBe(16384);
    expect(parsed.files).toEqual([{ path: "file.bin", length: 40000 }]);
    expect(topKeys(parsed.metainfo)).toEqual(["comment", "created by", "creation date", "info"]);

    // An independent decoder reads the stored torrent the same way.
    const decoded = bencode.decode(parsed.metainfo) as Record<string, unknown>;
    const storedInfo = decoded.info as Record<string, unknown>;
    expect(storedInfo.private).toBe(1);
    expect(new TextDecoder().decode(storedInfo.source as Uint8Array)).toBe(SOURCE);
    expect(decoded["creation date"]).toBe(1700000000);
  });

  test("another source gives another info hash, so cross-seeded copies do not collide", () => {
    const { info } = buildInfo({ kind: "v1", name: "f", files: [{ path: [], data: content(1000, 1) }] });
    const a = parseTorrent(torrentBytes(info), OPTIONS);
    const b = parseTorrent(torrentBytes(info), { ...OPTIONS, source: "OTHER" });
    expect(hex(a.originalInfoHash)).toBe(hex(b.originalInfoHash));
    expect(hex(a.infoHash)).not.toBe(hex(b.infoHash));
  });

  test("a canonical torrent already private with this source keeps its info hash and info bytes", () => {
    const { info } = buildInfo({ kind: "v1", name: "f", files: [{ path: [], data: content(50000, 4) }] });
    const ready = rewritten(info);
    const upload = torrentBytes(ready, TOP);
    const parsed = parseTorrent(upload, OPTIONS);
    expect(parsed.changed).toBe(false);
    expect(hex(parsed.infoHash)).toBe(hex(parsed.originalInfoHash));
    expect(hex(valueBytes(parsed.metainfo, "info"))).toBe(hex(valueBytes(upload, "info")));
    expect(topKeys(parsed.metainfo)).not.toContain("announce");
  });

  test("private=1 with another source, or this source without private, is changed", () => {
    const { info } = buildInfo({ kind: "v1", name: "f", files: [{ path: [], data: content(1000, 4) }] });
    const otherSource = info.clone().set("private", 1).set("source", "ELSEWHERE");
    const notPrivate = info.clone().set("private", 0).set("source", SOURCE);
    for (const variant of [otherSource, notPrivate]) {
      const parsed = parseTorrent(torrentBytes(variant), OPTIONS);
      expect(parsed.changed).toBe(true);
      expectStoredInfo(parsed, rewritten(info));
    }
  });

  test("an info dictionary with unsorted keys is accepted and stored sorted", () => {
    const { info } = buildInfo({ kind: "v1", name: "f", files: [{ path: [], data: content(1000, 5) }] });
    const ready = rewritten(info);
    const messy = ready.clone();
    messy.entries.reverse();
    messy.unsorted = true;
    const upload = torrentBytes(messy);
    const parsed = parseTorrent(upload, OPTIONS);
    expect(hex(parsed.originalInfoHash)).toBe(hex(sha1(be(messy))));
    expect(parsed.changed).toBe(true);
    expectStoredInfo(parsed, ready);
  });

  test("info keys with bytes of 0x80 and above are kept and sorted by raw bytes", () => {
    const { info } = buildInfo({ kind: "v1", name: "f", files: [{ path: [], data: content(1000, 6) }] });
    const fffd = Buffer.from([0xef, 0xbf, 0xbd]);
    const emoji = Buffer.from([0xf0, 0x9f, 0x98, 0x80]);
    const latin = Buffer.from([0xff]);
    info.set(emoji, "emoji").set(fffd, "replacement").set(latin, 255);
    const parsed = parseTorrent(torrentBytes(info), OPTIONS);
    expectStoredInfo(parsed, rewritten(info));
    const keys = dictEntries(valueBytes(parsed.metainfo, "info")).map((e) => e.key);
    const tail = keys.slice(-3).map(hex);
    // UTF-16 order would put the emoji (a surrogate pair) before U+FFFD; raw bytes put EF before F0.
    expect(tail).toEqual([hex(fffd), hex(emoji), hex(latin)]);
  });

  test("a multi-file v1 torrent lists its files in order, relative to the torrent's folder", () => {
    const { info } = buildInfo({ kind: "v1", name: "folder", files: MULTI });
    const parsed = parseTorrent(torrentBytes(info, TOP), OPTIONS);
    expectStoredInfo(parsed, rewritten(info));
    expect(parsed.files).toEqual([
      { path: "a/b.bin", length: 40000 },
      { path: "a/c.txt", length: 5000 },
      { path: "b.txt", length: 20000 },
      { path: "empty", length: 0 },
    ]);
    expect(parsed.size).toBe(65000);
    expect(parsed.name).toBe("folder");
  });

  test("BEP 47 padding files count for pieces but not for the size or the file list", () => {
    const { info } = buildInfo({ kind: "v1", name: "folder", files: MULTI, padding: true });
    const list = info.get("files") as Dict[];
    expect(list.some((f) => f.get("attr") === "p")).toBe(true);
    const parsed = parseTorrent(torrentBytes(info), OPTIONS);
    expect(parsed.files.map((f) => f.path)).toEqual(["a/b.bin", "a/c.txt", "b.txt", "empty"]);
    expect(parsed.size).toBe(65000);
    expectStoredInfo(parsed, rewritten(info));
  });

  test("name.utf-8 and path.utf-8 are preferred for display", () => {
    const { info } = buildInfo({
      kind: "v1",
      name: "plain",
      files: [{ path: ["x"], data: content(100, 1) }],
    });
    info.set("name", Buffer.from([0x63, 0x61, 0x66, 0xe9])); // "café" in Latin-1: not UTF-8
    info.set("name.utf-8", "café");
    (info.get("files") as Dict[])[0]!.set("path.utf-8", ["ünï"]);
    const parsed = parseTorrent(torrentBytes(info), OPTIONS);
    expect(parsed.name).toBe("café");
    expect(parsed.files).toEqual([{ path: "ünï", length: 100 }]);
  });

  test("a v2-only torrent: both hashes, files from the file tree, piece layers kept", () => {
    const { info, pieceLayers } = buildInfo({ kind: "v2", name: "folder", files: MULTI });
    expect(info.get("pieces")).toBeUndefined();
    const upload = torrentBytes(info, TOP, pieceLayers);
    const parsed = parseTorrent(upload, OPTIONS);
    const expected = rewritten(info);
    expectStoredInfo(parsed, expected);
    expect(hex(parsed.infoHashV2!)).toBe(hex(sha256(be(expected))));
    expect(parsed.files.map((f) => f.path)).toEqual(["a/b.bin", "a/c.txt", "b.txt", "empty"]);
    expect(parsed.size).toBe(65000);
    expect(hex(valueBytes(parsed.metainfo, "piece layers"))).toBe(hex(be(pieceLayers!)));
    expect(topKeys(parsed.metainfo)).toEqual([
      "comment",
      "created by",
      "creation date",
      "info",
      "piece layers",
    ]);
  });

  test("a single-file v2 torrent with a 64 KiB piece", () => {
    const data = content(300000, 8);
    const files = [{ path: [], data }];
    const { info, pieceLayers } = buildInfo({ kind: "v2", name: "one.bin", files, pieceLength: 65536 });
    const parsed = parseTorrent(torrentBytes(info, {}, pieceLayers), OPTIONS);
    expect(parsed.files).toEqual([{ path: "one.bin", length: 300000 }]);
    expect(parsed.pieceLength).toBe(65536);
    expect(hex(parsed.infoHashV2!)).toBe(hex(sha256(be(rewritten(info)))));
  });

  test("a hybrid torrent with padding files: one file list, v1 and v2 hashes", () => {
    const { info, pieceLayers } = buildInfo({ kind: "hybrid", name: "folder", files: MULTI });
    const parsed = parseTorrent(torrentBytes(info, TOP, pieceLayers), OPTIONS);
    const expected = rewritten(info);
    expectStoredInfo(parsed, expected);
    expect(hex(parsed.infoHashV2!)).toBe(hex(sha256(be(expected))));
    expect(parsed.files.map((f) => f.path)).toEqual(["a/b.bin", "a/c.txt", "b.txt", "empty"]);
    expect(parsed.size).toBe(65000);
  });

  test("a single-file hybrid torrent", () => {
    const files = [{ path: [], data: content(70000, 11) }];
    const { info, pieceLayers } = buildInfo({ kind: "hybrid", name: "one.bin", files });
    const parsed = parseTorrent(torrentBytes(info, {}, pieceLayers), OPTIONS);
    expect(parsed.files).toEqual([{ path: "one.bin", length: 70000 }]);
    expect(parsed.infoHashV2).not.toBeNull();
  });

  test("piece layers are dropped from a v1 torrent, and mistyped kept keys are dropped", () => {
    const { info } = buildInfo({ kind: "v1", name: "f", files: [{ path: [], data: content(100, 1) }] });
    const parsed = parseTorrent(
      torrentBytes(info, { "piece layers": new Dict(), comment: 5, "creation date": "yesterday" }),
      OPTIONS,
    );
    expect(topKeys(parsed.metainfo)).toEqual(["info"]);
  });
});
