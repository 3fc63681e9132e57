import type { Sql } from "../../db/client.ts";
import { memberDetail } from "../../db/queries/members.ts";
import {
  countRecoveryRequest,
  createReset,
  emailOf,
  membersToMail,
  resetHolder,
  setEmail,
  useReset,
} from "../../db/queries/recovery.ts";
import { passwordProblem } from "../../db/queries/users.ts";
import { log } from "../../log.ts";
import { hashPassword } from "../../shared/secrets.ts";
import { type Actor, isStaff } from "../access.ts";
import { recordStaffAction } from "../audit/service.ts";
import type { WebDeps } from "../deps.ts";
import { throttleAddress } from "../rate-limit.ts";
import { NO_MEMBER, type Result, refuse, refuseField, refuseFields } from "../refusal.ts";
import { mailConfigured, sendMail } from "./mail.ts";

/** Longest e-mail address taken (RFC 5321's limit on a path). */
export const EMAIL_MAX = 254;
/** "Forgot password" requests one address may make in `RECOVERY_WINDOW_MINUTES`. */
export const RECOVERY_REQUESTS_PER_ADDRESS = 10;
/** Reset mails one name or e-mail address may be sent in `RECOVERY_WINDOW_MINUTES`. */
export const RECOVERY_MAILS_PER_ACCOUNT = 3;
export const RECOVERY_WINDOW_MINUTES = 60;

