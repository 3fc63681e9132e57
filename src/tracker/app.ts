import { Elysia } from "elysia";

/** The tracker's HTTP app: health now; announce and scrape are mounted by the tracker. */
export function createTrackerApp() {
  return new Elysia().get("/health", () => ({ status: "ok" }));
}
