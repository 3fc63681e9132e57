import { describe, expect, test } from "bun:test";
import bencode from "bencode";
import { MetainfoError, parseTorrent, personalise } from "../../../src/web/metainfo.ts";
import { downloadLength } from "../../../src/web/torrents/rss.ts";
import { be, buildInfo, content, Dict, dictEntries, sha1, torrentBytes, valueBytes } from "./fixtures.ts";

const OPTIONS = { source: "FW", maxBytes: 1 << 20 };
const ANNOUNCE = "https://tracker.example/announce/0123456789abcdef";
const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");
const keys = (b: Uint8Array): string[] => dictEntries(b).map((e) => hex(e.key));

/** Top-level strings decoded by the npm package (its "utf8" option breaks on dictionary keys in v4). */
function npmDecode(b: Uint8Array): Record<string, unknown> {
  const out = bencode.decode(b) as Record<string, unknown>;
  for (const [k, v] of Object.entries(out)) if (v instanceof Uint8Array) out[k] = new TextDecoder().decode(v);
  return out;
}

function sortedHex(list: string[]): string[] {
  return [...list].sort((a, b) => Buffer.compare(Buffer.from(a, "hex"), Buffer.from(b, "hex")));
}

function stored(): { metainfo: Buffer; infoHash: Buffer } {
  const { info, pieceLayers } = buildInfo({
    kind: "hybrid",
    name: "folder",
    files: [
      { path: ["a"], data: content(30000, 1) },
      { path: ["b"], data: content(100, 2) },
    ],
  });
  return parseTorrent(torrentBytes(info, { comment: "original", "created by": "x" }, pieceLayers), OPTIONS);
}

describe("personalise", () => {
  test("adds the announce URL and leaves the info bytes untouched", () => {
    const { metainfo, infoHash } = stored();
    const out = personalise(metainfo, ANNOUNCE);
    expect(hex(valueBytes(out, "info"))).toBe(hex(valueBytes(metainfo, "info")));
    expect(hex(sha1(valueBytes(out, "info")))).toBe(hex(infoHash));
    expect(dictEntries(out).map((e) => e.key.toString())).toEqual([
      "announce",
      "comment",
      "created by",
      "info",
      "piece layers",
    ]);
    const decoded = npmDecode(out);
    expect(decoded.announce).toBe(ANNOUNCE);
    expect(decoded.comment).toBe("original");
  });

  test("several URLs: the first in announce, each in a tier of its own in announce-list", () => {
    const { metainfo, infoHash } = stored();
    const udp = "udp://tracker.example:6881/0123456789abcdef0123456789abcdef/announce";
    const out = personalise(metainfo, [ANNOUNCE, udp]);
    expect(hex(sha1(valueBytes(out, "info")))).toBe(hex(infoHash));
    const decoded = npmDecode(out);
    expect(decoded.announce).toBe(ANNOUNCE);
    const tiers = decoded["announce-list"] as Uint8Array[][];
    expect(tiers.map((tier) => tier.map((url) => new TextDecoder().decode(url)))).toEqual([
      [ANNOUNCE],
      [udp],
    ]);
    expect(downloadLength(metainfo.length, [ANNOUNCE, udp])).toBe(out.length);
    expect(downloadLength(metainfo.length, ANNOUNCE)).toBe(personalise(metainfo, ANNOUNCE).length);
  });

  test("the personalised torrent parses back to the same torrent", () => {
    const first = stored();
    const again = parseTorrent(personalise(first.metainfo, ANNOUNCE), OPTIONS);
    expect(again.changed).toBe(false);
    expect(hex(again.infoHash)).toBe(hex(first.infoHash));
    expect(hex(again.metainfo)).toBe(hex(first.metainfo));
  });

  test("replaces the comment when given one, dropping comment.utf-8", () => {
    const { info } = buildInfo({ kind: "v1", name: "f", files: [{ path: [], data: content(10, 1) }] });
    const metainfo = torrentBytes(info, { comment: "old", "comment.utf-8": "old" });
    const out = personalise(metainfo, ANNOUNCE, "Downloaded from Fairywren — enjoy");
    const decoded = npmDecode(out);
    expect(decoded.comment).toBe("Downloaded from Fairywren — enjoy");
    expect(decoded["comment.utf-8"]).toBeUndefined();
  });

  test("replaces an existing announce and removes announce-list", () => {
    const { info } = buildInfo({ kind: "v1", name: "f", files: [{ path: [], data: content(10, 1) }] });
    const metainfo = torrentBytes(info, { announce: "http://old/", "announce-list": [["http://old/"]] });
    const decoded = npmDecode(personalise(metainfo, ANNOUNCE));
    expect(decoded.announce).toBe(ANNOUNCE);
    expect(decoded["announce-list"]).toBeUndefined();
  });

  test("sorts keys by raw bytes, not as UTF-16 text", () => {
    const { info } = buildInfo({ kind: "v1", name: "f", files: [{ path: [], data: content(10, 1) }] });
    const fffd = Buffer.from([0xef, 0xbf, 0xbd]);
    const emoji = Buffer.from([0xf0, 0x9f, 0x98, 0x80]);
    const metainfo = be(
      new Dict([
        [emoji, 1],
        [fffd, 2],
        ["info", info],
        [Buffer.from([0x80]), 3],
      ]),
    );
    const out = personalise(metainfo, ANNOUNCE);
    const order = keys(out);
    expect(order).toEqual(sortedHex(order));
    expect(order).toEqual([
      hex(Buffer.from("announce")),
      hex(Buffer.from("info")),
      "80",
      hex(fffd),
      hex(emoji),
    ]);

    // Why the module has its own encoder: the npm package puts the emoji first.
    const npm = Buffer.from(bencode.encode({ "\u{1F600}": 1, "\uFFFD": 2 }));
    expect(hex(npm).indexOf(hex(emoji))).toBeLessThan(hex(npm).indexOf(hex(fffd)));
  });

  test("copies a non-canonical info dictionary as it is", () => {
    const { info } = buildInfo({ kind: "v1", name: "f", files: [{ path: [], data: content(10, 1) }] });
    info.entries.reverse();
    info.unsorted = true;
    const metainfo = torrentBytes(info);
    const out = personalise(metainfo, ANNOUNCE);
    expect(hex(valueBytes(out, "info"))).toBe(hex(be(info)));
  });

  test("refuses something that is not a torrent", () => {
    expect(() => personalise(Buffer.from("d3:fooi1ee"), ANNOUNCE)).toThrow(MetainfoError);
    expect(() => personalise(Buffer.from("nonsense"), ANNOUNCE)).toThrow(MetainfoError);
  });
});
