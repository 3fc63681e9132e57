// Entry point of the tracker Worker: waits for its configuration over the channel, serves the
// tracker on its own port and answers the web side.
import type { Config } from "../config.ts";
import { configureLog, log } from "../log.ts";
import { trackerEnd } from "../shared/channel.ts";
import { listenProblem } from "../shared/listen.ts";
import { createTrackerApp } from "./app.ts";

declare const self: Worker;

const channel = trackerEnd(self as unknown as Parameters<typeof trackerEnd>[0], (data) =>
  log.warn("tracker dropped a message it does not understand", { data: String(data) }),
);
let server: ReturnType<typeof Bun.serve> | null = null;

function start(config: Config): void {
  configureLog(config.logLevel, "tracker");
  const app = createTrackerApp();
  try {
    server = Bun.serve({
      hostname: config.tracker.host,
      port: config.tracker.port,
      fetch: app.fetch,
      error: () => new Response("internal error", { status: 500 }),
    });
  } catch (error) {
    channel.send({ kind: "fatal", message: listenProblem("tracker", config.tracker, error) });
    return;
  }
  log.info("tracker listening", { host: config.tracker.host, port: server.port });
  channel.send({ kind: "ready", port: server.port ?? 0 });
}

channel.onMessage((message) => {
  switch (message.kind) {
    case "init":
      start(message.config as Config);
      break;
    case "ping":
      channel.send({ kind: "pong", nonce: message.nonce });
      break;
    case "shutdown":
      server?.stop(true);
      server = null;
      channel.send({ kind: "stopped" });
      break;
    default:
      break;
  }
});
