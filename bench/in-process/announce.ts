// The tracker's announce path alone, in-process (not a test): the benchmark's members, torrents and
// first N peers (bench/results/data, written by bench/tracker.ts) in a Tracker, each peer announced
// once, then M re-announces of random peers with rising counters, the credit and counts taken once
// per simulated second (25,000 announces) as the Worker does. No HTTP, no database: what is left is
// the announce logic, the swarm store and the credit rows, whose cost the full benchmark hides in
// its noise. Prints the CPU time per announce. To compare two revisions, run it from a worktree of
// each, one after the other, several times:
//   bun bench/in-process/announce.ts [N=100000] [M=2000000]
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { Tracker } from "../../src/tracker/tracker.ts";
import { BENCH_POLICY } from "./policy.ts";

const PEERS = Number(process.argv[2] ?? 100_000);
const ANNOUNCES = Number(process.argv[3] ?? 2_000_000);
const PER_SECOND = 25_000;
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
const tracker = new Tracker(BENCH_POLICY, () => 0.5);
tracker.load(
  passkeys.map((passkey, i) => ({ id: i + 1, passkey, disabled: false })),
  hashes.map((infoHash, i) => ({ id: i + 1, infoHash, infoHashV2: null, snatches: 0 })),
);
const ip = new Uint8Array([127, 0, 0, 1]);
const b = (n: number) => `%${n.toString(16).padStart(2, "0")}`;
const ids = Array.from(
  { length: PEERS },
  (_, i) =>
    `-BM0001-${b((i >>> 24) & 255)}${b((i >>> 16) & 255)}${b((i >>> 8) & 255)}${b(i & 255)}${(Math.imul(i, 0x9e3779b1) >>> 0).toString(16).padStart(8, "0")}`,
);
const uploaded = new Float64Array(PEERS);
const query = (i: number, event: string) =>
  `info_hash=${encoded[torrentOf[i]!]}&peer_id=${ids[i]}&port=${portOf[i]}&uploaded=${uploaded[i]}&downloaded=0&left=${i % 4 === 0 ? 0 : 734003200}${event}&numwant=50&compact=1`;

let now = 1_800_000_000;
for (let i = 0; i < PEERS; i++) {
  const r = tracker.announce(passkeys[i % passkeys.length]!, query(i, "&event=started"), ip, now);
  if (r.outcome !== "ok") throw new Error(`announce ${i}: ${r.outcome}`);
}
tracker.takeDeltas();
tracker.takeCounts();

// xorshift32, fixed seed: every run and revision announces the same peers in the same order.
let state = 0x9e3779b9;
const next = () => {
  state ^= state << 13;
  state ^= state >>> 17;
  state ^= state << 5;
  return (state >>> 0) / 2 ** 32;
};
Bun.gc(true);
const cpu0 = process.cpuUsage();
const t0 = Bun.nanoseconds();
let rows = 0;
for (let n = 0; n < ANNOUNCES; n++) {
  const i = Math.floor(next() * PEERS);
  uploaded[i]! += 16384;
  const r = tracker.announce(passkeys[i % passkeys.length]!, query(i, ""), ip, now);
  if (r.outcome !== "ok") throw new Error(`announce ${i}: ${r.outcome}`);
  if ((n + 1) % PER_SECOND === 0) {
    now++;
    rows += (tracker.takeDeltas()?.deltas.length ?? 0) > 0 ? 1 : 0;
    tracker.takeCounts();
  }
}
const cpu = process.cpuUsage(cpu0);
const wall = (Bun.nanoseconds() - t0) / 1e9;
const cpuSeconds = (cpu.user + cpu.system) / 1e6;
console.log(
  `${ANNOUNCES} announces over ${PEERS} peers: ${((cpuSeconds / ANNOUNCES) * 1e6).toFixed(3)} µs CPU each ` +
    `(${((wall / ANNOUNCES) * 1e6).toFixed(3)} µs wall), ${rows} credit batches`,
);
