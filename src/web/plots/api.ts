import { Elysia, t } from "elysia";
import type { PlotView } from "../../../views/plots/line-chart.tsx";
import { type ApiLimiters, apiContext } from "../api/context.ts";
import { errors } from "../api/schemas.ts";
import type { WebDeps } from "../deps.ts";
import { siteHistory } from "./service.ts";

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

export function historyBody(plot: PlotView): typeof HistoryBody.static {
  return {
    title: plot.title,
    unit: plot.unit,
    from: new Date(plot.from).toISOString(),
    to: new Date(plot.to).toISOString(),
    step: plot.step,
    series: plot.series.map((s) => ({ label: s.label, points: s.points.map(([at, v]) => [at, v]) })),
  };
}

export const Histories = t.Object({ plots: t.Array(HistoryBody) }, { description: "The plots' data" });

/** The data behind the site's plots. */
export function plotsApi(deps: WebDeps, limiters: ApiLimiters) {
  return new Elysia({ name: "api-plots" })
    .use(apiContext(deps, limiters))
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
