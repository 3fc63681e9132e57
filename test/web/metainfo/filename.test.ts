import { describe, expect, test } from "bun:test";
import { safeFileName } from "../../../src/web/metainfo.ts";

describe("safeFileName", () => {
  test.each([
    // A plain title gets the extension.
    ["Ubuntu 24.04 Desktop", "Ubuntu 24.04 Desktop.torrent"],
    // Quotes would end the quoted-string of Content-Disposition.
    ["He said \"hi\" and 'bye'", "He said _hi_ and _bye.torrent"],
    // Separators must not make a path.
    ["../../etc/passwd", "etc_passwd.torrent"],
    ["a\\b/c", "a_b_c.torrent"],
    // Control characters, CR/LF (header injection) included.
    ["evil\r\nSet-Cookie: x=1", "evil_Set-Cookie_ x_1.torrent"],
    // Accents are kept as their base letters.
    ["Café Ünïcödé", "Cafe Unicode.torrent"],
    // Scripts with no ASCII form leave nothing: the fallback.
    ["日本語", "download.torrent"],
    ["", "download.torrent"],
    ["   ...   ", "download.torrent"],
    // A title that already ends in .torrent does not get it twice.
    ["show.TORRENT", "show.torrent"],
    // Windows refuses device names whatever the extension.
    ["CON", "_CON.torrent"],
    ["nul.txt", "_nul.txt.torrent"],
    // Semicolons and percent signs mean something in the header.
    ["a;b%20c", "a_b_20c.torrent"],
  ])("%p becomes %p", (title, expected) => {
    expect(safeFileName(title)).toBe(expected);
  });

  test("very long titles are cut to 150 characters, extension included", () => {
    const name = safeFileName(`${"x".repeat(500)}!`);
    expect(name.length).toBe(150);
    expect(name.endsWith("x.torrent")).toBe(true);
  });

  test("a cut does not leave a trailing space or dot before the extension", () => {
    const name = safeFileName(`${"y".repeat(141)} .z`);
    expect(name).toBe(`${"y".repeat(141)}.torrent`);
  });

  test("the result is always printable ASCII without quotes or separators", () => {
    for (const title of ["\u0000\u001f\u007f", "🎬 Film (2024) [1080p]", "tab\there", "a\u202Eb"]) {
      const name = safeFileName(title);
      expect(name).toMatch(/^[A-Za-z0-9 ._\-()[\]+,!&]+\.torrent$/);
      expect(name.length).toBeLessThanOrEqual(150);
    }
  });
});
