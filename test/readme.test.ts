import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import pkg from "../package.json";
import { CONFIG_KEYS } from "../src/config.ts";
import { needsPrograms, skipUnless } from "./helpers/skip.ts";

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

const benchReadme = readFileSync(join(import.meta.dir, "../bench/README.md"), "utf8");

test("every npm script the READMEs name exists", () => {
  const scripts = Object.keys(pkg.scripts);
  const named = [...`${readme}\n${benchReadme}`.matchAll(/npm run (?:--silent )?([\w:-]+)/g)].map(
    (m) => m[1]!,
  );
  expect(named).toContain("fairywren");
  for (const name of named) expect(scripts).toContain(name);
});

test("commands that run a file go through npm or npx: after `npm install` Bun is not on PATH", () => {
  const bare = [
    ...`${readme}\n${benchReadme}`.matchAll(/(?<!npx )\bbun (?:--[\w-]+ )*(?:src|bench|scripts|test)\//g),
  ];
  expect(bare.map((m) => m[0])).toEqual([]);
});

test.skipIf(skipUnless(Boolean(Bun.which("npm")), needsPrograms(["npm"])))(
  "the README's command-line form works: npm run fairywren -- <command>",
  async () => {
    expect(readme).toContain("npm run fairywren -- adduser");
    const proc = Bun.spawn(["npm", "run", "--silent", "fairywren", "--", "--version"], {
      cwd: join(import.meta.dir, ".."),
      // What a machine set up with npm alone has on PATH: no Bun.
      env: { PATH: "/usr/local/bin:/usr/bin:/bin", HOME: process.env.HOME ?? "/tmp" },
      stdout: "pipe",
      stderr: "pipe",
    });
    const [stdout, code] = await Promise.all([new Response(proc.stdout).text(), proc.exited]);
    expect({ code, stdout: stdout.trim() }).toEqual({ code: 0, stdout: pkg.version });
  },
);
