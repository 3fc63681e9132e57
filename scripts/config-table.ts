// Prints the README's configuration table from the keys' own documentation:
//   bun scripts/config-table.ts
import { CONFIG_KEYS } from "../src/config.ts";

console.log("| key | environment | default | meaning |");
console.log("| --- | --- | --- | --- |");
for (const spec of CONFIG_KEYS) {
  const value = spec.default === null ? "unset" : `\`${JSON.stringify(spec.default)}\``;
  console.log(`| \`${spec.key}\` | \`${spec.env}\` | ${value} | ${spec.doc} |`);
}
