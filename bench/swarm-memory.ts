// Memory and speed probe for the swarm store (not a test): 1,000,000 peers over 100,000 torrents
// with Zipf-like popularity, 5% of them IPv6. Run with `bun bench/swarm-memory.ts [peers]`; the
// torrent count is a tenth of the peer count.
import { SwarmStore } from "../src/tracker/swarm.ts";

const PEERS = Number(process.argv[2] ?? 1_000_000);
const TORRENTS = Math.ceil(PEERS / 10);

function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 15), z | 1);
    z ^= z + Math.imul(z ^ (z >>> 7), z | 61);
    return ((z ^ (z >>> 14)) >>> 0) / 4294967296;
  };
}

// Every torrent gets one peer, the rest go by weight 1/rank: the top torrent ends up with ~75k
// peers, rank 1000 with ~75, and most torrents with one to three.
const torrentOf = new Int32Array(PEERS);
{
  let harmonic = 0;
  for (let r = 1; r <= TORRENTS; r++) harmonic += 1 / r;
  const extra = PEERS - TORRENTS;
  let at = 0;
  for (let r = 1; r <= TORRENTS; r++) {
    const n = 1 + Math.floor((extra / harmonic) * (1 / r));
    for (let i = 0; i < n && at < PEERS; i++) torrentOf[at++] = r - 1;
  }
  // Rounding down leaves some peers over: one more each for the most popular torrents.
  for (let t = 0; at < PEERS; t++) torrentOf[at++] = t;
  const rand = seeded(1);
  for (let i = PEERS - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const tmp = torrentOf[i]!;
    torrentOf[i] = torrentOf[j]!;
    torrentOf[j] = tmp;
  }
}

const id = new Uint8Array(20);
id.set(new TextEncoder().encode("-FW0001-"));
const ip4 = new Uint8Array(4);
const ip6 = new Uint8Array(16);
ip6[0] = 0x20;
ip6[1] = 0x01;

/** Writes peer i's id and address into the shared buffers; returns the address to use. */
function peer(i: number): Uint8Array {
  id[8] = i;
  id[9] = i >>> 8;
  id[10] = i >>> 16;
  id[11] = i >>> 24;
  let z = Math.imul(i ^ 0x5bd1e995, 0x9e3779b1);
  for (let b = 12; b < 20; b++) {
    z = Math.imul(z ^ (z >>> 13), 0x85ebca6b);
    id[b] = 0x30 + ((z >>> 24) % 75);
  }
  if (i % 20 === 0) {
    ip6[12] = i >>> 24;
    ip6[13] = i >>> 16;
    ip6[14] = i >>> 8;
    ip6[15] = i;
    return ip6;
  }
  ip4[0] = 10 + (i >>> 24);
  ip4[1] = i >>> 16;
  ip4[2] = i >>> 8;
  ip4[3] = i;
  return ip4;
}

function rss(): number {
  Bun.gc(true);
  return process.memoryUsage().rss;
}

const rssBefore = rss();
const store = new SwarmStore();
let started = Bun.nanoseconds();
for (let i = 0; i < PEERS; i++) {
  store.put(torrentOf[i]!, id, 1 + (i % 5000), peer(i), 6881, i % 3 === 0, 0, 0, 1000);
}
const insertNs = (Bun.nanoseconds() - started) / PEERS;
const rssAfter = rss();
if (store.size !== PEERS) throw new Error(`expected ${PEERS} peers, have ${store.size}`);

const fields = store as unknown as Record<string, unknown>;
const parts: string[] = [];
const counted = new Set<ArrayBufferLike>();
for (const [name, value] of Object.entries(fields)) {
  if (ArrayBuffer.isView(value) && value.byteLength > 65_536 && !counted.has(value.buffer)) {
    counted.add(value.buffer);
    parts.push(`${name} ${(value.byteLength / PEERS).toFixed(2)}`);
  }
}
console.log(`peers ${store.size}, torrents ${TORRENTS}, top torrent ${store.peerCount(0)} peers`);
console.log(`typed arrays: ${(store.memoryBytes() / PEERS).toFixed(1)} bytes/peer (${parts.join(", ")})`);
console.log(`RSS growth:   ${((rssAfter - rssBefore) / PEERS).toFixed(1)} bytes/peer`);
console.log(`insert:       ${insertNs.toFixed(0)} ns/op (with growth)`);

// Updates of existing peers, in the same shuffled order; the id generation is timed on its own.
started = Bun.nanoseconds();
let sink = 0;
for (let i = 0; i < PEERS; i++) sink += peer(i).length + torrentOf[i]!;
const genNs = (Bun.nanoseconds() - started) / PEERS;
for (let round = 0; round < 3; round++) {
  started = Bun.nanoseconds();
  for (let i = 0; i < PEERS; i++) {
    sink += store.put(torrentOf[i]!, id, 1 + (i % 5000), peer(i), 6881, i % 3 === 0, i, i, 2000 + round);
  }
  const updateNs = (Bun.nanoseconds() - started) / PEERS;
  console.log(
    `update:       ${updateNs.toFixed(0)} ns/op including ${genNs.toFixed(0)} ns of id generation` +
      ` (round ${round + 1})`,
  );
}

started = Bun.nanoseconds();
for (let i = 0; i < PEERS; i++) {
  peer(i);
  sink += store.find(torrentOf[i]!, id);
}
console.log(`find:         ${((Bun.nanoseconds() - started) / PEERS).toFixed(0)} ns/op (with generation)`);

const out4 = new Uint8Array(6 * 50);
const out6 = new Uint8Array(18 * 50);
const rand = seeded(2);
started = Bun.nanoseconds();
for (let i = 0; i < PEERS; i++) {
  store.selectCompact(torrentOf[i]!, i, i % 3 === 0, 50, out4, out6, rand);
  sink += store.selected4;
}
console.log(
  `select 50:    ${((Bun.nanoseconds() - started) / PEERS).toFixed(0)} ns/op (popularity-weighted)`,
);

started = Bun.nanoseconds();
const reaped = store.reap(2002);
console.log(
  `reap scan:    ${((Bun.nanoseconds() - started) / 1e6).toFixed(1)} ms, ${reaped} stale of ${PEERS}`,
);
if (sink === 0.5) console.log(sink);
