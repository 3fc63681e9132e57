/** @jsxImportSource @kitajs/html */
import { DateTime } from "../layout/date-time.tsx";
import { formatAge } from "../layout/format.ts";
import { Csrf, FieldError, Layout } from "../layout/layout.tsx";
import { MemberLink } from "../layout/member-link.tsx";
import type { PageContext } from "../layout/page.ts";

/** An invite as its creator's list shows it. */
export interface InviteView {
  id: number;
  createdAt: Date;
  expiresAt: Date;
  claimedAt: Date | null;
  invitee: string | null;
}

/** The days an invite may stay open, and how many may be open at once. */
export interface InviteLimits {
  daysMin: number;
  daysMax: number;
  maxPending: number;
}

/** A member's invites: the form to make one, the link just made, open ones and used ones. */
export function InvitesPage(props: {
  page: PageContext;
  pending: InviteView[];
  used: InviteView[];
  limits: InviteLimits;
  days: string;
  errors?: Record<string, string>;
  created?: { link: string; expiresAt: Date };
  notice?: string;
}) {
  const { base } = props.page;
  const { daysMin, daysMax, maxPending } = props.limits;
  const full = props.pending.length >= maxPending;
  return (
    <Layout page={props.page} title="Invites">
      <h1>Invites</h1>
      {props.notice ? (
        <div class="notice good" safe>
          {props.notice}
        </div>
      ) : (
        ""
      )}
      {props.created ? (
        <div class="notice good card" role="status">
          <p>
            <strong>Invite created.</strong> Send this link to the person you invite. It is shown only now:
            copy it before leaving this page.
          </p>
          <p class="mono" id="invite-link" safe>
            {props.created.link}
          </p>
          <p class="muted">
            It works once, until <DateTime date={props.created.expiresAt} />.
          </p>
        </div>
      ) : (
        ""
      )}
      {props.errors?.form ? (
        <div class="notice bad" role="alert" safe>
          {props.errors.form}
        </div>
      ) : (
        ""
      )}
      <form class="stack card" method="post" action={`${base}/invites`}>
        <Csrf page={props.page} />
        <label>
          Valid for (days)
          <input
            type="number"
            name="days"
            value={props.days}
            required
            min={String(daysMin)}
            max={String(daysMax)}
            step="1"
            inputmode="numeric"
          />
          <FieldError errors={props.errors} name="days" />
        </label>
        <div class="row">
          <button type="submit" disabled={full}>
            Create an invite
          </button>
          <span class="muted">
            {props.pending.length} of {maxPending} open invites used.
          </span>
        </div>
      </form>

      <h2>Open invites</h2>
      {props.pending.length === 0 ? (
        <p class="muted">No open invites.</p>
      ) : (
        <table class="list">
          <thead>
            <tr>
              <th>Created</th>
              <th>Expires</th>
              <th>
                <span class="muted">Action</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {props.pending.map((invite) => (
              <tr>
                <td data-label="Created">
                  <DateTime date={invite.createdAt} />
                </td>
                <td data-label="Expires">
                  <DateTime date={invite.expiresAt} />
                </td>
                <td>
                  <form class="inline" method="post" action={`${base}/invites/${invite.id}/revoke`}>
                    <Csrf page={props.page} />
                    <button type="submit" class="danger">
                      Revoke
                    </button>
                  </form>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}

      <h2>Used invites</h2>
      {props.used.length === 0 ? (
        <p class="muted">Nobody has joined through your invites yet.</p>
      ) : (
        <table class="list">
          <thead>
            <tr>
              <th>Member</th>
              <th>Joined</th>
              <th>Created</th>
            </tr>
          </thead>
          <tbody>
            {props.used.map((invite) => (
              <tr>
                <td class="title" data-label="Member">
                  {invite.invitee === null ? (
                    "(account deleted)"
                  ) : (
                    <MemberLink base={props.page.base} name={invite.invitee} />
                  )}
                </td>
                <td data-label="Joined">
                  {invite.claimedAt ? (
                    <time datetime={invite.claimedAt.toISOString()} safe>
                      {formatAge(invite.claimedAt)}
                    </time>
                  ) : (
                    ""
                  )}
                </td>
                <td data-label="Created">
                  <DateTime date={invite.createdAt} day />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Layout>
  );
}
