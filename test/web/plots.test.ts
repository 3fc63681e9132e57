import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { recordSiteSample } from "../../src/db/queries/samples.ts";
import {
  downsample,
  MAX_POINTS,
  memberHistory,
  siteHistory,
  swarmHistory,
} from "../../src/web/plots/service.ts";
import { LineChart, type PlotView, plotSummary, valueAt } from "../../views/plots/line-chart.tsx";
import { timeTicks, valueTicks } from "../../views/plots/scale.ts";
import { type ApiHarness, apiHarness, expectError, expectJson } from "../helpers/api.ts";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

let web: ApiHarness;
let torrentId: number;
let bobId: number;
let token: string;

beforeAll(async () => {
  web = await apiHarness();
  await web.member("admin");
  const bob = await web.memberWithToken("bob");
  bobId = bob.id;
  token = bob.token;
  const [row] = await web.db.sql`
    insert into torrents (info_hash, title, size, files, creator_id, metainfo)
    values (${Buffer.alloc(20, 1)}, ${"Plotted"}, 1, ${web.db.sql.json([])}, ${bob.id}, ${Buffer.from("d4:infodee")})
    returning id
  `;
  torrentId = row!.id as number;
}, 60000);
afterAll(async () => {
  await web?.close();
});

/** Every text alternative a plot must have: an image role, its title and description, a table. */
function expectAccessiblePlot(html: string, id: string) {
  const start = html.indexOf(`<figure class="plot" id="${id}">`);
  expect(start).toBeGreaterThanOrEqual(0);
  const figure = html.slice(start);
  const svg = figure.slice(0, figure.indexOf("</svg>"));
  expect(svg).toContain('role="img"');
  expect(svg).toContain(`aria-labelledby="${id}-title ${id}-desc"`);
  expect(svg).toMatch(new RegExp(`<title id="${id}-title">[^<]+</title>`));
  expect(svg).toMatch(new RegExp(`<desc id="${id}-desc">[^<]+</desc>`));
  expect(svg).toMatch(/<path class="line series-0" d="M[\d.]+ [\d.]+/);
  const rest = figure.slice(figure.indexOf("</svg>"));
  expect(rest).toMatch(/<p class="plot-summary muted">[^<]+<\/p>/);
  expect(rest).toContain('<table class="values">');
  return figure.slice(0, figure.indexOf("</figure>"));
}

describe("the chart", () => {
  const now = Date.UTC(2026, 2, 10, 12, 0, 0);
  const plot: PlotView = {
    id: "p",
    title: "Seeders and leechers",
    unit: "count",
    from: now - 7 * DAY,
    to: now,
    span: "the last 7 days",
    step: true,
    series: [
      {
        label: "Seeders",
        points: [
          [now - 3 * DAY, 2],
          [now - DAY, 9],
          [now, 5],
        ],
      },
      {
        label: "Leechers",
        points: [
          [now - 3 * DAY, 1],
          [now, 1],
        ],
      },
    ],
    empty: "Nothing yet.",
  };

  test("an SVG with axes, steps, a legend, a sentence and a table of values", async () => {
    const html = await LineChart({ plot });
    const figure = expectAccessiblePlot(html, "p");
    // Values hold until the next point: horizontal then vertical moves.
    expect(figure).toMatch(/d="M[\d.]+ [\d.]+H[\d.]+V[\d.]+/);
    expect(figure).toContain('<li class="series-0">Seeders</li>');
    expect(plotSummary(plot)).toBe(
      "Seeders: 5 at the end, from 2 to 9 over the last 7 days. Leechers: 1 at the end, steady over the last 7 days.",
    );
    // Day ticks on a week, in UTC.
    expect(figure).toContain(">4 Mar</text>");
    // The table's last row is the end of the window, with the values then.
    expect(figure).toContain('<td class="num">5</td><td class="num">1</td></tr></tbody>');
  });

  test("with no data, says so instead of drawing", async () => {
    const html = await LineChart({ plot: { ...plot, series: [{ label: "Seeders", points: [] }] } });
    expect(html).toContain("Nothing yet.");
    expect(html).not.toContain("<svg");
  });

  test("scales: round ticks from 0 past the largest value; byte axes in binary units", () => {
    expect(valueTicks(3, "count").ticks).toEqual([0, 1, 2, 3, 4]);
    expect(valueTicks(0, "count").ticks).toEqual([0, 1, 2, 3, 4]);
    const bytes = valueTicks(1.5 * 1024 ** 3, "bytes");
    expect(bytes.scale).toBe(1024 ** 3);
    expect(bytes.ticks.at(-1)).toBeGreaterThanOrEqual(1.5 * 1024 ** 3);
    for (const max of [7, 93, 1234, 0.42])
      expect(valueTicks(max, "ratio").ticks.at(-1)!).toBeGreaterThanOrEqual(max);
    expect(timeTicks(now - DAY, now).map((t) => t.label)).toEqual(["18:00", "00:00", "06:00"]);
    expect(timeTicks(now - 30 * DAY, now).length).toBeLessThanOrEqual(5);
    expect(valueAt(plot.series[0]!.points, now - 2 * DAY)).toBe(2);
    expect(valueAt(plot.series[0]!.points, now - 4 * DAY)).toBeNull();
  });

  test("downsampling keeps at most MAX_POINTS, the last of each slice, and starts at the window", () => {
    const from = 0;
    const to = 7 * DAY;
    const points = Array.from({ length: 5000 }, (_, i) => [-DAY + i * 60_000 * 2.3, i] as const);
    const out = downsample(points, from, to);
    expect(out.length).toBeLessThanOrEqual(MAX_POINTS);
    expect(out[0]![0]).toBe(from);
    expect(out.at(-1)).toEqual(points.at(-1)!);
    for (let i = 1; i < out.length; i++) expect(out[i]![0]).toBeGreaterThan(out[i - 1]![0]);
  });
});

describe("plots on the pages", () => {
  test("a torrent's page: empty until sampled, then its counts over 7 days ending with the live ones", async () => {
    const { cookie } = await web.login("bob");
    let html = await (await web.request(`/torrents/${torrentId}`, { cookie })).text();
    expect(html).toContain("No history yet");
    const now = Date.now();
    await web.db.sql`
      insert into torrent_samples (torrent_id, at, seeders, leechers) values
        (${torrentId}, ${new Date(now - 10 * DAY)}, 1, 0),
        (${torrentId}, ${new Date(now - 2 * DAY)}, 4, 2),
        (${torrentId}, ${new Date(now - HOUR)}, 6, 1)
    `;
    web.counts.apply([[torrentId, 8, 0, 0]]);
    const history = await swarmHistory(web.deps, { id: torrentId, seeders: 8, leechers: 0 }, now);
    // The sample from before the window gives the value the line starts with.
    expect(history.series[0]!.points).toEqual([
      [now - 7 * DAY, 1],
      [now - 2 * DAY, 4],
      [now - HOUR, 6],
      [now, 8],
    ]);
    html = await (await web.request(`/torrents/${torrentId}`, { cookie })).text();
    const figure = expectAccessiblePlot(html, `swarm-${torrentId}`);
    expect(figure).toContain("Seeders: 8 at the end, from 1 to 8 over the last 7 days.");
    // Below the counts card, above the files.
    expect(html.indexOf(`id="swarm-${torrentId}"`)).toBeGreaterThan(html.indexOf('class="counts"'));
    expect(html.indexOf(`id="swarm-${torrentId}"`)).toBeLessThan(html.indexOf("<h2>Files"));

    const api = await expectJson<{ plots: { series: { points: [number, number][] }[] }[] }>(
      await web.call(`/api/v1/torrents/${torrentId}/plot`, { as: { token } }),
    );
    expect(api.plots[0]!.series[0]!.points.at(-1)![1]).toBe(8);
    await expectError(await web.call("/api/v1/torrents/999999/plot", { as: { token } }), 404, "not_found");
  });

  test("a member's profile: uploaded, downloaded and ratio over 30 days", async () => {
    const now = Date.now();
    await web.db.sql`update users set uploaded = 300, downloaded = 100 where id = ${bobId}`;
    await web.db.sql`
      insert into member_samples (user_id, at, uploaded, downloaded) values
        (${bobId}, ${new Date(now - 20 * DAY)}, 0, 50),
        (${bobId}, ${new Date(now - 5 * DAY)}, 100, 100)
    `;
    const [transfer, ratio] = await memberHistory(
      web.deps,
      { id: bobId, uploaded: 300, downloaded: 100 },
      now,
    );
    expect(transfer!.series.map((s) => s.points.map((p) => p[1]))).toEqual([
      [0, 100, 300],
      [50, 100, 100],
    ]);
    expect(ratio!.series[0]!.points.map((p) => p[1])).toEqual([0, 1, 3]);
    const { cookie } = await web.login("admin");
    const html = await (await web.request("/users/bob", { cookie })).text();
    expectAccessiblePlot(html, `transfer-${bobId}`);
    expectAccessiblePlot(html, `ratio-${bobId}`);
  });

  test("the home page: site peers and traffic per hour over 7 days", async () => {
    const now = Date.now();
    const hour = Math.floor(now / HOUR) * HOUR;
    const base = { members: 2, torrents: 1, leechers: 1, downloaded: 0 };
    await recordSiteSample(web.db.sql, new Date(hour - 2 * HOUR), { ...base, seeders: 1, uploaded: 0 });
    await recordSiteSample(web.db.sql, new Date(hour - HOUR), { ...base, seeders: 3, uploaded: 5000 });
    await recordSiteSample(web.db.sql, new Date(hour - HOUR + 30 * 60_000), {
      ...base,
      seeders: 2,
      uploaded: 7000,
    });
    const [peers, traffic] = await siteHistory(web.deps, now);
    // The samples as they are, but for two that may share a slice of the window (tested above).
    const from = now - 7 * DAY;
    expect(peers!.series[0]!.points).toEqual(
      downsample(
        [
          [hour - 2 * HOUR, 1],
          [hour - HOUR, 3],
          [hour - HOUR + 30 * 60_000, 2],
        ],
        from,
        now,
      ),
    );
    expect(peers!.series[0]!.points.at(-1)).toEqual([hour - HOUR + 30 * 60_000, 2]);
    expect(peers!.series[0]!.points.length).toBeGreaterThanOrEqual(2);
    // Growth between samples, by the hour it happened in.
    expect(traffic!.series[0]!.points).toEqual([
      [hour - HOUR, 5000],
      [Math.min(hour, now), 2000],
    ]);
    const { cookie } = await web.login("bob");
    const html = await (await web.request("/", { cookie })).text();
    expectAccessiblePlot(html, "site-peers");
    expectAccessiblePlot(html, "site-traffic");
    const api = await expectJson<{ plots: { title: string }[] }>(
      await web.call("/api/v1/stats/plot", { as: { token } }),
    );
    expect(api.plots.map((p) => p.title)).toEqual(["Peers, last 7 days", "Traffic per hour, last 7 days"]);
  });
});
