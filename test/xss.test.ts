import { expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { join } from "node:path";

const root = join(import.meta.dir, "..");

test("xss-scan finds no unescaped user content in any view or route", () => {
  const files = [
    ...readdirSync(join(root, "views")).map((f) => join("views", f)),
    ...readdirSync(join(root, "src/web")).map((f) => join("src/web", f)),
  ].filter((f) => f.endsWith(".tsx"));
  expect(files.length).toBeGreaterThan(5);
  const result = Bun.spawnSync([join(root, "node_modules/.bin/xss-scan"), "-s", ...files], { cwd: root });
  const output = result.stdout.toString() + result.stderr.toString();
  expect(output).not.toMatch(/K60\d/);
  expect(result.exitCode).toBe(0);
}, 60_000);
