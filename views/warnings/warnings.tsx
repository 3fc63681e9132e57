/** @jsxImportSource @kitajs/html */
import { DateTime } from "../layout/date-time.tsx";
import { Csrf, FieldError, Layout } from "../layout/layout.tsx";
import { MemberLink } from "../layout/member-link.tsx";
import type { PageContext } from "../layout/page.ts";

/** A warning as the page lists it. */
export interface WarningView {
  id: number;
  giver: string | null;
  reason: string;
  createdAt: Date;
  expiresAt: Date;
  liftedAt: Date | null;
  active: boolean;
}

/** A member's warnings: for the member (their account) or for staff, who warn and lift here. */
export function WarningsPage(props: {
  page: PageContext;
  member: { id: number; name: string };
  warnings: readonly WarningView[];
  /** Active warnings that pause downloads (0: never). */
  pauseAfter: number;
  /** Staff: the form to warn and the lift buttons. */
  staff: boolean;
  limits: { reasonMax: number; daysMin: number; daysMax: number; daysDefault: number };
  form?: { reason: string; days: string; errors?: Record<string, string> };
  done?: string;
}) {
  const { base } = props.page;
  const active = props.warnings.filter((w) => w.active).length;
  const title = props.staff ? `Warnings of ${props.member.name}` : "Your warnings";
  return (
    <Layout page={props.page} title={title}>
      <h1 safe>{title}</h1>
      {props.done ? (
        <div class="notice good" role="status" safe>
          {props.done}
        </div>
      ) : (
        ""
      )}
      <p>
        Active warnings: <strong id="active-warnings">{active}</strong>.{" "}
        {props.pauseAfter > 0
          ? `With ${props.pauseAfter} or more, new downloads are paused (seeding goes on) until enough expire.`
          : "Warnings do not pause downloads on this site."}
      </p>
      {props.warnings.length === 0 ? (
        <p class="muted">No warnings.</p>
      ) : (
        <ul class="items" id="warnings">
          {props.warnings.map((w) => (
            <li class={w.active ? "card warning active" : "card warning"}>
              <p safe>{w.reason}</p>
              <p class="muted">
                By <MemberLink base={base} name={w.giver} />, <DateTime date={w.createdAt} day />;{" "}
                {w.liftedAt ? (
                  <>
                    lifted <DateTime date={w.liftedAt} day />
                  </>
                ) : w.active ? (
                  <>
                    until <DateTime date={w.expiresAt} day />
                  </>
                ) : (
                  <>
                    expired <DateTime date={w.expiresAt} day />
                  </>
                )}
              </p>
              {props.staff && w.active ? (
                <form method="post" action={`${base}/admin/warnings/${String(w.id)}/lift`}>
                  <Csrf page={props.page} />
                  <button type="submit" class="secondary">
                    Lift
                  </button>
                </form>
              ) : (
                ""
              )}
            </li>
          ))}
        </ul>
      )}
      {props.staff ? (
        <form
          class="stack card"
          method="post"
          action={`${base}/admin/users/${String(props.member.id)}/warnings`}
        >
          <h2>Warn this member</h2>
          <Csrf page={props.page} />
          <label>
            <span>Reason (the member reads it)</span>
            <textarea name="reason" maxlength={String(props.limits.reasonMax)} required rows="3" safe>
              {props.form?.reason ?? ""}
            </textarea>
          </label>
          <FieldError errors={props.form?.errors} name="reason" />
          <label>
            <span>Days it lasts</span>
            <input
              name="days"
              type="number"
              min={String(props.limits.daysMin)}
              max={String(props.limits.daysMax)}
              value={props.form?.days ?? String(props.limits.daysDefault)}
              required
            />
          </label>
          <FieldError errors={props.form?.errors} name="days" />
          <div class="row">
            <button type="submit">Warn</button>
          </div>
        </form>
      ) : (
        ""
      )}
    </Layout>
  );
}
