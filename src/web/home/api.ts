import { Elysia, t } from "elysia";
import type { SeedingRow } from "../../db/queries/home.ts";
import { type ApiLimiters, apiContext } from "../api/context.ts";
import { ByteTotal, errors, exactInteger, snaked, summaryBody, TorrentSummary } from "../api/schemas.ts";
import type { WebDeps } from "../deps.ts";
import { NewsBody, newsBody } from "../news/api.ts";
import { FEW_SEEDERS, homeOverview, type SiteStatistics, siteStatistics } from "./service.ts";

const Nullable = <T extends Parameters<typeof t.Union>[0][number]>(schema: T) => t.Union([schema, t.Null()]);

/** The site's figures as the API shows them. */
export const StatsBody = t.Object(
  {
    members: t.Number({ description: "Members who are not disabled, counted now" }),
    torrents: t.Number({ description: "Torrents, counted now" }),
    seeders: t.Number({ description: "Seeders, as the tracker last reported them" }),
    leechers: t.Number({ description: "Leechers, as the tracker last reported them" }),
    uploaded: t.Number({ description: "Bytes uploaded by every member, in all, as of as_of" }),
    downloaded: t.Number({ description: "Bytes downloaded by every member, in all, as of as_of" }),
    today: Nullable(
      t.Object(
        { uploaded: t.Number(), downloaded: t.Number() },
        { description: "Bytes since midnight UTC; null before the day's first sample" },
      ),
    ),
    as_of: t.String({
      format: "date-time",
      description:
        "When the traffic figures (uploaded, downloaded, today) were taken (sampled every 5 minutes)",
    }),
  },
  { description: "Site statistics" },
);

function statsBody(stats: SiteStatistics): typeof StatsBody.static {
  return {
    ...snaked(stats, "members", "torrents", "seeders", "leechers", "uploaded", "downloaded", "today"),
    as_of: stats.asOf.toISOString(),
  };
}

const SeedingItem = t.Object({
  id: t.Number(),
  title: t.String(),
  size: t.Number({ description: "Bytes" }),
  seeders: t.Number(),
  leechers: t.Number(),
  snatches: t.Number(),
});

const seedingItem = (row: SeedingRow): typeof SeedingItem.static => ({
  id: row.id,
  title: row.title,
  size: row.size,
  seeders: row.seeders,
  leechers: row.leechers,
  snatches: row.snatches,
});

/** The home page's figures and lists through the API. */
export function homeApi(deps: WebDeps, limiters: ApiLimiters) {
  return new Elysia({ name: "api-home" })
    .use(apiContext(deps, limiters))
    .get("/stats", async () => statsBody(await siteStatistics(deps)), {
      member: true,
      response: { 200: StatsBody, ...errors(401) },
      detail: {
        tags: ["Site"],
        summary: "Site statistics",
        description: "Members, torrents, seeders, leechers and traffic, as on the home page.",
      },
    })
    .get(
      "/home",
      async ({ caller }) => {
        const home = await homeOverview(deps, caller.id);
        const { uploaded, downloaded } = home.me;
        return {
          news: home.news.map(newsBody),
          latest: home.latest.map(summaryBody),
          stats: statsBody(home.stats),
          me: {
            uploaded: exactInteger(uploaded),
            downloaded: exactInteger(downloaded),
            ratio: Number(downloaded) > 0 ? Number(uploaded) / Number(downloaded) : null,
          },
          needs_seeding: { kind: home.seeding.kind, items: home.seeding.rows.map(seedingItem) },
        };
      },
      {
        member: true,
        response: {
          200: t.Object(
            {
              news: t.Array(NewsBody, { description: "The latest news items" }),
              latest: t.Array(TorrentSummary, { description: "The newest torrents" }),
              stats: StatsBody,
              me: t.Object({
                uploaded: ByteTotal("Bytes the caller uploaded"),
                downloaded: ByteTotal("Bytes the caller downloaded"),
                ratio: Nullable(t.Number({ description: "Null with nothing downloaded" })),
              }),
              needs_seeding: t.Object({
                kind: t.Union([t.Literal("yours"), t.Literal("site")], {
                  description: `"yours": torrents the caller completed with fewer than ${FEW_SEEDERS} seeders; "site": none of those, so the site's least-seeded torrents`,
                }),
                items: t.Array(SeedingItem),
              }),
            },
            { description: "What the home page shows the caller" },
          ),
          ...errors(401),
        },
        detail: {
          tags: ["Site"],
          summary: "The home page",
          description:
            "Latest news and torrents, site statistics, the caller's totals and what needs seeding.",
        },
      },
    );
}
