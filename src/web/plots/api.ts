import { Elysia, t } from "elysia";
import type { PlotView } from "../../../views/plots/line-chart.tsx";
import { type ApiLimiters, apiContext } from "../api/context.ts";
import { fail } from "../api/errors.ts";
import { errors } from "../api/schemas.ts";
import type { WebDeps } from "../deps.ts";
import { memberProfile } from "../profiles/service.ts";
import { IdParams } from "../schemas.ts";
import { findTorrent, NO_TORRENT } from "../torrents/service.ts";
import { memberHistory, siteHistory, swarmHistory } from "./service.ts";

/** One plot's data as the API gives it. */
export const HistoryBody = t.Object(
  {
    title: t.String(),
    unit: t.String({ description: "count, bytes or ratio" }),
    from: t.String({ format: "date-time" }),
    to: t.String({ format: "date-time" }),
    step: t.Boolean({ description: "True when each value holds until the next point" }),
    series: t.Array(
      t.Object({
        label: t.String(),
        points: t.Array(t.Tuple([t.Number(), t.Number()]), {
          description: "[time in ms since 1970 (UTC), value], oldest first, at most 240",
        }),
      }),
    ),
  },
  { description: "Values over time, as a plot of the site draws them" },
);

function historyBody(plot: PlotView): typeof HistoryBody.static {
  return {
    title: plot.title,
    unit: plot.unit,
    from: new Date(plot.from).toISOString(),
    to: new Date(plot.to).toISOString(),
    step: plot.step,
    series: plot.series.map((s) => ({ label: s.label, points: s.points.map(([at, v]) => [at, v]) })),
  };
}

const Histories = t.Object({ plots: t.Array(HistoryBody) }, { description: "The plots' data" });

/** The data behind the site's plots. */
export function plotsApi(deps: WebDeps, limiters: ApiLimiters) {
  return new Elysia({ name: "api-plots" })
    .use(apiContext(deps, limiters))
    .get(
      "/torrents/:id/plot",
      async ({ params }) => {
        const torrent = await findTorrent(deps, params.id);
        if (!torrent) throw fail.notFound(NO_TORRENT);
        return { plots: [historyBody(await swarmHistory(deps, torrent))] };
      },
      {
        member: true,
        params: IdParams,
        response: { 200: Histories, ...errors(401, 404, 422) },
        detail: {
          tags: ["Site"],
          summary: "A torrent's seeders and leechers over time",
          description: "The last 7 days, from samples taken every 5 minutes when the counts change.",
        },
      },
    )
    .get(
      "/users/:id/plot",
      async ({ caller, params }) => {
        const result = await memberProfile(deps, caller, { id: params.id });
        if (!result.ok) throw fail.notFound(result.message);
        const { transfer } = result.profile;
        if (!transfer) throw fail.forbidden("This member hides their transfer figures.");
        return { plots: (await memberHistory(deps, { id: params.id, ...transfer })).map(historyBody) };
      },
      {
        member: true,
        params: IdParams,
        response: { 200: Histories, ...errors(401, 403, 404, 422) },
        detail: {
          tags: ["Users"],
          summary: "A member's transfer over time",
          description:
            "Uploaded, downloaded and ratio over the last 30 days (sampled hourly when they change). 403 when the member hides their figures, except for themselves and staff.",
        },
      },
    )
    .get("/stats/plot", async () => ({ plots: (await siteHistory(deps)).map(historyBody) }), {
      member: true,
      response: { 200: Histories, ...errors(401) },
      detail: {
        tags: ["Site"],
        summary: "Site peers and traffic over time",
        description: "Seeders, leechers and traffic per hour over the last 7 days, sampled every 5 minutes.",
      },
    });
}
