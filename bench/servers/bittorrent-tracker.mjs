// bittorrent-tracker (npm) as an HTTP-only tracker: no UDP, no WebSocket, no stats page.
// Usage: node bench/servers/bittorrent-tracker.mjs PORT   (needs bench/.deps, see bench/tracker.sh)
const port = Number(process.argv[2] ?? 17071);
// Its package exports ESM only; the server module needs none of the client's WebRTC dependencies.
const { default: Server } = await import(
  new URL("../.deps/node_modules/bittorrent-tracker/server.js", import.meta.url).href
);
const server = new Server({
  udp: false,
  ws: false,
  http: true,
  stats: false,
  trustProxy: false,
  // Keep every peer of the benchmark's population (the default LRU holds 1000 per swarm) and none
  // expire during the run.
  peersCacheLength: 1_000_000,
  peersCacheTtl: 3_600_000,
});
server.on("error", (error) => console.error(error.message));
server.on("warning", () => {});
server.listen(port, "127.0.0.1", () => console.log(`bittorrent-tracker listening on ${port}`));
