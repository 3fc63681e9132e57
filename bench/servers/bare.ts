// The runtime's floor: Bun.serve answering every request with one fixed bencoded announce reply
// (the size of a 50-peer compact reply). Usage: bun bench/servers/bare.ts PORT
const port = Number(process.argv[2] ?? 17072);
const head =
  "d8:completei10e10:downloadedi0e10:incompletei40e8:intervali1800e12:min intervali900e5:peers300:";
const body = new Uint8Array(head.length + 300 + 1);
for (let i = 0; i < head.length; i++) body[i] = head.charCodeAt(i);
for (let i = 0; i < 300; i++) body[head.length + i] = (i * 7) & 255;
body[body.length - 1] = 0x65;
const headers = { "content-type": "text/plain; charset=utf-8" };
Bun.serve({
  hostname: "127.0.0.1",
  port,
  fetch: () => new Response(body, { headers }),
});
console.log(`bare listening on ${port}`);
