import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { TrackerToWeb } from "../src/shared/channel.ts";
import { startTestServer } from "./helpers/server.ts";

let server: Awaited<ReturnType<typeof startTestServer>>;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.stop();
});

describe("one process, two ports", () => {
  test("the web site and the tracker each answer their health endpoint", async () => {
    const web = await fetch(`${server.web}/health`);
    expect(web.status).toBe(200);
    expect(await web.json()).toEqual({ status: "ok" });
    const tracker = await fetch(`${server.tracker}/health`);
    expect(tracker.status).toBe(200);
    expect(await tracker.json()).toEqual({ status: "ok" });
    expect(server.running.webPort).not.toBe(server.running.trackerPort);
  });

  test("both ports answer an HTTP/1.0 request without a Host header (HAProxy's default check)", async () => {
    for (const base of [server.web, server.tracker]) {
      const port = Number(new URL(base).port);
      const reply = await new Promise<string>((resolve, reject) => {
        let text = "";
        Bun.connect({
          hostname: "127.0.0.1",
          port,
          socket: {
            open: (socket) => void socket.write("GET /health HTTP/1.0\r\n\r\n"),
            data: (_socket, data) => {
              text += new TextDecoder().decode(data);
            },
            close: () => resolve(text),
            error: (_socket, error) => reject(error),
          },
        }).catch(reject);
      });
      expect(reply).toStartWith("HTTP/1.1 200");
      expect(reply).toEndWith('{"status":"ok"}');
    }
  });

  test("the channel carries a message each way", async () => {
    const nonce = Math.floor(Math.random() * 1e9);
    const reply = new Promise<TrackerToWeb>((resolve) => {
      server.running.channel.onMessage((message) => {
        if (message.kind === "pong") resolve(message);
      });
    });
    server.running.channel.send({ kind: "ping", nonce });
    expect(await reply).toEqual({ kind: "pong", nonce });
  });
});
