import { html } from "@elysiajs/html";
import { Elysia } from "elysia";
import type { Config } from "../config.ts";
import type { Sql } from "../db/client.ts";

/** What the web side's routes need from the running process. */
export interface WebDeps {
  readonly config: Config;
  readonly sql: Sql;
  /** True once the tracker worker answered and the database is migrated. */
  ready(): boolean;
}

/** The web site and API on the main thread. */
export function createWebApp(deps: WebDeps) {
  return new Elysia()
    .use(html())
    .get("/health", () => ({ status: "ok" }))
    .get("/readyz", ({ set }) => {
      if (deps.ready()) return { status: "ready" };
      set.status = 503;
      return { status: "starting" };
    });
}
