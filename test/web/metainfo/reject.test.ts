import { describe, expect, test } from "bun:test";
import { MetainfoError, parseTorrent } from "../../../src/web/metainfo.ts";
import { be, buildInfo, content, Dict, type FileSpec, type TV, torrentBytes } from "./fixtures.ts";

const OPTIONS = { source: "FW", maxBytes: 1 << 20 };

const FILES: FileSpec[] = [
  { path: ["a.txt"], data: content(20000, 1) },
  { path: ["b", "c.bin"], data: content(40000, 2) },
];

/** A valid multi-file v1 info dictionary, changed by `edit`. */
function v1(edit: (info: Dict) => void = () => {}): Buffer {
  const { info } = buildInfo({ kind: "v1", name: "folder", files: FILES });
  edit(info);
  return torrentBytes(info);
}

/** A valid single-file v1 info dictionary, changed by `edit`. */
function single(edit: (info: Dict) => void = () => {}): Buffer {
  const { info } = buildInfo({ kind: "v1", name: "one.bin", files: [{ path: [], data: content(40000, 3) }] });
  edit(info);
  return torrentBytes(info);
}

/** The first real file's entry in a v1 file list. */
function firstFile(info: Dict): Dict {
  return (info.get("files") as Dict[])[0]!;
}

/** A valid v2 or hybrid torrent, changed by `edit`; without its piece layers unless `withLayers`. */
function v2(
  kind: "v2" | "hybrid",
  edit: (info: Dict, layers: Dict) => void = () => {},
  withLayers = true,
): Buffer {
  const { info, pieceLayers } = buildInfo({ kind, name: "folder", files: FILES });
  edit(info, pieceLayers!);
  return torrentBytes(info, {}, withLayers ? pieceLayers : null);
}

/** Replaces one exact byte sequence in a bencoded document, to write what the encoder never would. */
function splice(bytes: Buffer, from: string, to: string): Buffer {
  const text = bytes.toString("latin1");
  if (!text.includes(from)) throw new Error(`fixture does not contain ${from}`);
  return Buffer.from(text.replace(from, to), "latin1");
}

function tree(info: Dict): Dict {
  return info.get("file tree") as Dict;
}

interface Case {
  name: string;
  bytes: () => Uint8Array;
  error: RegExp;
  maxBytes?: number;
}

