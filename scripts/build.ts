// Builds dist/fairywren: one executable carrying the code, the migrations, the views, htmx and
// PGlite's WebAssembly and file-system bundle.
import { rmSync } from "node:fs";

rmSync("dist", { recursive: true, force: true });
const result = await Bun.build({
  // The Worker's entry point must be named here, or the compiled binary cannot start it.
  entrypoints: ["./src/main.ts", "./src/tracker/worker.ts"],
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
