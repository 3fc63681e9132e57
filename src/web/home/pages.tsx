/** @jsxImportSource @kitajs/html */
import { Elysia } from "elysia";
import { HomePage } from "../../../views/home/home.tsx";
import type { WebDeps } from "../deps.ts";
import { pageGate } from "../gate.tsx";
import { newsView } from "../news/pages.tsx";
import { newsRights } from "../news/service.ts";
import { siteHistory } from "../plots/service.ts";
import { FEW_SEEDERS, homeOverview } from "./service.ts";

/** The home page at `/` for members; visitors who are not logged in are sent to log in. */
export function homePages(deps: WebDeps) {
  return new Elysia({ name: "home-pages" }).use(pageGate(deps)).get(
    "/",
    async ({ page, viewer }) => {
      const now = Date.now();
      const home = await homeOverview(deps, viewer.id, now);
      return (
        <HomePage
          page={page}
          home={{
            ...home,
            news: home.news.map(newsView),
            canPostNews: newsRights(viewer).canManage,
            fewSeeders: FEW_SEEDERS,
            plots: await siteHistory(deps, now),
          }}
        />
      );
    },
    { member: true },
  );
}
