// Behind a reverse proxy every visitor arrives from the proxy's address: the log-in throttle counts
// the address in X-Forwarded-For instead, but only when the proxy is listed in
// webapi.trustedProxies (anyone else could write the header to dodge the throttle).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { frontOptions, webFetch } from "../../src/web/app.tsx";
import { webHarness } from "../helpers/web.ts";

let web: Awaited<ReturnType<typeof webHarness>>;
beforeAll(async () => {
  web = await webHarness();
  await web.member("alice");
});
afterAll(async () => {
  await web?.close();
});

const proxy = { requestIP: () => ({ address: "10.1.2.3" }) };

/** A log-in sent through the front of the server, as from `forwardedFor` via the proxy. */
function login(front: ReturnType<typeof webFetch>, name: string, password: string, forwardedFor: string) {
  return front(
    new Request("http://site.test/login", {
      method: "POST",
      headers: {
        origin: "http://site.test",
        "content-type": "application/x-www-form-urlencoded",
        "x-forwarded-for": forwardedFor,
      },
      body: new URLSearchParams({ name, password }).toString(),
    }),
    proxy,
  );
}

describe("the visitor's address behind a proxy", () => {
  test("a trusted proxy's X-Forwarded-For names the address the throttle counts", async () => {
    const front = webFetch(web.app, { ...frontOptions(web.deps.config), trustedProxies: ["10.1.2.3"] });
    for (let i = 0; i < 20; i++)
      expect((await login(front, `ghost${i}`, "x", "198.51.100.1, 203.0.113.50")).status).toBe(401);
    expect((await login(front, "alice", "password123", "203.0.113.50")).status).toBe(429);
    // Another visitor behind the same proxy is not caught by the first one's failures.
    expect((await login(front, "alice", "password123", "203.0.113.51")).status).toBe(303);
  });

  test("from a peer that is not a trusted proxy, the header changes nothing", async () => {
    const front = webFetch(web.app, frontOptions(web.deps.config));
    // The header names the address throttled above; untrusted, it is ignored and the peer's own
    // address (with no failures) is counted.
    expect((await login(front, "alice", "password123", "203.0.113.50")).status).toBe(303);
  });
});
