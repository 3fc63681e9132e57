// Where the tracker's memory per peer goes (not a test): loads the benchmark's members and torrents
// into a Tracker, reads RSS, announces the first N peers of bench/results/data/peers.txt in-process,
// and reads RSS again, before and after a full garbage collection, next to the swarm store's own
// typed arrays. Usage: bun bench/in-process/memory.ts [N] [--no-user-scan]   (after bench/tracker.ts has
// written the data). --no-user-scan replaces SwarmStore.peersOfUser (an O(swarm) walk on every new
// peer) by a stub, to show what that walk costs a warm-up.
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { Tracker } from "../../src/tracker/tracker.ts";
import { BENCH_POLICY } from "./policy.ts";

const PEERS = Number(process.argv[2] ?? 1_000_000);
const DATA = resolve(import.meta.dir, "..", "results", "data");
const hashes = readFileSync(join(DATA, "hashes.txt"), "utf8").trim().split("\n");
const passkeys = readFileSync(join(DATA, "passkeys.txt"), "utf8").trim().split("\n");
const torrentOf = new Int32Array(PEERS);
const portOf = new Int32Array(PEERS);
{
  const lines = readFileSync(join(DATA, "peers.txt"), "utf8").split("\n", PEERS);
  for (let i = 0; i < PEERS; i++) {
    const [t, port] = lines[i]!.split(" ");
    torrentOf[i] = Number(t) - 1;
    portOf[i] = Number(port);
  }
}
const UNRESERVED = /[A-Za-z0-9\-._~]/;
const encoded = hashes.map((hex) => {
  let out = "";
  for (let k = 0; k < hex.length; k += 2) {
    const ch = String.fromCharCode(Number.parseInt(hex.slice(k, k + 2), 16));
    out += UNRESERVED.test(ch) ? ch : `%${hex.slice(k, k + 2)}`;
  }
  return out;
});
const tracker = new Tracker(BENCH_POLICY);
tracker.load(
  passkeys.map((passkey, i) => ({ id: i + 1, passkey, disabled: false })),
  hashes.map((infoHash, i) => ({ id: i + 1, infoHash, infoHashV2: null, snatches: 0 })),
);
if (process.argv.includes("--no-user-scan")) tracker.swarms.peersOfUser = () => 0;
const mib = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;
const rss = () => process.memoryUsage().rss;
Bun.gc(true);
const empty = rss();
const ip = new Uint8Array([127, 0, 0, 1]);
const b = (n: number) => `%${n.toString(16).padStart(2, "0")}`;
const t0 = Bun.nanoseconds();
for (let i = 0; i < PEERS; i++) {
  const id = `-BM0001-${b((i >>> 24) & 255)}${b((i >>> 16) & 255)}${b((i >>> 8) & 255)}${b(i & 255)}${(Math.imul(i, 0x9e3779b1) >>> 0).toString(16).padStart(8, "0")}`;
  const left = i % 4 === 0 ? 0 : 734003200;
  const query = `info_hash=${encoded[torrentOf[i]!]}&peer_id=${id}&port=${portOf[i]}&uploaded=0&downloaded=0&left=${left}&event=started&numwant=50&compact=1`;
  const r = tracker.announce(passkeys[i % passkeys.length]!, query, ip, 1000);
  if (r.outcome !== "ok") throw new Error(`announce ${i}: ${r.outcome}`);
  if ((i + 1) % 250_000 === 0)
    console.log(
      `${i + 1} peers: ${((Bun.nanoseconds() - t0) / (i + 1) / 1000).toFixed(1)} µs per announce so far`,
    );
}
const loaded = rss();
Bun.gc(true);
const collected = rss();
const store = tracker.swarms.memoryBytes();
console.log(`RSS empty ${mib(empty)}; with ${PEERS} peers ${mib(loaded)}; after a full GC ${mib(collected)}`);
console.log(
  `per peer: ${((loaded - empty) / PEERS).toFixed(1)} B before GC, ${((collected - empty) / PEERS).toFixed(1)} B after;` +
    ` swarm typed arrays ${(store / PEERS).toFixed(1)} B`,
);
