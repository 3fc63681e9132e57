import { Elysia, t } from "elysia";
import type { TorrentCounts } from "../../shared/channel.ts";
import { webContext } from "../context.tsx";
import type { WebDeps } from "../deps.ts";

/** Most torrents one event stream may watch (a page shows at most a few dozen). */
const MAX_WATCHED = 200;
/**
 * A comment line this often keeps the stream open: the web server (Bun.serve) closes a connection
 * after 10 s without traffic, and proxies after their own idle timeouts, so without it every open
 * page would reconnect (and look its session up again) every ten seconds.
 */
const HEARTBEAT_MS = 5_000;

/**
 * Server-sent events with live counts: `GET /events/counts?ids=1,2,3` first sends the current counts
 * of those torrents, then every change the tracker reports for them, as `event: counts` with a
 * JSON list of [id, seeders, leechers, snatches].
 */
export function eventRoutes(deps: WebDeps) {
  return new Elysia({ name: "events" }).use(webContext(deps)).get(
    "/events/counts",
    ({ viewer, query, set, request }) => {
      if (!viewer) {
        set.status = 401;
        return "Log in to follow live counts.";
      }
      const ids = new Set(
        query.ids
          .split(",")
          .slice(0, MAX_WATCHED)
          .map(Number)
          .filter((n) => Number.isSafeInteger(n) && n > 0),
      );
      const encoder = new TextEncoder();
      let stop = () => {};
      const stream = new ReadableStream<Uint8Array>({
        start(controller) {
          const send = (counts: readonly TorrentCounts[]) => {
            const mine = counts.filter((c) => ids.has(c[0]));
            if (mine.length)
              controller.enqueue(encoder.encode(`event: counts\ndata: ${JSON.stringify(mine)}\n\n`));
          };
          const current: TorrentCounts[] = [];
          for (const id of ids) {
            const c = deps.counts.get(id);
            if (c) current.push([id, c.seeders, c.leechers, c.snatches]);
          }
          controller.enqueue(encoder.encode("retry: 2000\n\n"));
          send(current);
          const unsubscribe = deps.counts.subscribe(send);
          const heartbeat = setInterval(
            () => controller.enqueue(encoder.encode(": keepalive\n\n")),
            HEARTBEAT_MS,
          );
          stop = () => {
            unsubscribe();
            clearInterval(heartbeat);
          };
          request.signal.addEventListener("abort", () => {
            stop();
            try {
              controller.close();
            } catch {}
          });
        },
        cancel() {
          stop();
        },
      });
      return new Response(stream, {
        headers: {
          "content-type": "text/event-stream; charset=utf-8",
          "cache-control": "no-store",
          "x-accel-buffering": "no",
        },
      });
    },
    { query: t.Object({ ids: t.String({ maxLength: 4000 }) }) },
  );
}
