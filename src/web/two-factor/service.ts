import { randomBytes } from "node:crypto";
import {
  generateRegistrationOptions,
  type RegistrationResponseJSON,
  verifyRegistrationResponse,
} from "@simplewebauthn/server";
import * as OTPAuth from "otpauth";
import { FAILURE_WINDOW_MINUTES } from "../../db/queries/logins.ts";
import { passwordHash } from "../../db/queries/members.ts";
import {
  addPasskey,
  deletePasskey,
  deleteRecoveryCodes,
  deleteTotp,
  deleteWait,
  hasSecondFactor,
  passkeysOf,
  putWait,
  recoveryCodesLeft,
  replaceRecoveryCodes,
  startTotp,
  takeWaitChallenge,
  totpOf,
} from "../../db/queries/two-factor.ts";
import { codeMatches, normalRecoveryCode, totpFor } from "../auth/second-factor.ts";
import { checkCurrentPassword, THROTTLE_SECONDS } from "../auth/service.ts";
import type { WebDeps } from "../deps.ts";
import { type Result, refuse, refuseField } from "../refusal.ts";

/** How many recovery codes a member is given at a time. */
export const RECOVERY_CODE_COUNT = 10;
/** Longest name of a passkey. */
export const PASSKEY_NAME_MAX = 64;
/** Seconds a browser has to create a passkey after asking for its options. */
const ENROL_SECONDS = 300;

/** A member acting on their own account. */
export interface Owner {
  readonly id: number;
  readonly name: string;
}

/** A passkey as the two-factor page lists it. */
export interface PasskeyView {
  id: number;
  name: string;
  createdAt: Date;
  lastUsedAt: Date | null;
}

/** Everything the two-factor page shows. */
export async function twoFactorOverview(deps: WebDeps, userId: number) {
  const totp = await totpOf(deps.sql, userId);
  const keys = await passkeysOf(deps.sql, userId);
  return {
    totp: Boolean(totp?.confirmedAt),
    recoveryCodesLeft: await recoveryCodesLeft(deps.sql, userId),
    passkeys: keys.map(({ id, name, createdAt, lastUsedAt }) => ({ id, name, createdAt, lastUsedAt })),
  };
}

/** Ten new recovery codes, e.g. `k3v9q-x2mzp`: 50 random bits each. */
function newRecoveryCodes(): string[] {
  const alphabet = "abcdefghijkmnpqrstuvwxyz23456789";
  return Array.from({ length: RECOVERY_CODE_COUNT }, () => {
    const bytes = randomBytes(10);
    const chars = [...bytes].map((b) => alphabet[b & 31]).join("");
    return `${chars.slice(0, 5)}-${chars.slice(5)}`;
  });
}

/** Gives the member a fresh set of recovery codes (the old ones stop working); returns them, to show once. */
async function issueRecoveryCodes(deps: WebDeps, userId: number): Promise<string[]> {
  const codes = newRecoveryCodes();
  await replaceRecoveryCodes(deps.sql, userId, codes.map(normalRecoveryCode));
  return codes;
}

/** A new authenticator-app secret waiting for its first code: the secret and its otpauth:// URI. */
export type TotpStart = Result<{ secret: string; uri: string }>;

/**
 * Starts adding an authenticator app: a new secret (replacing one not yet confirmed) that takes
 * effect only once the member sends a code made with it.
 */
export async function startTotpEnrolment(deps: WebDeps, owner: Owner): Promise<TotpStart> {
  const secret = new OTPAuth.Secret({ size: 20 }).base32;
  if (!(await startTotp(deps.sql, owner.id, secret)))
    return refuse("conflict", "You have an authenticator app already: remove it first to add another.");
  return { ok: true, secret, uri: totpFor(secret, deps.config.siteName, owner.name).toString() };
}

