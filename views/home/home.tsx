/** @jsxImportSource @kitajs/html */
import { DateTime } from "../layout/date-time.tsx";
import { formatAge, formatRatio, formatSize } from "../layout/format.ts";
import { Layout } from "../layout/layout.tsx";
import { MemberLink, profilePath } from "../layout/member-link.tsx";
import type { PageContext } from "../layout/page.ts";
import { NewsArticle, type NewsView } from "../news/news.tsx";
import { Plots, type PlotView } from "../plots/line-chart.tsx";

/** The site's figures. */
export interface StatsView {
  members: number;
  torrents: number;
  seeders: number;
  leechers: number;
  today: { uploaded: number; downloaded: number } | null;
  asOf: Date;
}

/** A torrent in the home page's lists. */
export interface HomeTorrent {
  id: number;
  title: string;
  size: number;
  createdAt?: Date;
  creator?: string | null;
  seeders: number;
  leechers: number;
  snatches: number;
}

/** Everything the home page shows. */
export interface HomeView {
  news: NewsView[];
  canPostNews: boolean;
  latest: HomeTorrent[];
  stats: StatsView;
  me: { name: string; uploaded: number | bigint; downloaded: number | bigint };
  seeding: { kind: "yours" | "site"; rows: HomeTorrent[] };
  fewSeeders: number;
  plots: readonly PlotView[];
}

/** Live seeder and leecher counts of a torrent, updated by the page's event stream. */
function Counts(props: { torrent: HomeTorrent }) {
  const id = String(props.torrent.id);
  return (
    <span class="counts-inline">
      <span class="seeders" title="Seeders">
        <span data-torrent-id={id} data-count="seeders">
          {props.torrent.seeders}
        </span>{" "}
        S
      </span>{" "}
      <span class="leechers" title="Leechers">
        <span data-torrent-id={id} data-count="leechers">
          {props.torrent.leechers}
        </span>{" "}
        L
      </span>
    </span>
  );
}

function Figure(props: { label: string; value: string }) {
  return (
    <div class="figure">
      <dt safe>{props.label}</dt>
      <dd safe>{props.value}</dd>
    </div>
  );
}

/** The logged-in member's start page: news, own ratio, site figures, new torrents, what needs seeding, plots. */
export function HomePage(props: { page: PageContext; home: HomeView }) {
  const { base } = props.page;
  const h = props.home;
  const s = h.stats;
  return (
    <Layout page={props.page} title="Home" live>
      <h1 safe>Hello, {h.me.name}</h1>
      <div class="home">
        <section class="home-main">
          <h2>News</h2>
          {h.news.length === 0 ? <p class="muted">No news yet.</p> : ""}
          {h.news.map((item) => (
            <NewsArticle page={props.page} item={item} canManage={false} />
          ))}
          <p class="row">
            <a href={`${base}/news`}>All news</a>
            {h.canPostNews ? (
              <a class="button secondary" href={`${base}/news`}>
                Post news
              </a>
            ) : (
              ""
            )}
          </p>

          <h2>Latest torrents</h2>
          {h.latest.length === 0 ? (
            <p class="muted">No torrents yet.</p>
          ) : (
            <ul class="items">
              {h.latest.map((t) => (
                <li>
                  <a class="title" href={`${base}/torrents/${t.id}`} safe>
                    {t.title}
                  </a>
                  <span class="muted">
                    <span safe>{formatSize(t.size)}</span> · <Counts torrent={t} />
                    {t.createdAt ? (
                      <>
                        {" "}
                        ·{" "}
                        <time datetime={t.createdAt.toISOString()} safe>
                          {formatAge(t.createdAt)}
                        </time>
                      </>
                    ) : (
                      ""
                    )}
                    {t.creator !== undefined ? (
                      <>
                        {" "}
                        · <MemberLink base={base} name={t.creator} />
                      </>
                    ) : (
                      ""
                    )}
                  </span>
                </li>
              ))}
            </ul>
          )}
          <p>
            <a href={`${base}/torrents`}>All torrents</a>
          </p>
        </section>

        <aside class="home-side">
          <section class="card">
            <h2 class="card-title">Your ratio</h2>
            <p class="big" safe>
              {formatRatio(h.me.uploaded, h.me.downloaded)}
            </p>
            <dl class="facts">
              <dt>Uploaded</dt>
              <dd safe>{formatSize(h.me.uploaded)}</dd>
              <dt>Downloaded</dt>
              <dd safe>{formatSize(h.me.downloaded)}</dd>
            </dl>
            <p>
              <a href={profilePath(base, h.me.name)}>Your profile</a>
            </p>
          </section>
          <section class="card" id="site-stats">
            <h2 class="card-title">Site statistics</h2>
            <dl class="figures">
              <Figure label="Members" value={String(s.members)} />
              <Figure label="Torrents" value={String(s.torrents)} />
              <Figure label="Seeders" value={String(s.seeders)} />
              <Figure label="Leechers" value={String(s.leechers)} />
              <Figure label="Uploaded today" value={s.today ? formatSize(s.today.uploaded) : "—"} />
              <Figure label="Downloaded today" value={s.today ? formatSize(s.today.downloaded) : "—"} />
            </dl>
            <p class="muted note" id="stats-note">
              Members, torrents and peers are counted now. Traffic since midnight UTC, as sampled at{" "}
              <DateTime date={s.asOf} />.
            </p>
          </section>
        </aside>
      </div>

      <h2>{h.seeding.kind === "yours" ? "Your torrents that need seeding" : "Torrents that need seeders"}</h2>
      <p class="muted">
        {h.seeding.kind === "yours"
          ? `Torrents you completed that have fewer than ${h.fewSeeders} seeders: seeding them keeps them alive.`
          : "The torrents with the fewest seeders, those someone is downloading first."}
      </p>
      {h.seeding.rows.length === 0 ? (
        <p class="muted">Nothing needs seeding right now.</p>
      ) : (
        <ul class="items">
          {h.seeding.rows.map((t) => (
            <li>
              <a class="title" href={`${base}/torrents/${t.id}`} safe>
                {t.title}
              </a>
              <span class="muted">
                <span safe>{formatSize(t.size)}</span> · <Counts torrent={t} /> · {t.snatches} snatches
              </span>
            </li>
          ))}
        </ul>
      )}

      <h2>The site over time</h2>
      <Plots plots={h.plots} />
    </Layout>
  );
}
