/** @jsxImportSource @kitajs/html */
import { DateTime } from "../layout/date-time.tsx";
import { formatSize } from "../layout/format.ts";
import { Csrf, FieldError, Layout } from "../layout/layout.tsx";
import type { PageContext } from "../layout/page.ts";

/** A snatch's status under the hit-and-run rule. */
export type StatusView = "satisfied" | "seeding" | "at_risk" | "hit_and_run";

/** One completed torrent, as the member's page lists it. */
export interface SnatchView {
  torrent: { id: number; title: string; size: number | bigint };
  uploaded: number | bigint;
  downloaded: number | bigint;
  seedSeconds: number;
  seedSecondsOwed: number;
  secondsLeft: number;
  completedAt: Date;
  deadline: Date;
  status: StatusView;
  settledBy: "seed_time" | "ratio" | "not_downloaded" | null;
}

/** The rule in force, for the explanation above the list. */
export interface RuleView {
  seedHours: number;
  windowDays: number;
  ratioPercent: number;
  minDownloadPercent: number;
  /** New downloads are refused from this many hit-and-runs on; 0: never. */
  pauseDownloadsAfter?: number;
}

const STATUS_TEXT: Record<StatusView, string> = {
  satisfied: "Satisfied",
  seeding: "Seeding",
  at_risk: "At risk",
  hit_and_run: "Hit-and-run",
};

const SETTLED_TEXT = {
  seed_time: "seeded long enough",
  ratio: "uploaded enough",
  not_downloaded: "not downloaded here",
} as const;

/** A duration in days and hours, or hours and minutes when short. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const days = Math.floor(s / 86400);
  const hours = Math.floor((s % 86400) / 3600);
  const minutes = Math.floor((s % 3600) / 60);
  if (days > 0) return `${days} d ${hours} h`;
  if (hours > 0) return `${hours} h ${minutes} min`;
  return `${minutes} min`;
}

function statusDetail(row: SnatchView): string {
  if (row.status === "satisfied") return row.settledBy ? SETTLED_TEXT[row.settledBy] : "";
  if (row.status === "hit_and_run") return `seed ${formatDuration(row.seedSecondsOwed)} more to settle it`;
  return `${formatDuration(row.seedSecondsOwed)} owed, ${formatDuration(row.secondsLeft)} left`;
}

/** The rule in words. */
export function RuleText(props: { rule: RuleView }) {
  const { rule } = props;
  if (rule.seedHours === 0) return <p class="muted">This site has no seeding requirement.</p>;
  return (
    <p class="muted">
      Seed every torrent you complete for {rule.seedHours} hours within {rule.windowDays} days of completing
      it
      {rule.ratioPercent > 0 ? `, unless you upload ${rule.ratioPercent / 100} × its size on it first` : ""}.
      A torrent still short when the {rule.windowDays} days are over is a hit-and-run until you seed the rest.
      {rule.minDownloadPercent > 0
        ? ` Torrents of which you downloaded less than ${rule.minDownloadPercent}% here owe nothing.`
        : ""}
      {rule.pauseDownloadsAfter
        ? ` With ${rule.pauseDownloadsAfter} hit-and-run${rule.pauseDownloadsAfter === 1 ? "" : "s"} or more, new downloads are paused until you settle them.`
        : ""}
    </p>
  );
}