/** The secret waiting for its first code, for showing the enrolment again after a wrong code. */
export async function pendingTotp(
  deps: WebDeps,
  owner: Owner,
): Promise<{ secret: string; uri: string } | null> {
  const totp = await totpOf(deps.sql, owner.id);
  if (!totp || totp.confirmedAt) return null;
  return { secret: totp.secret, uri: totpFor(totp.secret, deps.config.siteName, owner.name).toString() };
}

/**
 * Confirms the waiting secret with a code from the app: from then on log-ins ask for a code. The
 * member's first second factor comes with ten recovery codes, returned to be shown once.
 */
export async function confirmTotp(
  deps: WebDeps,
  owner: Owner,
  code: string,
): Promise<Result<{ recoveryCodes: string[] | null }>> {
  const totp = await totpOf(deps.sql, owner.id);
  if (!totp) return refuse("not_found", "Start adding an authenticator app first.");
  if (totp.confirmedAt) return refuse("conflict", "Your authenticator app is set up already.");
  const digits = code.replace(/\s/g, "");
  if (!/^[0-9]{6}$/.test(digits)) return refuseField("code", "Enter the six digits your app shows.");
  const hadCodes = (await recoveryCodesLeft(deps.sql, owner.id)) > 0;
  if ((await codeMatches(deps, owner.id, digits, { confirmedOnly: false })) !== "totp")
    return refuseField("code", "This code is not right: check the time on your phone and try the next one.");
  return { ok: true, recoveryCodes: hadCodes ? null : await issueRecoveryCodes(deps, owner.id) };
}

/**
 * Checks what stands in for the member's consent to weakening their account: their password, or
 * (for a member who lost their app) one of their recovery codes, which is used up. Wrong passwords
 * count as failed log-ins.
 */
async function consent(
  deps: WebDeps,
  owner: Owner,
  input: { password?: string; recoveryCode?: string; ip: string },
): Promise<Result> {
  if (input.recoveryCode?.trim()) {
    if ((await codeMatches(deps, owner.id, normalRecoveryCode(input.recoveryCode))) === "recovery")
      return { ok: true };
    return refuseField("recovery_code", "This is not one of your unused recovery codes.");
  }
  if (!input.password) return refuseField("password", "Enter your password (or a recovery code).");
  const check = await checkCurrentPassword(deps, {
    name: owner.name,
    ip: input.ip,
    password: input.password,
    hash: await passwordHash(deps.sql, owner.id),
  });
  if (check === "throttled") {
    const message = `Too many wrong passwords. Wait ${FAILURE_WINDOW_MINUTES} minutes and try again.`;
    return refuse("throttled", message, {
      fields: { password: message },
      retryAfterSeconds: THROTTLE_SECONDS,
    });
  }
  if (check === "wrong") return refuseField("password", "This is not your password.");
  return { ok: true };
}

/** After a factor is removed: with none left, the recovery codes go too (they guard nothing). */
async function tidyUp(deps: WebDeps, userId: number): Promise<void> {
  if (!(await hasSecondFactor(deps.sql, userId))) await deleteRecoveryCodes(deps.sql, userId);
}

/** Removes the member's authenticator app, with their password or a recovery code. */
export async function removeTotp(
  deps: WebDeps,
  owner: Owner,
  input: { password?: string; recoveryCode?: string; ip: string },
): Promise<Result> {
  const ok = await consent(deps, owner, input);
  if (!ok.ok) return ok;
  await deleteTotp(deps.sql, owner.id);
  await tidyUp(deps, owner.id);
  return { ok: true };
}

/** New recovery codes in place of the old ones, with the password; only with a second factor. */
export async function replaceRecoveryCodesWithPassword(
  deps: WebDeps,
  owner: Owner,
  input: { password?: string; ip: string },
): Promise<Result<{ recoveryCodes: string[] }>> {
  if (!(await hasSecondFactor(deps.sql, owner.id)))
    return refuse("conflict", "Recovery codes go with a second factor: add one first.");
  const ok = await consent(deps, owner, { password: input.password, ip: input.ip });
  if (!ok.ok) return ok;
  return { ok: true, recoveryCodes: await issueRecoveryCodes(deps, owner.id) };
}

