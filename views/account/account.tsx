/** @jsxImportSource @kitajs/html */
import { formatPoints } from "../economy/economy.tsx";
import { DateTime } from "../layout/date-time.tsx";
import { formatBytes, formatRatio, formatSize } from "../layout/format.ts";
import { Csrf, FieldError, Layout } from "../layout/layout.tsx";
import { MemberLink } from "../layout/member-link.tsx";
import type { PageContext } from "../layout/page.ts";
import { type BioLimits, ProfileForm } from "../profiles/profile.tsx";
import { ApiTokensSection, RssSection, type TokenLimits, type TokenView } from "./tokens.tsx";

/** A member's totals, as the account and member pages show them. */
export interface TransferTotals {
  /** Bytes; a BigInt above 2^53. */
  uploaded: number | bigint;
  downloaded: number | bigint;
  snatches: number;
}

/** The member whose account page this is. */
export interface AccountMember extends TransferTotals {
  name: string;
  createdAt: Date;
  inviter: string | null;
}

/** A torrent the member uploaded. */
export interface UploadItem {
  id: number;
  title: string;
  size: number;
  createdAt: Date;
}

/** Shortest and longest password the site takes. */
export interface PasswordLimits {
  min: number;
  max: number;
}

/** The member's own page: totals, uploads, announce URL, passkey and password forms. */
export function AccountPage(props: {
  page: PageContext;
  member: AccountMember;
  uploads: { rows: UploadItem[]; total: number };
  announceUrl: string;
  tokens: TokenView[];
  tokenLimits: TokenLimits;
  passwordLimits: PasswordLimits;
  createdToken?: { token: string };
  tokenName?: string;
  feedUrl: string;
  profile: { bio: string; hideTransfer: boolean };
  bioLimits: BioLimits;
  /** Hit-and-runs now, snatches at risk, and bonus points in thousandths. */
  economy: { hitAndRuns: number; atRisk: number; millipoints: number };
  notice?: string;
  errors?: Record<string, string>;
}) {
  const { base } = props.page;
  const { member, uploads } = props;
  return (
    <Layout page={props.page} title="Your account">
      <h1 safe>{member.name}</h1>
      {props.notice ? (
        <div class="notice good" role="status" safe>
          {props.notice}
        </div>
      ) : (
        ""
      )}
      <section class="card">
        <dl class="facts">
          <dt>Member since</dt>
          <dd>
            <DateTime date={member.createdAt} day />
          </dd>
          <dt>Invited by</dt>
          <dd>
            <MemberLink base={base} name={member.inviter} />
          </dd>
          <TransferFacts member={member} />
          <dt>Hit-and-runs</dt>
          <dd>
            <a href={`${base}/account/hit-and-runs`} id="account-hnr">
              {props.economy.hitAndRuns}
            </a>
            {props.economy.atRisk > 0 ? <span class="muted"> ({props.economy.atRisk} at risk)</span> : ""}
          </dd>
          <dt>Bonus points</dt>
          <dd>
            <a href={`${base}/account/bonus`} id="account-bonus" safe>
              {formatPoints(props.economy.millipoints)}
            </a>
          </dd>
        </dl>
      </section>

      <ProfileForm
        page={props.page}
        name={member.name}
        bio={props.profile.bio}
        hideTransfer={props.profile.hideTransfer}
        limits={props.bioLimits}
        errors={props.errors}
      />

      <h2>Announce URL</h2>
      <section class="card stack">
        <details class="secret" id="passkey">
          <summary>Show the announce URL (it holds your passkey)</summary>
          <p class="mono" id="announce-url" safe>
            {props.announceUrl}
          </p>
        </details>
        <p class="muted">
          The site writes it into every .torrent you download. It holds your passkey: keep it private (it
          stays hidden until you ask, so it does not show on a shared screen). If it leaked, get a new one;
          your old .torrent files then stop working at once.
        </p>
        <form method="post" action={`${base}/account/passkey`}>
          <Csrf page={props.page} />
          <button
            type="submit"
            class="danger"
            data-confirm="Get a new passkey? Your old .torrent files stop working: you will need to download them again."
          >
            Get a new passkey
          </button>
        </form>
      </section>

      <ApiTokensSection
        page={props.page}
        tokens={props.tokens}
        limits={props.tokenLimits}
        created={props.createdToken}
        name={props.tokenName}
        errors={props.errors}
      />

      <RssSection page={props.page} feedUrl={props.feedUrl} />

      <p>
        <a href={`${props.page.base}/account/history`}>My torrents: history, seed time, anonymity</a>
      </p>
      <h2>Your uploads</h2>
      {uploads.rows.length === 0 ? (
        <p class="muted">You have not uploaded any torrent.</p>
      ) : (
        <>
          <table class="list">
            <thead>
              <tr>
                <th>Title</th>
                <th class="num">Size</th>
                <th>Uploaded</th>
              </tr>
            </thead>
            <tbody>
              {uploads.rows.map((row) => (
                <tr>
                  <td class="title">
                    <a href={`${base}/torrents/${row.id}`} safe>
                      {row.title}
                    </a>
                  </td>
                  <td class="num" data-label="Size" safe>
                    {formatSize(row.size)}
                  </td>
                  <td data-label="Uploaded">
                    <DateTime date={row.createdAt} day />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {uploads.total > uploads.rows.length ? (
            <p class="muted">
              The latest {uploads.rows.length} of {uploads.total} uploads.
            </p>
          ) : (
            ""
          )}
        </>
      )}

      <h2>Change your password</h2>
      <form class="stack card" method="post" action={`${base}/account/password`}>
        <Csrf page={props.page} />
        <input type="text" name="username" value={member.name} autocomplete="username" hidden />
        <label>
          Current password
          <input
            type="password"
            name="old"
            required
            maxlength={String(props.passwordLimits.max)}
            autocomplete="current-password"
          />
          <FieldError errors={props.errors} name="old" />
        </label>
        <label>
          New password
          <input
            type="password"
            name="password"
            required
            minlength={String(props.passwordLimits.min)}
            maxlength={String(props.passwordLimits.max)}
            autocomplete="new-password"
          />
          <FieldError errors={props.errors} name="password" />
        </label>
        <label>
          Confirm the new password
          <input
            type="password"
            name="confirm"
            required
            minlength={String(props.passwordLimits.min)}
            maxlength={String(props.passwordLimits.max)}
            autocomplete="new-password"
          />
          <FieldError errors={props.errors} name="confirm" />
        </label>
        <button type="submit">Change password</button>
        <p class="muted">Your other log-ins (other browsers and devices) end when you change it.</p>
      </form>
    </Layout>
  );
}

/** A member's totals as rows of a facts list: uploaded, downloaded, ratio, snatches. */
export function TransferFacts(props: { member: TransferTotals }) {
  const { member } = props;
  return (
    <>
      <dt>Uploaded</dt>
      <dd title={formatBytes(member.uploaded)} safe>
        {formatSize(member.uploaded)}
      </dd>
      <dt>Downloaded</dt>
      <dd title={formatBytes(member.downloaded)} safe>
        {formatSize(member.downloaded)}
      </dd>
      <dt>Ratio</dt>
      <dd safe>{formatRatio(member.uploaded, member.downloaded)}</dd>
      <dt>Snatches</dt>
      <dd>{member.snatches}</dd>
    </>
  );
}
