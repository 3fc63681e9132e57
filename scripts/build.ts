// Builds dist/fairywren: one executable carrying the code, the migrations, the views, htmx and
// PGlite's WebAssembly and file-system bundle.
import { rmSync } from "node:fs";
import { WORKER_ENTRY_POINTS } from "../src/workers.ts";

rmSync("dist", { recursive: true, force: true });
const result = await Bun.build({
  // Every Worker entry point must be named here, or the compiled binary cannot start it.
  entrypoints: [
    "./src/main.ts",
    ...Object.values(WORKER_ENTRY_POINTS).map((path) => `./src/${path.slice(2)}`),
  ],
  compile: { outfile: "./dist/fairywren" },
  minify: true,
  sourcemap: "linked",
  target: "bun",
});
if (!result.success) {
  for (const message of result.logs) console.error(message);
  process.exit(1);
}
console.log(`built ${result.outputs.map((o) => o.path).join(", ")}`);
