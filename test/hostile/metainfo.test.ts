// Hostile .torrent files for the upload validator: random bytes, mutated valid torrents, hostile
// nesting and lengths, truncation. The only error allowed out of parseTorrent is MetainfoError, it
// comes quickly, and whatever is accepted is itself a valid, stable torrent.
import { describe, expect, test } from "bun:test";
import {
  MAX_BENCODE_VALUES,
  MetainfoError,
  type ParsedTorrent,
  parseTorrent,
  personalise,
} from "../../src/web/metainfo.ts";
import { decodeStrict } from "../helpers/bdecode.ts";
import { buildInfo, content, torrentBytes } from "../web/metainfo/fixtures.ts";
import { type Rng, seeded } from "./fuzz.ts";

const OPTIONS = { source: "Wren", maxBytes: 10 * 1024 * 1024 };

/** Parses, and fails the test on any throw other than MetainfoError (with a readable message). */
function tryParse(bytes: Uint8Array): ParsedTorrent | MetainfoError {
  try {
    return parseTorrent(bytes, OPTIONS);
  } catch (error) {
    if (error instanceof MetainfoError) {
      expect(error.message.length).toBeGreaterThan(10);
      expect(error.message).not.toMatch(/\.ts:\d+|node_modules|undefined|NaN|\[object /);
      return error;
    }
    throw new Error(`parseTorrent threw ${(error as Error)?.name}: ${(error as Error)?.message}`);
  }
}

/** What an accepted upload must satisfy: sane fields, and the stored file is accepted unchanged. */
function checkAccepted(parsed: ParsedTorrent) {
  expect(parsed.infoHash.length).toBe(20);
  if (parsed.infoHashV2) expect(parsed.infoHashV2.length).toBe(32);
  expect(Number.isSafeInteger(parsed.size) && parsed.size > 0).toBe(true);
  expect(parsed.files.length).toBeGreaterThan(0);
  expect(parsed.name.length).toBeGreaterThan(0);
  const again = parseTorrent(parsed.metainfo, OPTIONS);
  expect(again.infoHash.equals(parsed.infoHash)).toBe(true);
  expect(again.changed).toBe(false);
  expect(again.metainfo.equals(parsed.metainfo)).toBe(true);
  const personal = personalise(parsed.metainfo, "https://t.example/abc/announce");
  const top = decodeStrict(personal) as Map<string, unknown>;
  expect(Buffer.from(top.get("announce") as Uint8Array).toString()).toBe("https://t.example/abc/announce");
}

/** A handful of valid torrents of every kind to mutate. */
function seeds(): Buffer[] {
  const out: Buffer[] = [];
  const single = buildInfo({
    kind: "v1",
    name: "single.iso",
    files: [{ path: [], data: content(40000, 1) }],
  });
  out.push(
    torrentBytes(single.info, {
      announce: "http://x.example/a",
      comment: "hello",
      "creation date": 1700000000,
    }),
  );
  const multi = buildInfo({
    kind: "v1",
    name: "folder",
    files: [
      { path: ["a.txt"], data: content(20000, 2) },
      { path: ["sub", "b.bin"], data: content(17000, 3) },
      { path: ["sub", "c"], data: content(1, 4) },
    ],
    padding: true,
  });
  out.push(torrentBytes(multi.info, { "announce-list": [["http://a.example"], ["http://b.example"]] }));
  const v2 = buildInfo({
    kind: "v2",
    name: "v2dir",
    files: [
      { path: ["x"], data: content(70000, 5) },
      { path: ["y", "z"], data: content(100, 6) },
    ],
  });
  out.push(torrentBytes(v2.info, {}, v2.pieceLayers));
  const hybrid = buildInfo({
    kind: "hybrid",
    name: "hy",
    files: [
      { path: ["one"], data: content(50000, 7) },
      { path: ["two"], data: content(3000, 8) },
    ],
  });
  out.push(torrentBytes(hybrid.info, { "url-list": "http://seed.example/" }, hybrid.pieceLayers));
  return out;
}

const BENCODE_BYTES = "dlie0123456789:-";

function mutate(rng: Rng, input: Uint8Array): Uint8Array {
  const bytes = Array.from(input);
  for (let n = rng.range(1, 4); n > 0; n--) {
    const at = rng.int(bytes.length + 1);
    const byte = () =>
      rng.chance(0.6) ? BENCODE_BYTES.charCodeAt(rng.int(BENCODE_BYTES.length)) : rng.int(256);
    switch (rng.int(7)) {
      case 0:
        if (at < bytes.length) bytes[at] = bytes[at]! ^ (1 << rng.int(8));
        break;
      case 1:
        bytes.splice(at, 0, byte());
        break;
      case 2:
        bytes.splice(at, rng.range(1, 8));
        break;
      case 3:
        if (at < bytes.length) bytes[at] = byte();
        break;
      case 4: {
        // Repeat a slice: duplicated keys, doubled values, nested copies.
        const len = rng.range(1, 40);
        bytes.splice(at, 0, ...bytes.slice(at, at + len));
        break;
      }
      case 5:
        bytes.length = Math.min(bytes.length, at);
        break;
      default: {
        // Replace a length prefix or an integer with a hostile one.
        const text = rng.pick([
          "99999999999",
          "0",
          "00",
          "-1",
          "-0",
          "18446744073709551616",
          "9".repeat(40),
          "",
        ]);
        bytes.splice(at, 0, ...Buffer.from(text));
      }
    }
  }
  return Uint8Array.from(bytes);
}

describe("parseTorrent under hostile input", () => {
  test(
    "random bytes (3000 inputs, plain and bencode-flavoured): only MetainfoError",
    seeded("metainfo random bytes", ({ rng, note }) => {
      for (let i = 0; i < 3000; i++) {
        const n = rng.pick([0, 1, 2, 5, 20, 100, 1000, 5000]);
        let bytes: Uint8Array;
        if (rng.chance(0.5)) bytes = rng.bytes(n);
        else {
          bytes = new Uint8Array(n);
          for (let j = 0; j < n; j++) bytes[j] = BENCODE_BYTES.charCodeAt(rng.int(BENCODE_BYTES.length));
          if (n > 0 && rng.chance(0.5)) bytes[0] = 0x64;
        }
        note(bytes);
        const result = tryParse(bytes);
        if (!(result instanceof MetainfoError)) checkAccepted(result);
      }
    }),
  );

  test(
    "mutated valid torrents (v1, multi-file, v2, hybrid; 4000 mutations): MetainfoError or a valid stored torrent",
    seeded("metainfo mutations", ({ rng, note }) => {
      const originals = seeds();
      for (const original of originals) checkAccepted(parseTorrent(original, OPTIONS));
      let accepted = 0;
      for (let i = 0; i < 4000; i++) {
        const bytes = mutate(rng, rng.pick(originals));
        note(bytes);
        const result = tryParse(bytes);
        if (!(result instanceof MetainfoError)) {
          accepted++;
          checkAccepted(result);
        }
      }
      // Some mutations land in comments and names and keep the torrent valid; most break it.
      expect(accepted).toBeLessThan(4000);
    }),
  );

  test("every truncation of a valid torrent is refused", () => {
    for (const original of seeds()) {
      for (let end = 0; end < original.length; end += original.length > 3000 ? 7 : 1) {
        const result = tryParse(original.subarray(0, end));
        expect(result).toBeInstanceOf(MetainfoError);
      }
    }
  });

  test("100k levels of nesting, in every shape: refused at once, no stack overflow", () => {
    const shapes = [
      "l".repeat(100_000),
      `${"l".repeat(100_000)}${"e".repeat(100_000)}`,
      "d1:a".repeat(100_000),
      `${"d1:a".repeat(100_000)}i0e${"e".repeat(100_000)}`,
      `d4:info${"d1:a".repeat(100_000)}`,
      `d4:infod5:filesl${"l".repeat(100_000)}`,
      `d4:infod9:file treed${"1:ad".repeat(100_000)}`,
      "ld".repeat(50_000),
      `d4:infod4:name1:a${"l".repeat(100_000)}`,
    ];
    for (const shape of shapes) {
      const result = tryParse(Buffer.from(shape, "latin1"));
      expect(result).toBeInstanceOf(MetainfoError);
    }
  });

  test("huge length prefixes and integers: refused without allocating them", () => {
    const cases = [
      "99999999999:",
      "99999999999:abc",
      `${"9".repeat(400)}:x`,
      "d4:info99999999999:",
      "d4:infod4:name99999999999:aee",
      "d99999999999:infoe",
      "d4:infod6:lengthi99999999999999999999999999999999999999ee",
      `d4:infod6:lengthi${"9".repeat(10_000)}eee`,
      `di${"9".repeat(10_000)}e`,
      "d4:infod12:piece lengthi-16384e6:lengthi1e4:name1:a6:pieces20:aaaaaaaaaaaaaaaaaaaaee",
      "d4:infod12:piece lengthi18446744073709551616e6:lengthi1e4:name1:a6:pieces20:aaaaaaaaaaaaaaaaaaaaee",
      "d4:infod12:piece lengthi16384e6:lengthi9007199254740993e4:name1:a6:pieces20:aaaaaaaaaaaaaaaaaaaaee",
      "i-0e",
      "i00e",
      "i+1e",
      "i1.5e",
      "ie",
      "i-e",
      "-1:",
      "01:a",
      ":",
      "e",
      "de",
      "le",
      "d4:infodee",
      "d4:infoi1ee",
      "d4:infod4:infod4:infodeeee",
      "d1:a1:b1:a1:be",
    ];
    for (const text of cases) {
      expect(tryParse(Buffer.from(text, "latin1"))).toBeInstanceOf(MetainfoError);
    }
    // Just over the size limit: refused before reading.
    const big = new Uint8Array(OPTIONS.maxBytes + 1).fill(0x64);
    expect(tryParse(big)).toBeInstanceOf(MetainfoError);
  });

  test("a file list of 100 files with 2000-component paths (0.6 MB) is refused on depth", () => {
    // Every path is under the 4096-byte limit, so each file is valid; the cost must stay
    // proportional to the input. At the 10 MiB upload limit (1600 such files) a quadratic check
    // would hold the web server's only thread for most of a minute.
    const files: string[] = [];
    for (let f = 0; f < 100; f++) {
      const last = `b${f}`;
      files.push(`d6:lengthi1e4:pathl${"1:a".repeat(1999)}${last.length}:${last}ee`);
    }
    const pieces = "x".repeat(20);
    const torrent = Buffer.from(
      `d4:infod5:filesl${files.join("")}e4:name1:n12:piece lengthi16384e6:pieces20:${pieces}ee`,
      "latin1",
    );
    // Refused on depth before any per-folder work, so the cost stays proportional to the input.
    const result = tryParse(torrent);
    expect(result).toBeInstanceOf(MetainfoError);
    expect((result as MetainfoError).message).toContain("2000 folders deep");
  });

  test("a 10 MiB file of millions of tiny values is refused for their number, before decoding them", () => {
    // Each of these once cost about 100 bytes of memory a value: half a gigabyte per upload.
    for (const unit of ["0:", "i0e", "le", "de"]) {
      const count = Math.floor((OPTIONS.maxBytes - 64) / unit.length);
      const bytes = Buffer.from(`d4:infod5:filesl${unit.repeat(count)}e4:name1:aee`, "latin1");
      const result = tryParse(bytes);
      expect(result).toBeInstanceOf(MetainfoError);
      expect((result as MetainfoError).message).toBe(
        "The file holds more than 2,000,000 values (numbers, strings, lists and dictionaries); " +
          "a .torrent may hold at most 2,000,000.",
      );
    }
  });

  test("the value limit counts every value, keys included, exactly", () => {
    // Top dictionary, "info", the info dictionary, "files", the list, "name", "a": 7 values.
    const withValues = (n: number) =>
      Buffer.from(`d4:infod5:filesl${"0:".repeat(n - 7)}e4:name1:aee`, "latin1");
    const atLimit = tryParse(withValues(MAX_BENCODE_VALUES));
    expect((atLimit as MetainfoError).message).toBe("The torrent has no piece length.");
    const overLimit = tryParse(withValues(MAX_BENCODE_VALUES + 1));
    expect((overLimit as MetainfoError).message).toContain("more than 2,000,000 values");
    // Malformed data is reported where it is, not counted past.
    const broken = tryParse(
      Buffer.from(`d4:infod5:filesli1x${"0:".repeat(MAX_BENCODE_VALUES)}eee`, "latin1"),
    );
    expect((broken as MetainfoError).message).toContain("a number contains a non-digit (at byte 18)");
  });
});
