/** @jsxImportSource @kitajs/html */
import { DateTime } from "../layout/date-time.tsx";
import { formatRatio, formatSize } from "../layout/format.ts";
import { Csrf, FieldError, Layout } from "../layout/layout.tsx";
import { MemberLink, profilePath } from "../layout/member-link.tsx";
import type { PageContext, RoleName } from "../layout/page.ts";
import { Rendered, type RenderedHtml } from "../markdown/rendered.tsx";
import { Plots, type PlotView } from "../plots/line-chart.tsx";

/** A profile as its page shows it. */
export interface ProfileView {
  id: number;
  name: string;
  createdAt: Date;
  roles: readonly RoleName[];
  inviter: { id: number; name: string } | null;
  uploads: number;
  latestUploads: readonly { id: number; title: string; size: number; createdAt: Date }[];
  hideTransfer: boolean;
  /** Null when hidden from the viewer. */
  transfer: { uploaded: number; downloaded: number; snatches: number } | null;
  own: boolean;
  staff: boolean;
  disabled: boolean | null;
}

/** Longest bio and most lines. */
export interface BioLimits {
  max: number;
  lines: number;
}

const ROLE_TITLES: Record<RoleName, string> = {
  admin: "Administrator",
  moderate: "Moderator",
  upload: "Uploader",
  trusted: "Trusted uploader",
  invite: "Inviter",
};

/** A member's public page: who they are, what they shared, their bio and (unless hidden) their figures. */
export function ProfilePage(props: {
  page: PageContext;
  profile: ProfileView;
  /** The bio rendered from Markdown ("" for none). */
  bioHtml: RenderedHtml;
  /** Transfer plots, when the viewer may see the figures. */
  plots: readonly PlotView[] | null;
}) {
  const { base } = props.page;
  const p = props.profile;
  const staffRoles = p.roles.filter((r) => r === "admin" || r === "moderate");
  return (
    <Layout page={props.page} title={p.name}>
      <div class="profile-head">
        <h1 safe>{p.name}</h1>
        {staffRoles.map((role) => (
          <span class="badge" safe>
            {ROLE_TITLES[role]}
          </span>
        ))}
        {p.disabled ? <span class="badge bad">disabled</span> : ""}
        {props.page.viewer && props.page.viewer.id !== p.id ? (
          <a class="report-link" href={`${base}/reports/new?type=member&id=${String(p.id)}`}>
            Report
          </a>
        ) : (
          ""
        )}
      </div>
      <section class="card">
        <dl class="facts">
          <dt>Member since</dt>
          <dd>
            <DateTime date={p.createdAt} day />
          </dd>
          <dt>Invited by</dt>
          <dd>
            <MemberLink base={base} name={p.inviter?.name ?? null} />
          </dd>
          <dt>Uploads</dt>
          <dd>{p.uploads}</dd>
          {p.transfer ? (
            <>
              <dt>Uploaded</dt>
              <dd safe>{formatSize(p.transfer.uploaded)}</dd>
              <dt>Downloaded</dt>
              <dd safe>{formatSize(p.transfer.downloaded)}</dd>
              <dt>Ratio</dt>
              <dd safe>{formatRatio(p.transfer.uploaded, p.transfer.downloaded)}</dd>
              <dt>Snatches</dt>
              <dd>{p.transfer.snatches}</dd>
            </>
          ) : (
            <>
              <dt>Transfer</dt>
              <dd class="muted" safe>
                Hidden by {p.name}.
              </dd>
            </>
          )}
        </dl>
        {p.transfer && p.hideTransfer ? (
          <p class="muted note">
            {p.own
              ? "Your transfer figures are hidden from other members (staff see them)."
              : "Hidden from other members: you see them as staff."}
          </p>
        ) : (
          ""
        )}
      </section>
      {props.bioHtml ? (
        <section class="card bio">
          <h2 class="card-title">About</h2>
          <Rendered html={props.bioHtml} />
        </section>
      ) : (
        ""
      )}
      {props.plots ? (
        <>
          <h2>Transfer over time</h2>
          <Plots plots={props.plots} />
        </>
      ) : (
        ""
      )}
      <h2>Latest uploads</h2>
      {p.latestUploads.length === 0 ? (
        <p class="muted">No uploads yet.</p>
      ) : (
        <ul class="items">
          {p.latestUploads.map((row) => (
            <li>
              <a class="title" href={`${base}/torrents/${row.id}`} safe>
                {row.title}
              </a>
              <span class="muted">
                <span safe>{formatSize(row.size)}</span> · <DateTime date={row.createdAt} day />
              </span>
            </li>
          ))}
        </ul>
      )}
      <p class="row actions">
        {p.own ? (
          <a class="button secondary" href={`${base}/account#profile`}>
            Edit your profile
          </a>
        ) : (
          ""
        )}
        {p.staff ? (
          <a class="button secondary" href={`${base}/admin/users/${p.id}`}>
            Manage this member
          </a>
        ) : (
          ""
        )}
      </p>
    </Layout>
  );
}

/** The profile part of the account page: the bio and whether transfer figures are shown. */
export function ProfileForm(props: {
  page: PageContext;
  name: string;
  bio: string;
  hideTransfer: boolean;
  limits: BioLimits;
  errors?: Record<string, string>;
}) {
  const { base } = props.page;
  return (
    <>
      <h2 id="profile">Your profile</h2>
      <form class="stack card" method="post" action={`${base}/account/profile`}>
        <Csrf page={props.page} />
        <label>
          About you
          <textarea name="bio" maxlength={String(props.limits.max)} rows="5" aria-describedby="bio-help" safe>
            {props.bio}
          </textarea>
          <span class="help" id="bio-help">
            Markdown, at most {props.limits.max} characters and {props.limits.lines} lines. Shown on your
            public profile.
          </span>
          <FieldError errors={props.errors} name="bio" />
        </label>
        <label class="check">
          <input type="checkbox" name="hide_transfer" value="1" checked={props.hideTransfer} />
          Hide my uploaded, downloaded, ratio and snatches from other members (staff still see them)
        </label>
        <div class="row">
          <button type="submit">Save profile</button>
          <a href={profilePath(base, props.name)}>View your public profile</a>
        </div>
      </form>
    </>
  );
}
