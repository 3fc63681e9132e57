// A reverse proxy's path prefix on the tracker's port: `pathDepth` leading segments are skipped, the
// same rule as the web site's (stripPrefix), and a path too short for them is a 404.
import { expect, test } from "bun:test";
import { createTrackerApp } from "../../src/tracker/app.ts";
import { Tracker } from "../../src/tracker/tracker.ts";
import { announceQuery } from "../helpers/announce.ts";
import { decodeStrict } from "../helpers/bdecode.ts";
import { testPolicy } from "../helpers/policy.ts";

const PASSKEY = "a".repeat(32);
const HASH = new Uint8Array(20).fill(7);

test("with pathDepth 2, /x/y/<passkey>/announce is the announce; a shorter path is 404; /health answers", async () => {
  const tracker = new Tracker(testPolicy(), () => 0);
  tracker.load(
    [{ id: 1, passkey: PASSKEY, disabled: false }],
    [{ id: 1, infoHash: Buffer.from(HASH).toString("hex"), infoHashV2: null, snatches: 0 }],
  );
  const app = createTrackerApp(tracker, { pathDepth: 2, trustedProxies: [], now: () => 1_800_000_000 });
  app.listen({ hostname: "127.0.0.1", port: 0 });
  const base = `http://127.0.0.1:${app.server!.port}`;
  const query = announceQuery({
    infoHash: HASH,
    peerId: new TextEncoder().encode("-qB4650-000000000001"),
    left: 0,
  });
  const ok = await fetch(`${base}/x/y/${PASSKEY}/announce?${query}`);
  expect(ok.status).toBe(200);
  const body = decodeStrict(new Uint8Array(await ok.arrayBuffer())) as Map<string, unknown>;
  expect(body.has("failure reason")).toBe(false);
  expect(body.get("complete")).toBe(1);
  // The prefix is not the passkey's: without it the passkey is read from the wrong segment.
  const unprefixed = await fetch(`${base}/${PASSKEY}/announce?${query}`);
  expect(unprefixed.status).toBe(404);
  expect((await fetch(`${base}/x/announce`)).status).toBe(404);
  expect((await fetch(`${base}/health`)).status).toBe(200);
  await app.stop(true);
});
