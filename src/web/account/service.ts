import { FAILURE_WINDOW_MINUTES } from "../../db/queries/logins.ts";
import { memberUploads, passwordHash, rotatePasskey, setPasswordHash } from "../../db/queries/members.ts";
import { deleteOtherSessions, leaveSessionNote, takeSessionNote } from "../../db/queries/sessions.ts";
import {
  createToken,
  MAX_TOKENS,
  memberTokens,
  type NewToken,
  revokeToken,
  rotateRssKey,
  rssKey,
  TOKEN_NAME_MAX,
} from "../../db/queries/tokens.ts";
import { hasSecondFactor } from "../../db/queries/two-factor.ts";
import { passwordProblem } from "../../db/queries/users.ts";
import { hashPassword, seal, unseal } from "../../shared/secrets.ts";
import { checkCurrentPassword, THROTTLE_SECONDS } from "../auth/service.ts";
import type { WebDeps } from "../deps.ts";
import { accountEconomy } from "../economy/service.ts";
import type { Links } from "../links.ts";
import { findMember } from "../members/service.ts";
import { moderationNotice } from "../moderation/service.ts";
import { ownSettings } from "../profiles/service.ts";
import { ownEmail } from "../recovery/service.ts";
import { type Result, refuse, refuseField, refuseFields } from "../refusal.ts";

/** How many API tokens a member may hold, and the longest name, for the form and the rule. */
export const TOKEN_LIMITS = { max: MAX_TOKENS, nameMax: TOKEN_NAME_MAX } as const;

/** Everything the account page shows. */
export async function accountOverview(deps: WebDeps, userId: number, links: Links) {
  const member = await findMember(deps, userId);
  if (!member) throw new Error(`member ${userId} of a live session is missing`);
  const uploads = await memberUploads(deps.sql, userId);
  return {
    member,
    uploads: { ...uploads, rows: uploads.rows.map((row) => ({ ...row, notice: moderationNotice(row) })) },
    announceUrl: links.announce(member.passkey),
    tokens: await memberTokens(deps.sql, userId),
    feedUrl: `${links.site}/rss/${await rssKey(deps.sql, userId)}`,
    profile: (await ownSettings(deps, userId)) ?? { bio: "", hideTransfer: false },
    economy: await accountEconomy(deps, userId),
    email: await ownEmail(deps, userId),
    twoFactor: await hasSecondFactor(deps.sql, userId),
  };
}

/** Gives the member a new passkey (their old .torrent files stop working) and tells the tracker. */
export async function newPasskey(deps: WebDeps, userId: number): Promise<void> {
  await rotatePasskey(deps.sql, userId);
  await deps.sync.user(userId);
}

/** Gives the member a new RSS key: the old feed address stops working. */
export async function newFeedKey(deps: WebDeps, userId: number): Promise<void> {
  await rotateRssKey(deps.sql, userId);
}

/** A new API token (shown once), or why not. */
export type TokenResult = Result<{ token: NewToken }>;

/** Creates an API token named `rawName` for the member, within the name rules and the count limit. */
export async function createApiToken(deps: WebDeps, userId: number, rawName: string): Promise<TokenResult> {
  const name = rawName.trim();
  if (!name) return refuseField("token_name", "Name the token, e.g. after the program that uses it.");
  // PostgreSQL text cannot hold U+0000 (nor should a name).
  if (/[\u0000-\u001f\u007f]/.test(name))
    return refuseField("token_name", "Use letters, digits, spaces and punctuation only.");
  if (name.length > TOKEN_NAME_MAX)
    return refuseField("token_name", `Use at most ${TOKEN_NAME_MAX} characters.`);
  const token = await createToken(deps.sql, userId, name);
  if (!token)
    return refuseField(
      "tokens",
      `You have ${MAX_TOKENS} tokens, the most allowed: revoke one first.`,
      "conflict",
    );
  return { ok: true, token };
}

/** How long a new API token waits, sealed, for the page that shows it. */
export const NEW_TOKEN_SECONDS = 300;
const NEW_TOKEN_NOTE = "new api token";

/**
 * Holds a new API token for the next page of this session (the account page after a redirect,
 * so a reload sends nothing again), sealed with a key only the session's cookie gives: the
 * database row alone does not reveal it, and the token never goes into an address.
 */
export async function holdNewToken(deps: WebDeps, sessionToken: string, token: string): Promise<void> {
  await leaveSessionNote(
    deps.sql,
    sessionToken,
    seal(token, sessionToken, NEW_TOKEN_NOTE),
    NEW_TOKEN_SECONDS,
  );
}

/** The API token held for this session, once: the first read takes it. */
export async function takeNewToken(deps: WebDeps, sessionToken: string): Promise<string | null> {
  const sealed = await takeSessionNote(deps.sql, sessionToken);
  return sealed ? unseal(sealed, sessionToken, NEW_TOKEN_NOTE) : null;
}

/** Revokes one of the member's API tokens. */
export async function revokeApiToken(deps: WebDeps, userId: number, tokenId: number): Promise<Result> {
  if (await revokeToken(deps.sql, tokenId, userId)) return { ok: true };
  return refuse("not_found", "You have no API token with this number.");
}

/** A password change that was made, or why not (problems by field; 429 while throttled). */
export type PasswordResult = Result;

/**
 * Changes a member's own password, for the account page and the API alike: the current one must be
 * right (wrong guesses count as failed log-ins and are throttled as they are), the new one within
 * the rules, and `confirm`, when sent, must repeat it. Every other session of theirs ends; the one
 * named by `keepSession`, if any, stays.
 */
export async function changePassword(
  deps: WebDeps,
  actor: { id: number; name: string },
  input: {
    userId: number;
    old: string;
    password: string;
    confirm?: string;
    ip: string;
    keepSession?: string;
  },
): Promise<PasswordResult> {
  if (input.userId !== actor.id)
    return refuseField("id", "Members change only their own password.", "forbidden");
  const fields: Record<string, string> = {};
  if (!input.old) fields.old = "Enter your current password.";
  const problem = passwordProblem(input.password);
  if (problem) fields.password = problem;
  else if (input.confirm !== undefined && input.confirm !== input.password)
    fields.confirm = "The two new passwords differ.";
  if (Object.keys(fields).length) return refuseFields(fields);
  const check = await checkCurrentPassword(deps, {
    name: actor.name,
    ip: input.ip,
    password: input.old,
    hash: await passwordHash(deps.sql, actor.id),
  });
  if (check === "throttled") {
    const message = `Too many wrong passwords. Wait ${FAILURE_WINDOW_MINUTES} minutes and try again.`;
    return refuse("throttled", message, { fields: { old: message }, retryAfterSeconds: THROTTLE_SECONDS });
  }
  if (check === "wrong") return refuseFields({ old: "This is not your current password." });
  await setPasswordHash(deps.sql, actor.id, await hashPassword(input.password, deps.pepper));
  await deleteOtherSessions(deps.sql, actor.id, input.keepSession);
  return { ok: true };
}