/** A member's snatches with their hit-and-run status, paged. */
export function HitAndRunsPage(props: {
  page: PageContext;
  member: { id: number; name: string };
  own: boolean;
  /** The tracker refuses this member's new downloads for too many hit-and-runs. */
  downloadsPaused: boolean;
  items: readonly SnatchView[];
  counts: Record<StatusView, number>;
  rule: RuleView;
  pageNo: number;
  hasNext: boolean;
  path: string;
}) {
  const { base } = props.page;
  const url = (n: number) => `${base}${props.path}${n > 1 ? `?page=${n}` : ""}`;
  return (
    <Layout page={props.page} title="Hit-and-runs">
      <h1>{props.own ? "Your snatches" : <span safe>{`Snatches of ${props.member.name}`}</span>}</h1>
      <RuleText rule={props.rule} />
      {props.downloadsPaused ? (
        <p class="notice bad" id="downloads-paused">
          {props.own ? "Your new downloads are paused" : "New downloads are paused"}: too many hit-and-runs.
          Seeding and downloads already running go on; seed the torrents below marked hit-and-run until they
          are satisfied, and downloads resume at the next hourly check.
        </p>
      ) : (
        ""
      )}
      <section class="card">
        <dl class="facts" id="hnr-counts">
          <dt>Hit-and-runs</dt>
          <dd id="hnr-count">{props.counts.hit_and_run}</dd>
          <dt>At risk</dt>
          <dd>{props.counts.at_risk}</dd>
          <dt>Seeding</dt>
          <dd>{props.counts.seeding}</dd>
          <dt>Satisfied</dt>
          <dd>{props.counts.satisfied}</dd>
        </dl>
      </section>
      {props.items.length === 0 ? (
        <p class="notice">{props.pageNo > 1 ? "No more snatches." : "No completed torrents yet."}</p>
      ) : (
        <table class="list" id="snatches">
          <thead>
            <tr>
              <th>Torrent</th>
              <th>Status</th>
              <th class="num">Seeded</th>
              <th class="num">Uploaded</th>
              <th>Completed</th>
              <th>Deadline</th>
            </tr>
          </thead>
          <tbody>
            {props.items.map((row) => (
              <tr data-status={row.status}>
                <td class="title">
                  <a href={`${base}/torrents/${row.torrent.id}`} safe>
                    {row.torrent.title}
                  </a>
                </td>
                <td data-label="Status">
                  <strong safe>{STATUS_TEXT[row.status]}</strong>{" "}
                  <span class="muted" safe>
                    {statusDetail(row)}
                  </span>
                </td>
                <td class="num" data-label="Seeded" safe>
                  {formatDuration(row.seedSeconds)}
                </td>
                <td class="num" data-label="Uploaded" safe>
                  {`${formatSize(row.uploaded)} of ${formatSize(row.torrent.size)}`}
                </td>
                <td data-label="Completed">
                  <DateTime date={row.completedAt} />
                </td>
                <td data-label="Deadline">
                  <DateTime date={row.deadline} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <nav class="pager">
        {props.pageNo > 1 ? <a href={url(props.pageNo - 1)}>Newer</a> : ""}
        {props.hasNext ? <a href={url(props.pageNo + 1)}>Older</a> : ""}
      </nav>
    </Layout>
  );
}

/** One member with hit-and-runs, for staff. */
export interface OffenderView {
  member: { id: number; name: string };
  hitAndRuns: number;
  latestDeadline: Date;
}

/** Staff's list of members with hit-and-runs. */
export function OffendersPage(props: {
  page: PageContext;
  items: readonly OffenderView[];
  rule: RuleView;
  pageNo: number;
  hasNext: boolean;
}) {
  const { base } = props.page;
  const url = (n: number) => `${base}/admin/hit-and-runs${n > 1 ? `?page=${n}` : ""}`;
  return (
    <Layout page={props.page} title="Hit-and-runs">
      <h1>Members with hit-and-runs</h1>
      <RuleText rule={props.rule} />
      {props.items.length === 0 ? (
        <p class="notice">{props.pageNo > 1 ? "No more members." : "No member has a hit-and-run."}</p>
      ) : (
        <table class="list" id="offenders">
          <thead>
            <tr>
              <th>Member</th>
              <th class="num">Hit-and-runs</th>
              <th>Latest deadline</th>
            </tr>
          </thead>
          <tbody>
            {props.items.map((row) => (
              <tr>
                <td class="title">
                  <a href={`${base}/admin/users/${row.member.id}/hit-and-runs`} safe>
                    {row.member.name}
                  </a>
                </td>
                <td class="num" data-label="Hit-and-runs">
                  {row.hitAndRuns}
                </td>
                <td data-label="Latest deadline">
                  <DateTime date={row.latestDeadline} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <nav class="pager">
        {props.pageNo > 1 ? <a href={url(props.pageNo - 1)}>Previous</a> : ""}
        {props.hasNext ? <a href={url(props.pageNo + 1)}>Next</a> : ""}
      </nav>
    </Layout>
  );
}

/** One ledger row, as the bonus page lists it. */
export interface LedgerView {
  reason: "seeding" | "upload_credit" | "invite" | "request_bounty" | "request_refund" | "request_award";
  /** The request of a bounty, refund or award. */
  requestId?: number | null;
  millipoints: number;
  hour: Date | null;
  seedingTorrents: number | null;
  bytes: number | null;
  at: Date;
}

/** The shop's prices. */
export interface PricesView {
  pointsPerGiB: number;
  invitePoints: number;
  maxGiB: number;
}

/** Points to show: up to three decimals. */
export function formatPoints(millipoints: number): string {
  return (millipoints / 1000).toLocaleString("en", { maximumFractionDigits: 3 });
}

function ledgerText(row: LedgerView): string {
  if (row.reason === "seeding")
    return `Seeding ${row.seedingTorrents ?? 0} torrent${row.seedingTorrents === 1 ? "" : "s"}`;
  if (row.reason === "upload_credit") return `Bought ${formatSize(row.bytes ?? 0)} of upload credit`;
  if (row.reason === "request_bounty") return `Bounty on request #${String(row.requestId ?? "")}`;
  if (row.reason === "request_refund")
    return `Bounty refunded: request #${String(row.requestId ?? "")} expired`;
  if (row.reason === "request_award") return `Bounty won: filled request #${String(row.requestId ?? "")}`;
  return "Bought an invite";
}

/** The bonus page: balance, the shop and the ledger. */
export function BonusPage(props: {
  page: PageContext;
  millipoints: number;
  prices: PricesView;
  ledger: readonly LedgerView[];
  notice?: string;
  invite?: { link: string; expiresAt: Date };
  errors?: Record<string, string>;
}) {
  const { base } = props.page;
  const { prices } = props;
  return (
    <Layout page={props.page} title="Seeding bonus">
      <h1>Seeding bonus</h1>
      {props.notice ? (
        <div class="notice good" role="status" safe>
          {props.notice}
        </div>
      ) : (
        ""
      )}
      {props.invite ? (
        <section class="card stack">
          <p>Your invite link (shown this once; it works until the date below):</p>
          <p class="mono" id="invite-link" safe>
            {props.invite.link}
          </p>
          <p class="muted">
            Expires <DateTime date={props.invite.expiresAt} />
          </p>
        </section>
      ) : (
        ""
      )}
      <section class="card">
        <dl class="facts">
          <dt>Your points</dt>
          <dd id="bonus-balance" safe>
            {formatPoints(props.millipoints)}
          </dd>
        </dl>
        <p class="muted">
          Every hour, each torrent you are seeding earns points: more for larger, older and less-seeded
          torrents.
        </p>
      </section>
      <h2>Spend</h2>
      <FieldError errors={props.errors} name="points" />
      {prices.pointsPerGiB > 0 ? (
        <form class="stack card" method="post" action={`${base}/account/bonus/spend`}>
          <Csrf page={props.page} />
          <input type="hidden" name="item" value="upload_credit" />
          <label>
            GiB of upload credit ({prices.pointsPerGiB} points each)
            <input
              type="number"
              name="gib"
              min="1"
              max={String(prices.maxGiB)}
              step="1"
              value="1"
              required
              inputmode="numeric"
            />
            <FieldError errors={props.errors} name="gib" />
          </label>
          <button type="submit">Buy upload credit</button>
        </form>
      ) : (
        ""
      )}
      {prices.invitePoints > 0 ? (
        <form class="stack card" method="post" action={`${base}/account/bonus/spend`}>
          <Csrf page={props.page} />
          <input type="hidden" name="item" value="invite" />
          <button type="submit">Buy an invite ({prices.invitePoints} points)</button>
        </form>
      ) : (
        ""
      )}
      <h2>Ledger</h2>
      {props.ledger.length === 0 ? (
        <p class="muted">Nothing earned or spent yet.</p>
      ) : (
        <table class="list" id="ledger">
          <thead>
            <tr>
              <th>When</th>
              <th>What</th>
              <th class="num">Points</th>
            </tr>
          </thead>
          <tbody>
            {props.ledger.map((row) => (
              <tr>
                <td data-label="When">
                  <DateTime date={row.hour ?? row.at} />
                </td>
                <td data-label="What">
                  {row.requestId ? (
                    <a href={`${props.page.base}/requests/${String(row.requestId)}`} safe>
                      {ledgerText(row)}
                    </a>
                  ) : (
                    <span safe>{ledgerText(row)}</span>
                  )}
                </td>
                <td class="num" data-label="Points" safe>
                  {`${row.millipoints > 0 ? "+" : ""}${formatPoints(row.millipoints)}`}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Layout>
  );
}
