import { expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { join, relative } from "node:path";

const root = join(import.meta.dir, "..");

/** Every .tsx file under `dir`, at any depth, relative to the project root. */
function tsxFiles(dir: string): string[] {
  return readdirSync(join(root, dir), { recursive: true, encoding: "utf8" })
    .filter((f) => f.endsWith(".tsx"))
    .map((f) => relative(root, join(root, dir, f)));
}

test("xss-scan finds no unescaped user content in any view or route", () => {
  const files = [...tsxFiles("views"), ...tsxFiles("src/web")];
  // Every feature's views and pages are in the scan, not only the top folders.
  for (const expected of ["views/layout/layout.tsx", "views/torrents/list.tsx", "views/api/docs.tsx"])
    expect(files).toContain(expected);
  expect(files.some((f) => f.startsWith("src/web/torrents/"))).toBe(true);
  const result = Bun.spawnSync([join(root, "node_modules/.bin/xss-scan"), "-s", ...files], { cwd: root });
  const output = result.stdout.toString() + result.stderr.toString();
  expect(output).not.toMatch(/K60\d/);
  expect(result.exitCode).toBe(0);
}, 60_000);