const CASES: Case[] = [
  // Larger than the site's limit: refused before being read at all.
  {
    name: "too large",
    bytes: () => v1((i) => i.set("x", "y".repeat(5000))),
    maxBytes: 4096,
    error: /larger than 4 KiB/,
  },
  // An empty upload.
  { name: "empty file", bytes: () => new Uint8Array(0), error: /empty/ },
  // Plain text, not bencode.
  { name: "not bencode", bytes: () => Buffer.from("hello world"), error: /not a valid \.torrent file/ },
  // A valid torrent followed by junk: lenient decoders ignore it, we refuse it.
  { name: "trailing garbage", bytes: () => Buffer.concat([v1(), Buffer.from("junk")]), error: /extra data/ },
  // Cut off in the middle.
  { name: "truncated", bytes: () => v1().subarray(0, 100), error: /not a valid \.torrent file/ },
  // A string whose length runs past the end of the file.
  { name: "string past the end", bytes: () => Buffer.from("d4:infod4:name99:abcee"), error: /past the end/ },
  // Nesting 1000 deep must give a depth error, not a stack overflow.
  {
    name: "nested 1000 deep",
    bytes: () => Buffer.from(`d4:info${"l".repeat(1000)}${"e".repeat(1000)}e`),
    error: /nested more than 64 deep/,
  },
  // "i03e": a second spelling of 3 would give a second info hash.
  {
    name: "non-canonical integer i03e",
    bytes: () =>
      splice(
        v1((i) => i.set("x", 3)),
        "1:xi3e",
        "1:xi03e",
      ),
    error: /leading zero/,
  },
  // "-0" is not a canonical integer either.
  {
    name: "negative zero",
    bytes: () =>
      splice(
        v1((i) => i.set("x", 0)),
        "1:xi0e",
        "1:xi-0e",
      ),
    error: /"-0"/,
  },
  // A string length with a leading zero.
  { name: "string length 04:", bytes: () => splice(v1(), "4:name", "04:name"), error: /leading zero/ },
  // The same key twice: clients disagree on which copy counts.
  {
    name: "duplicate key",
    bytes: () => splice(v1(), "4:name6:folder", "4:name6:folder4:name5:other"),
    error: /twice/,
  },
  // The top level is a list.
  {
    name: "top level not a dictionary",
    bytes: () => be(["info"]),
    error: /does not start with a dictionary/,
  },
  // No info dictionary at all.
  { name: "missing info", bytes: () => be(new Dict({ announce: "x" })), error: /no info dictionary/ },
  // An info that is a string.
  { name: "info not a dictionary", bytes: () => be(new Dict({ info: "x" })), error: /no info dictionary/ },
  // No name.
  { name: "missing name", bytes: () => v1((i) => i.delete("name")), error: /has no name/ },
  // An empty name.
  { name: "empty name", bytes: () => v1((i) => i.set("name", "")), error: /name is empty/ },
  // A name that climbs out of the download folder.
  { name: "name ..", bytes: () => v1((i) => i.set("name", "..")), error: /name "\.\." is not allowed/ },
  // A name that is not UTF-8 and has no name.utf-8.
  {
    name: "name not UTF-8",
    bytes: () => v1((i) => i.set("name", Buffer.from([0xff, 0xfe]))),
    error: /UTF-8/,
  },
  // No piece length.
  {
    name: "piece length missing",
    bytes: () => v1((i) => i.delete("piece length")),
    error: /no piece length/,
  },
  // Zero is not a positive whole number.
  {
    name: "piece length 0",
    bytes: () => v1((i) => i.set("piece length", 0)),
    error: /positive whole number/,
  },
  // A string is not a number.
  { name: "piece length string", bytes: () => v1((i) => i.set("piece length", "16384")), error: /positive/ },
  // 1000 is neither a power of two nor 16 KiB or more.
  {
    name: "piece length 1000",
    bytes: () => v1((i) => i.set("piece length", 1000)),
    error: /1000 bytes .* power of two/,
  },
  // 8 KiB is a power of two but below BEP 52's 16 KiB floor.
  {
    name: "piece length 8 KiB",
    bytes: () => v1((i) => i.set("piece length", 8192)),
    error: /8 KiB is not allowed/,
  },
  // 128 MiB is above the limit.
  {
    name: "piece length 128 MiB",
    bytes: () => v1((i) => i.set("piece length", 2 ** 27)),
    error: /largest allowed is 64 MiB/,
  },
  // 19 bytes of piece hashes cannot be SHA-1 hashes.
  {
    name: "pieces length 19",
    bytes: () => v1((i) => i.set("pieces", new Uint8Array(19))),
    error: /multiple of 20 bytes; these are 19/,
  },
  // No pieces in a v1 torrent.
  { name: "pieces missing", bytes: () => v1((i) => i.delete("pieces")), error: /no piece hashes/ },
  // One hash too many for the files (60000 bytes at 16 KiB need 4).
  {
    name: "pieces count wrong",
    bytes: () => v1((i) => i.set("pieces", new Uint8Array(100))),
    error: /5 piece hashes but its files need 4/,
  },
  // Single-file length and a file list at once.
  {
    name: "both length and files",
    bytes: () => v1((i) => i.set("length", 5)),
    error: /both a single-file length and a file list/,
  },
  // Neither a length nor a file list.
  {
    name: "neither length nor files",
    bytes: () => v1((i) => i.delete("files")),
    error: /neither a file length nor a file list/,
  },
  // An empty file list.
  { name: "empty file list", bytes: () => v1((i) => i.set("files", [])), error: /file list is empty/ },
  // A file list entry that is not a dictionary.
  {
    name: "file entry not a dict",
    bytes: () => v1((i) => i.set("files", ["a"])),
    error: /File 1 .* not a dictionary/,
  },
  // A path that climbs out with "..".
  {
    name: "path with ..",
    bytes: () => v1((i) => firstFile(i).set("path", ["..", "etc", "passwd"])),
    error: /"\.\." component/,
  },
  // A "." component.
  {
    name: "path with .",
    bytes: () => v1((i) => firstFile(i).set("path", [".", "a"])),
    error: /"\." or "\.\." component/,
  },
  // An empty component ("a//b").
  {
    name: "empty component",
    bytes: () => v1((i) => firstFile(i).set("path", ["a", "", "b"])),
    error: /empty component/,
  },
  // An absolute component "/etc".
  {
    name: "absolute / component",
    bytes: () => v1((i) => firstFile(i).set("path", ["/etc", "x"])),
    error: /contains "\/" or "\\"/,
  },
  // A Windows separator inside a component.
  {
    name: "backslash",
    bytes: () => v1((i) => firstFile(i).set("path", ["a\\..\\b"])),
    error: /contains "\/" or "\\"/,
  },
  // A NUL byte, which truncates the name in C.
  { name: "NUL in component", bytes: () => v1((i) => firstFile(i).set("path", ["a\0b"])), error: /NUL/ },
  // A Windows drive letter.
  {
    name: "drive letter",
    bytes: () => v1((i) => firstFile(i).set("path", ["C:", "x"])),
    error: /drive letter/,
  },
  // An unsafe path.utf-8 is as bad as an unsafe path: clients prefer it.
  {
    name: "unsafe path.utf-8",
    bytes: () => v1((i) => firstFile(i).set("path.utf-8", [".."])),
    error: /"\.\." component/,
  },
  // An empty path list.
  { name: "empty path list", bytes: () => v1((i) => firstFile(i).set("path", [])), error: /has no path/ },
  // A path that is a string, not a list.
  {
    name: "path not a list",
    bytes: () => v1((i) => firstFile(i).set("path", "a.txt")),
    error: /has no path/,
  },
  // A path over 4096 bytes.
  {
    name: "path too long",
    bytes: () => v1((i) => firstFile(i).set("path", Array(30).fill("x".repeat(150)))),
    error: /too long/,
  },
  // More folder levels than any real torrent uses.
  {
    name: "path too deep",
    bytes: () => v1((i) => firstFile(i).set("path", Array(33).fill("x"))),
    error: /33 folders deep/,
  },
  // A negative file length.
  {
    name: "negative length",
    bytes: () => v1((i) => firstFile(i).set("length", -1)),
    error: /not a valid size/,
  },
  // A length beyond 2^53.
  { name: "huge length", bytes: () => single((i) => i.set("length", 2n ** 60n)), error: /not a valid size/ },
  // Two files with one path.
  {
    name: "duplicate path",
    bytes: () => v1((i) => (i.get("files") as Dict[])[1]!.set("path", ["a.txt"])),
    error: /names "a\.txt" twice/,
  },
  // A path used as a file and as a folder.
  {
    name: "file and folder",
    bytes: () => v1((i) => (i.get("files") as Dict[])[1]!.set("path", ["a.txt", "c"])),
    error: /both a file and a folder/,
  },
  // A torrent whose files are all empty.
  {
    name: "0-size",
    bytes: () => single((i) => i.set("length", 0).set("pieces", new Uint8Array(20))),
    error: /contains no data/,
  },
  // Too many files.
  {
    name: "100,001 files",
    bytes: () => v1((i) => i.set("files", Array(100_001).fill(new Dict({ length: 0, path: ["x"] })))),
    maxBytes: 8 << 20,
    error: /100001 files; at most 100000/,
  },
  // A meta version nobody implements.
  {
    name: "meta version 3",
    bytes: () =>
      v2("v2", (i) => {
        i.set("meta version", 3);
      }),
    error: /meta version 3/,
  },
  // A file tree without meta version 2.
  {
    name: "file tree without meta version",
    bytes: () =>
      v2("v2", (i) => {
        i.delete("meta version");
      }),
    error: /no meta version 2/,
  },
  // A v2 torrent with an empty file tree.
  {
    name: "empty file tree",
    bytes: () =>
      v2("v2", (i) => {
        i.set("file tree", new Dict());
      }),
    error: /file tree is empty/,
  },
  // A v2 file whose pieces root is 31 bytes.
  {
    name: "short pieces root",
    bytes: () =>
      v2("v2", (i) => {
        ((tree(i).get("a.txt") as Dict).get("") as Dict).set("pieces root", new Uint8Array(31));
      }),
    error: /32-byte pieces root/,
  },
  // A v2 tree node that is a file and a folder at once.
  {
    name: "v2 file and folder",
    bytes: () =>
      v2("v2", (i) => {
        (tree(i).get("a.txt") as Dict).set("x", new Dict({ "": new Dict({ length: 0 }) }));
      }),
    error: /both a file and a folder/,
  },
  // A v2 path component "..".
  {
    name: "v2 path ..",
    bytes: () =>
      v2("v2", (i) => {
        tree(i).set("..", tree(i).get("a.txt")!);
      }),
    error: /"\.\." component/,
  },
  // A file larger than a piece needs its piece layer.
  {
    name: "missing piece layers",
    bytes: () => v2("v2", () => {}, false),
    error: /missing the piece layers for "a\.txt"/,
  },
  // A piece layer that does not hash to the file's pieces root.
  {
    name: "corrupt piece layer",
    bytes: () =>
      v2("v2", (_, layers) => {
        const [, layer] = layers.entries[0]!;
        (layer as Uint8Array)[0]! ^= 1;
      }),
    error: /do not match the file's pieces root/,
  },
  // A piece layer one hash short.
  {
    name: "short piece layer",
    bytes: () =>
      v2("v2", (_, layers) => {
        layers.entries[0]![1] = (layers.entries[0]![1] as Uint8Array).subarray(32);
      }),
    error: /wrong length/,
  },
  // A hybrid whose v1 list names another file than the v2 tree.
  {
    name: "hybrid lists differ",
    bytes: () =>
      v2("hybrid", (i) => {
        firstFile(i).set("path", ["renamed.txt"]);
      }),
    error: /describe different files/,
  },
  // A hybrid without padding: the second file does not start on a piece boundary.
  {
    name: "hybrid without padding",
    bytes: () =>
      v2("hybrid", (i) => {
        const plain = buildInfo({ kind: "v1", name: "folder", files: FILES }).info;
        i.set("files", plain.get("files") as TV).set("pieces", plain.get("pieces") as TV);
      }),
    error: /"b\/c\.bin" does not start on a piece boundary/,
  },
];

describe("parseTorrent refuses", () => {
  test("every fixture builds a valid torrent before it is broken", () => {
    expect(parseTorrent(v1(), OPTIONS).files.length).toBe(2);
    expect(parseTorrent(single(), OPTIONS).files.length).toBe(1);
    expect(parseTorrent(v2("v2"), OPTIONS).files.length).toBe(2);
    expect(parseTorrent(v2("hybrid"), OPTIONS).files.length).toBe(2);
  });

  test.each(CASES.map((c) => [c.name, c] as const))("%s", (_, c) => {
    let caught: unknown;
    try {
      parseTorrent(c.bytes(), { ...OPTIONS, maxBytes: c.maxBytes ?? OPTIONS.maxBytes });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(MetainfoError);
    expect((caught as Error).message).toMatch(c.error);
  });

  test("an empty source is a programming error, not the uploader's", () => {
    expect(() => parseTorrent(v1(), { source: "", maxBytes: 1 << 20 })).toThrow(TypeError);
  });
});
