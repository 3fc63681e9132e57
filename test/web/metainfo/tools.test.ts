/**
 * Torrents made by real tools, when the tools are installed (Debian: `apt-get install mktorrent
 * transmission-cli`); skipped otherwise.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseTorrent } from "../../../src/web/metainfo.ts";
import { needsPrograms, skipUnless } from "../../helpers/skip.ts";
import { be, buildInfo, content, sha1, valueBytes } from "./fixtures.ts";

const OPTIONS = { source: "FW", maxBytes: 1 << 20 };
const NO_MKTORRENT = skipUnless(Boolean(Bun.which("mktorrent")), needsPrograms(["mktorrent"]));
const NO_TRANSMISSION = skipUnless(
  Boolean(Bun.which("transmission-create")),
  needsPrograms(["transmission-create"]),
);
const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");
const dir = mkdtempSync(join(tmpdir(), "fw-metainfo-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(cmd: string[]): void {
  const result = Bun.spawnSync(cmd, { cwd: dir, stdout: "pipe", stderr: "pipe" });
  if (result.exitCode !== 0) throw new Error(`${cmd[0]} failed: ${result.stderr.toString()}`);
}

/** A folder with three files in two levels, written once per test name. */
function folder(name: string): string {
  const root = join(dir, name);
  mkdirSync(join(root, "sub"), { recursive: true });
  writeFileSync(join(root, "a.txt"), content(70000, 1));
  writeFileSync(join(root, "sub", "b.bin"), content(123456, 2));
  writeFileSync(join(root, "sub", "c"), content(1, 3));
  return root;
}

const FOLDER_FILES = [
  { path: "a.txt", length: 70000 },
  { path: "sub/b.bin", length: 123456 },
  { path: "sub/c", length: 1 },
];

describe.skipIf(NO_MKTORRENT)("mktorrent", () => {
  test("a private single-file torrent with our source keeps its hash, and matches our fixtures", () => {
    const data = content(100000, 7);
    writeFileSync(join(dir, "file.bin"), data);
    const out = join(dir, "single.torrent");
    run([
      "mktorrent",
      "-a",
      "http://t.example/announce",
      "-l",
      "15",
      "-p",
      "-s",
      "FW",
      "-o",
      out,
      "file.bin",
    ]);
    const upload = readFileSync(out);
    const parsed = parseTorrent(upload, OPTIONS);
    expect(parsed.changed).toBe(false);
    expect(hex(parsed.originalInfoHash)).toBe(hex(sha1(valueBytes(upload, "info"))));
    expect(parsed.files).toEqual([{ path: "file.bin", length: 100000 }]);
    expect(parsed.pieceLength).toBe(32768);
    expect(parsed.metainfo.includes("announce")).toBe(false);
    // The test fixtures build byte for byte what mktorrent builds.
    const { info } = buildInfo({
      kind: "v1",
      name: "file.bin",
      files: [{ path: [], data }],
      pieceLength: 32768,
    });
    expect(hex(parsed.infoHash)).toBe(hex(sha1(be(info.set("private", 1).set("source", "FW")))));
  });

  test("a public multi-file torrent gets private and source, so a new hash", () => {
    folder("mk");
    const out = join(dir, "mk.torrent");
    run([
      "mktorrent",
      "-a",
      "http://t.example/announce",
      "-l",
      "16",
      "-w",
      "http://seed.example/",
      "-o",
      out,
      "mk",
    ]);
    const parsed = parseTorrent(readFileSync(out), OPTIONS);
    expect(parsed.changed).toBe(true);
    expect(parsed.name).toBe("mk");
    expect([...parsed.files].sort((a, b) => (a.path < b.path ? -1 : 1))).toEqual(FOLDER_FILES);
    expect(parsed.size).toBe(193457);
    expect(parsed.metainfo.includes("url-list")).toBe(false);
  });
});

describe.skipIf(NO_TRANSMISSION)("transmission-create", () => {
  test("a private multi-file torrent", () => {
    folder("tr");
    const out = join(dir, "tr.torrent");
    run([
      "transmission-create",
      "-p",
      "-s",
      "32",
      "-c",
      "hi",
      "-t",
      "http://t.example/announce",
      "-o",
      out,
      "tr",
    ]);
    const upload = readFileSync(out);
    const parsed = parseTorrent(upload, OPTIONS);
    expect(hex(parsed.originalInfoHash)).toBe(hex(sha1(valueBytes(upload, "info"))));
    expect(parsed.changed).toBe(true);
    expect(parsed.pieceLength).toBe(32768);
    expect([...parsed.files].sort((a, b) => (a.path < b.path ? -1 : 1))).toEqual(FOLDER_FILES);
    expect(parsed.metainfo.includes("7:comment2:hi")).toBe(true);
  });

  test("a single-file torrent", () => {
    writeFileSync(join(dir, "one.iso"), content(50000, 9));
    const out = join(dir, "one.torrent");
    run(["transmission-create", "-s", "16", "-o", out, "one.iso"]);
    const parsed = parseTorrent(readFileSync(out), OPTIONS);
    expect(parsed.files).toEqual([{ path: "one.iso", length: 50000 }]);
  });
});
