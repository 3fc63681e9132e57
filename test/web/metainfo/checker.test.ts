// The upload checker: parseTorrent on a worker thread, one file at a time, with a queue and a
// deadline. Real workers throughout.
import { afterAll, describe, expect, test } from "bun:test";
import { MetainfoError, parseTorrent } from "../../../src/web/metainfo.ts";
import { MetainfoChecker } from "../../../src/web/metainfo-pool.ts";
import { buildInfo, content, torrentBytes } from "./fixtures.ts";

const OPTIONS = { source: "Wren", maxBytes: 10 * 1024 * 1024 };
const checkers: MetainfoChecker[] = [];
afterAll(() => {
  for (const checker of checkers) checker.close();
});

function checker(settings: ConstructorParameters<typeof MetainfoChecker>[0] = {}): MetainfoChecker {
  const made = new MetainfoChecker(settings);
  checkers.push(made);
  return made;
}

function validTorrent(name: string): Buffer {
  const { info, pieceLayers } = buildInfo({
    kind: "hybrid",
    name,
    files: [
      { path: ["one"], data: content(50000, 7) },
      { path: ["two"], data: content(3000, 8) },
    ],
  });
  return torrentBytes(info, { announce: "http://elsewhere.example/a" }, pieceLayers);
}

/** Just under the value limit, so every value is decoded: the slowest file the checker takes. */
function slowTorrent(): Buffer {
  return Buffer.from(`d4:infod5:filesl${"0:".repeat(1_999_000)}e4:name1:aee`, "latin1");
}

describe("the upload checker", () => {
  test("gives what parseTorrent gives, as Buffers", async () => {
    const bytes = validTorrent("checked");
    const expected = parseTorrent(bytes, OPTIONS);
    const got = await checker().parse(new Uint8Array(bytes), OPTIONS);
    expect(Buffer.isBuffer(got.infoHash) && Buffer.isBuffer(got.metainfo)).toBe(true);
    expect(got.infoHash.equals(expected.infoHash)).toBe(true);
    expect(got.infoHashV2!.equals(expected.infoHashV2!)).toBe(true);
    expect(got.originalInfoHash.equals(expected.originalInfoHash)).toBe(true);
    expect(got.metainfo.equals(expected.metainfo)).toBe(true);
    expect({ ...got, infoHash: 0, infoHashV2: 0, originalInfoHash: 0, metainfo: 0 }).toEqual({
      ...expected,
      infoHash: 0,
      infoHashV2: 0,
      originalInfoHash: 0,
      metainfo: 0,
    });
  });

  test("refuses what parseTorrent refuses, with its message", async () => {
    const bytes = Buffer.from("d4:infod4:name1:aee");
    const promise = checker().parse(bytes, OPTIONS);
    await expect(promise).rejects.toBeInstanceOf(MetainfoError);
    await expect(promise).rejects.toThrow("The torrent has no piece length.");
  });

  test("checks files in turn: every one of several at once is answered", async () => {
    const one = checker();
    const names = ["a", "b", "c", "d", "e"];
    const results = await Promise.all(names.map((n) => one.parse(validTorrent(`turn-${n}`), OPTIONS)));
    expect(results.map((r) => r.name)).toEqual(names.map((n) => `turn-${n}`));
    expect(one.started).toBe(names.length);
    expect(one.finished).toBe(names.length);
  });

  test("a file still being checked at its deadline is refused, and the next file is checked", async () => {
    const strict = checker({ deadlineMs: 30 });
    const slow = strict.parse(slowTorrent(), OPTIONS);
    await expect(slow).rejects.toThrow("Checking this file took longer than 0.03 s: it is too complex.");
    expect(strict.busy).toBe(false);
    // The busy worker was replaced: a new one checks the next file.
    strict.settings.deadlineMs = 30_000;
    const after = await strict.parse(validTorrent("after the deadline"), OPTIONS);
    expect(after.name).toBe("after the deadline");
  });

  test("beyond the waiting room, files are refused as busy", async () => {
    const small = checker({ maxWaiting: 1 });
    const first = small.parse(slowTorrent(), OPTIONS);
    const second = small.parse(validTorrent("waits"), OPTIONS);
    const third = small.parse(validTorrent("refused"), OPTIONS);
    await expect(third).rejects.toThrow("The site is checking many uploads at once: try again in a minute.");
    await expect(first).rejects.toThrow("The torrent has no piece length.");
    expect((await second).name).toBe("waits");
  });
});
