// The live-counts stream over a real socket, against the whole process: it must outlive the web
// server's 10 s idle timeout, with heartbeats, and still carry counts afterwards.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createUser } from "../../src/db/queries/users.ts";
import { hashPassword, resolvePepper } from "../../src/shared/secrets.ts";
import { startTestServer } from "../helpers/server.ts";

let server: Awaited<ReturnType<typeof startTestServer>>;
let cookie: string;

beforeAll(async () => {
  server = await startTestServer({ FAIRYWREN_LOG_LEVEL: "error" });
  const pepper = resolvePepper(server.config.salt, server.config.dataDir);
  await createUser(server.running.db.sql, {
    name: "watcher",
    passwordHash: await hashPassword("password123", pepper),
  });
  const login = await fetch(`${server.web}/login`, {
    method: "POST",
    body: new URLSearchParams({ name: "watcher", password: "password123" }),
    redirect: "manual",
  });
  expect(login.status).toBe(303);
  cookie = login.headers.get("set-cookie")!.split(";")[0]!;
});
afterAll(async () => {
  await server?.stop();
});

describe("GET /events/counts", () => {
  test("stays open past the server's 10 s idle timeout, with heartbeats, and still carries counts", async () => {
    const controller = new AbortController();
    const response = await fetch(`${server.web}/events/counts?ids=41`, {
      headers: { cookie },
      signal: controller.signal,
    });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toStartWith("text/event-stream");
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    const opened = performance.now();
    let text = "";
    let heartbeats = 0;
    let closed = false;
    try {
      // Read for 13 s: a stream cut by the idle timeout ends (or errors) at about 10 s.
      while (performance.now() - opened < 13_000) {
        const chunk = await reader.read().catch(() => ({ done: true, value: undefined }));
        if (chunk.done) {
          closed = true;
          break;
        }
        text += decoder.decode(chunk.value, { stream: true });
        heartbeats = text.split("\n").filter((line) => line.startsWith(":")).length;
      }
      const secondsOpen = Math.floor((performance.now() - opened) / 1000);
      expect({ closed, secondsOpen: Math.min(secondsOpen, 13) }).toEqual({ closed: false, secondsOpen: 13 });
      expect(heartbeats).toBeGreaterThanOrEqual(2);
      // The same stream still delivers an update.
      server.running.counts.apply([[41, 3, 1, 0]]);
      const deadline = performance.now() + 5000;
      while (!text.includes("event: counts") && performance.now() < deadline) {
        const chunk = await reader.read();
        if (chunk.done) break;
        text += decoder.decode(chunk.value, { stream: true });
      }
      expect(text).toContain(`event: counts\ndata: ${JSON.stringify([[41, 3, 1, 0]])}\n\n`);
    } finally {
      controller.abort();
    }
  }, 30_000);
});
