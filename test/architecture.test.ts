// The house's shape, read from the code's own imports: every import runs down a layer (or stays in
// its wing), and no two folders import each other, directly or round a circle. See the README's
// "Architecture".
import { expect, test } from "bun:test";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

const ROOT = resolve(import.meta.dir, "..");

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...sources(path));
    else if (/\.tsx?$/.test(name)) out.push(path);
  }
  return out;
}

/** Every file of src/ and views/ with the files of this tree it imports (types included). */
function imports(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of [...sources(join(ROOT, "src")), ...sources(join(ROOT, "views"))]) {
    const text = readFileSync(file, "utf8");
    const targets: string[] = [];
    for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+["'](\.[^"']+)["']/g)) {
      const target = relative(ROOT, resolve(dirname(file), m[1]!));
      if (target.startsWith("src/") || target.startsWith("views/")) targets.push(target);
    }
    graph.set(relative(ROOT, file), targets);
  }
  return graph;
}

/** The wing of a file: `src/<folder>`, `src/<file>` at the top, or `views`. */
function wing(file: string): string {
  if (file.startsWith("views/")) return "views";
  const [, first, second] = file.split("/");
  return second === undefined ? `src/${first}` : `src/${first}`;
}

/** What each wing may import besides itself. */
const MAY_IMPORT: Record<string, readonly string[]> = {
  "src/main.ts": ["*"],
  "src/server.ts": ["*"],
  "src/metrics-server.ts": ["src/bridge", "src/config.ts", "src/db", "src/log.ts", "src/shared"],
  "src/web": [
    "views",
    "src/bridge",
    "src/db",
    "src/shared",
    "src/config.ts",
    "src/log.ts",
    "src/workers.ts",
    "src/tracker",
  ],
  "src/bridge": ["src/db", "src/shared", "src/tracker", "src/config.ts", "src/log.ts", "src/workers.ts"],
  "src/tracker": ["src/shared", "src/config.ts", "src/log.ts"],
  "src/db": ["src/shared", "src/config.ts", "src/log.ts"],
  "src/shared": ["src/log.ts", "src/config.ts"],
  "src/cli": [],
  "src/config.ts": [],
  "src/log.ts": [],
  "src/workers.ts": [],
  views: [],
};

test("every import runs down a layer: the tracker and src/shared hold no database code, the bridge no web code", () => {
  const wrong: string[] = [];
  for (const [file, targets] of imports()) {
    const from = wing(file);
    const allowed = MAY_IMPORT[from];
    if (!allowed) {
      wrong.push(`${file}: no rule for ${from}`);
      continue;
    }
    for (const target of targets) {
      const to = wing(target);
      if (to === from || allowed.includes("*") || allowed.includes(to)) continue;
      wrong.push(`${file} -> ${target}`);
    }
  }
  expect(wrong).toEqual([]);
});

test("the web wing uses the tracker only for its timeouts", () => {
  const wrong: string[] = [];
  for (const [file, targets] of imports())
    if (wing(file) === "src/web")
      for (const target of targets)
        if (wing(target) === "src/tracker" && target !== "src/tracker/timeouts.ts")
          wrong.push(`${file} -> ${target}`);
  expect(wrong).toEqual([]);
});

test("no two folders import each other, directly or round a circle (a folder and its own subfolders aside)", () => {
  const edges = new Map<string, Set<string>>();
  for (const [file, targets] of imports())
    for (const target of targets) {
      const a = dirname(file);
      const b = dirname(target);
      if (a === b || a.startsWith(`${b}/`) || b.startsWith(`${a}/`)) continue;
      if (!edges.has(a)) edges.set(a, new Set());
      edges.get(a)!.add(b);
    }
  // Tarjan's strongly connected components: any with more than one folder is a circle.
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const circles: string[][] = [];
  let next = 0;
  const visit = (v: string) => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of edges.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1) circles.push(component.sort());
    }
  };
  for (const v of edges.keys()) if (!index.has(v)) visit(v);
  expect(circles).toEqual([]);
});
