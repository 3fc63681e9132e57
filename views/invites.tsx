/** @jsxImportSource @kitajs/html */
import {
  INVITE_DAYS_MAX,
  INVITE_DAYS_MIN,
  type InviteRow,
  MAX_PENDING_INVITES,
} from "../src/db/queries/invites.ts";
import type { PageContext } from "../src/web/context.ts";
import { formatAge } from "./format.ts";
import { Csrf, FieldError, Layout } from "./layout.tsx";

/** A date and time as UTC text, "2025-01-31 14:05 UTC", in a <time> element. */
export function DateTime(props: { date: Date; day?: boolean }) {
  const iso = props.date.toISOString();
  const text = props.day ? iso.slice(0, 10) : `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
  return (
    <time datetime={iso} title={iso} safe>
      {text}
    </time>
  );
}

/** A member's invites: the form to make one, the link just made, open ones and used ones. */
export function InvitesPage(props: {
  page: PageContext;
  pending: InviteRow[];
  used: InviteRow[];
  days: string;
  errors?: Record<string, string>;
  created?: { link: string; expiresAt: Date };
  notice?: string;
}) {
  const { base } = props.page;
  const full = props.pending.length >= MAX_PENDING_INVITES;
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
            min={String(INVITE_DAYS_MIN)}
            max={String(INVITE_DAYS_MAX)}
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
            {props.pending.length} of {MAX_PENDING_INVITES} open invites used.
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
                  <DateTime date={invite.created_at} />
                </td>
                <td data-label="Expires">
                  <DateTime date={invite.expires_at} />
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
                <td class="title" data-label="Member" safe>
                  {invite.invitee ?? "(account deleted)"}
                </td>
                <td data-label="Joined">
                  {invite.claimed_at ? (
                    <time datetime={invite.claimed_at.toISOString()} safe>
                      {formatAge(invite.claimed_at)}
                    </time>
                  ) : (
                    ""
                  )}
                </td>
                <td data-label="Created">
                  <DateTime date={invite.created_at} day />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Layout>
  );
}