// One "@", a dot in the domain, nothing that breaks a mail header or hides another address.
const EMAIL_SHAPE = /^[^\s@<>()[\]",;:\\]+@[^\s@<>()[\]",;:\\]+\.[^\s@<>()[\]",;:\\]+$/u;

/** The address as it is stored (trimmed), "" for none, or the problem with it. */
export function emailProblem(raw: string): string | null {
  const email = raw.trim();
  if (email === "") return null;
  if (email.length > EMAIL_MAX) return `Use at most ${EMAIL_MAX} characters.`;
  if (/[\u0000-\u001f\u007f]/.test(email) || !EMAIL_SHAPE.test(email))
    return "This is not an e-mail address (it looks like name@example.org).";
  return null;
}

/** The member's own e-mail address ("" when none), for their account page. */
export async function ownEmail(deps: WebDeps, userId: number): Promise<string> {
  return (await emailOf(deps.sql, userId)) ?? "";
}

/** Sets or (empty) removes a member's own e-mail address; only their own. */
export async function changeEmail(deps: WebDeps, actor: Actor, userId: number, raw: string): Promise<Result> {
  if (actor.id !== userId)
    return refuseField("id", "Members change only their own e-mail address.", "forbidden");
  const problem = emailProblem(raw);
  if (problem) return refuseFields({ email: problem });
  await setEmail(deps.sql, userId, raw.trim() || null);
  return { ok: true };
}

/** A reset link staff issued: its address and when it stops working. */
export type ResetLinkResult = Result<{ url: string; expiresAt: Date; memberName: string }>;

/**
 * A one-time password reset link for a member, issued by staff (to pass on by a channel they
 * trust). Moderators may issue one for members, only administrators for staff. Using it also
 * removes the member's second factors (see `useReset`).
 */
export async function issueResetLink(
  deps: WebDeps,
  actor: Actor,
  userId: number,
  siteRoot: string,
): Promise<ResetLinkResult> {
  if (!isStaff(actor))
    return refuse("forbidden", "Only moderators and administrators can issue reset links.");
  const member = await memberDetail(deps.sql, userId);
  if (!member) return refuse("not_found", NO_MEMBER);
  if (member.roles.some((r) => r === "moderate" || r === "admin") && !actor.can("admin"))
    return refuse(
      "forbidden",
      "Only an administrator can issue a reset link for a moderator or administrator.",
    );
  if (member.disabled) return refuse("conflict", "This account is disabled: enable it first.");
  const reset = await deps.sql.begin(async (tx) => {
    const made = await createReset(tx as unknown as Sql, userId, deps.config.site.resetLinkMinutes, actor.id);
    await recordStaffAction(tx, {
      actorId: actor.id,
      action: "member.reset_link",
      targetType: "member",
      targetId: userId,
      before: null,
      after: { expiresAt: made.expiresAt.toISOString() },
    });
    return made;
  });
  return {
    ok: true,
    url: `${siteRoot}/reset/${reset.token}`,
    expiresAt: reset.expiresAt,
    memberName: member.name,
  };
}

/** What the "Forgot password" page says happened, whatever the name: nothing about the account. */
export const RESET_REQUESTED =
  "If an account has this name or e-mail address and an address to write to, a reset link is on its way. It works once, within the time the mail says. Nothing came? Ask staff.";

/**
 * "Forgot password": sends a reset link to the address of the member with this name or address,
 * if there is one. The answer is the same whether or not there is (the lookup and the sending run
 * after it, in the background). Throttled per client address (refused when over) and per name or
 * address asked for (quietly not sent when over).
 */
export async function requestReset(
  deps: WebDeps,
  input: { who: string; ip: string; siteRoot: string },
): Promise<Result> {
  if (!mailConfigured(deps.config))
    return refuse("conflict", "This site sends no mail: ask a moderator or administrator for a reset link.");
  const who = input.who.trim();
  if (!who || who.length > EMAIL_MAX || /[\u0000-\u001f\u007f]/.test(who))
    return refuseFields({ who: "Enter your name or your e-mail address." });
  const ipKey = `ip:${throttleAddress(input.ip)}`;
  const whoKey = `to:${who.toLowerCase()}`;
  const overIp = await countRecoveryRequest(
    deps.sql,
    [ipKey],
    RECOVERY_REQUESTS_PER_ADDRESS,
    RECOVERY_WINDOW_MINUTES,
  );
  if (overIp.size)
    return refuse("throttled", `Too many requests. Wait ${RECOVERY_WINDOW_MINUTES} minutes and try again.`, {
      retryAfterSeconds: RECOVERY_WINDOW_MINUTES * 60,
    });
  const overWho = await countRecoveryRequest(
    deps.sql,
    [whoKey],
    RECOVERY_MAILS_PER_ACCOUNT,
    RECOVERY_WINDOW_MINUTES,
  );
  if (!overWho.size) void mailResetLinks(deps, who, input.siteRoot);
  return { ok: true };
}

/** The lookup and the mail of `requestReset`, after its answer left. */
async function mailResetLinks(deps: WebDeps, who: string, siteRoot: string): Promise<void> {
  try {
    const minutes = deps.config.site.resetLinkMinutes;
    for (const member of await membersToMail(deps.sql, who)) {
      const reset = await createReset(deps.sql, member.id, minutes, null);
      await sendMail(deps.config, {
        to: member.email,
        subject: `${deps.config.siteName}: reset your password`,
        text: [
          `Someone (we hope you) asked to reset the password of ${member.name} on ${deps.config.siteName}.`,
          "",
          "Choose a new password here (the link works once, for " +
            `${minutes} minutes; using it logs out your other sessions):`,
          "",
          `${siteRoot}/reset/${reset.token}`,
          "",
          "Did not ask? Ignore this mail: your password stays as it is.",
        ].join("\n"),
      });
    }
  } catch (error) {
    log.warn("password reset mail not sent", { error: (error as Error)?.message ?? String(error) });
  }
}

/** The member a reset link opens (for its page), or null when it is unknown, used or expired. */
export async function resetLinkHolder(deps: WebDeps, token: string): Promise<{ name: string } | null> {
  if (!token || token.length > 100) return null;
  const holder = await resetHolder(deps.sql, token);
  return holder ? { name: holder.name } : null;
}

/** What a dead reset link says. */
export const RESET_GONE =
  "This reset link has expired or was used already. Ask for a new one on the log-in page, or ask staff.";

/**
 * Sets a new password with a reset link: the link works once, every session of the member ends,
 * and a link from staff also removes their second factors.
 */
export async function resetPassword(
  deps: WebDeps,
  input: { token: string; password: string; confirm?: string },
): Promise<Result> {
  if (!(await resetLinkHolder(deps, input.token))) return refuse("gone", RESET_GONE);
  const problem = passwordProblem(input.password);
  if (problem) return refuseFields({ password: problem });
  if (input.confirm !== undefined && input.confirm !== input.password)
    return refuseFields({ confirm: "The two passwords differ." });
  const userId = await useReset(deps.sql, input.token, await hashPassword(input.password, deps.pepper));
  if (userId === null) return refuse("gone", RESET_GONE);
  return { ok: true };
}
