import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { CONFIG_KEYS } from "../src/config.ts";

// Table columns are padded by the formatter: compare with runs of spaces folded.
const readme = readFileSync(join(import.meta.dir, "../README.md"), "utf8").replace(/ +/g, " ");

test("the README documents every configuration key with its variable and default", () => {
  for (const spec of CONFIG_KEYS) {
    const value = spec.default === null ? "unset" : `\`${JSON.stringify(spec.default)}\``;
    const row = `| \`${spec.key}\` | \`${spec.env}\` | ${value} | ${spec.doc} |`;
    expect(readme).toContain(row.replace(/ +/g, " "));
  }
});

test("the README's test command is the one CI runs", () => {
  const ci = readFileSync(join(import.meta.dir, "../.ci/run"), "utf8");
  expect(readme).toContain("npm test ");
  expect(ci).toContain("npm test");
  expect(readme).toContain("npm install && npm start");
});