/** The key of a session's passkey enrolment: one ceremony at a time per session. */
function enrolKey(sessionToken: string): string {
  return `enrol:${sessionToken}`;
}

/** Options for the browser to create a passkey for this member (a fresh challenge each time). */
export async function passkeyRegistrationOptions(
  deps: WebDeps,
  owner: Owner,
  sessionToken: string,
  rp: { id: string; name: string },
) {
  const keys = await passkeysOf(deps.sql, owner.id);
  const options = await generateRegistrationOptions({
    rpName: rp.name,
    rpID: rp.id,
    userName: owner.name,
    userID: new TextEncoder().encode(`fairywren-member-${owner.id}`),
    attestationType: "none",
    excludeCredentials: keys.map((k) => ({ id: k.credentialId })),
    authenticatorSelection: { residentKey: "preferred", userVerification: "preferred" },
  });
  await putWait(deps.sql, enrolKey(sessionToken), owner.id, "enrol", ENROL_SECONDS, options.challenge);
  return options;
}

/**
 * Stores the passkey the browser created, once its answer to this session's challenge checks
 * out. The member's first second factor comes with ten recovery codes, returned to be shown once.
 */
export async function addPasskeyFor(
  deps: WebDeps,
  owner: Owner,
  input: { sessionToken: string; name: string; response: unknown; rp: { origin: string; id: string } },
): Promise<Result<{ recoveryCodes: string[] | null }>> {
  const name = input.name.trim() || "Passkey";
  if (name.length > PASSKEY_NAME_MAX || /[\u0000-\u001f\u007f]/.test(name))
    return refuseField("name", `Name the passkey in at most ${PASSKEY_NAME_MAX} letters, digits and spaces.`);
  const challenge = await takeWaitChallenge(deps.sql, enrolKey(input.sessionToken));
  await deleteWait(deps.sql, enrolKey(input.sessionToken));
  if (!challenge) return refuse("gone", "This passkey took too long to create: try again.");
  let info: Awaited<ReturnType<typeof verifyRegistrationResponse>>["registrationInfo"];
  try {
    const result = await verifyRegistrationResponse({
      response: input.response as RegistrationResponseJSON,
      expectedChallenge: challenge,
      expectedOrigin: input.rp.origin,
      expectedRPID: input.rp.id,
      requireUserVerification: false,
    });
    if (!result.verified) throw new Error("not verified");
    info = result.registrationInfo;
  } catch {
    return refuse("invalid", "The browser's answer could not be checked: try again.");
  }
  const hadFactor = await hasSecondFactor(deps.sql, owner.id);
  const added = await addPasskey(deps.sql, owner.id, {
    credentialId: info.credential.id,
    publicKey: info.credential.publicKey,
    counter: info.credential.counter,
    transports: info.credential.transports ?? [],
    name,
  });
  if (!added) return refuse("conflict", "This passkey is registered already.");
  const hadCodes = hadFactor || (await recoveryCodesLeft(deps.sql, owner.id)) > 0;
  return { ok: true, recoveryCodes: hadCodes ? null : await issueRecoveryCodes(deps, owner.id) };
}

/** Removes one of the member's passkeys, with their password or a recovery code. */
export async function removePasskey(
  deps: WebDeps,
  owner: Owner,
  passkeyId: number,
  input: { password?: string; recoveryCode?: string; ip: string },
): Promise<Result> {
  const keys = await passkeysOf(deps.sql, owner.id);
  if (!keys.some((k) => k.id === passkeyId))
    return refuse("not_found", "You have no passkey with this number.");
  const ok = await consent(deps, owner, input);
  if (!ok.ok) return ok;
  await deletePasskey(deps.sql, owner.id, passkeyId);
  await tidyUp(deps, owner.id);
  return { ok: true };
}
