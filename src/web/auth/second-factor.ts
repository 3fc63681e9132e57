import {
  type AuthenticationResponseJSON,
  generateAuthenticationOptions,
  verifyAuthenticationResponse,
} from "@simplewebauthn/server";
import * as OTPAuth from "otpauth";
import type { Config } from "../../config.ts";
import { forgiveLoginGuesses, keepLoginFailure, takeLoginGuess } from "../../db/queries/logins.ts";
import {
  acceptTotpStep,
  passkeysOf,
  passkeyUsed,
  totpOf,
  useRecoveryCode,
} from "../../db/queries/two-factor.ts";
import type { WebDeps } from "../deps.ts";
import { siteOrigin } from "../links.ts";
import { type Result, refuse, refuseField } from "../refusal.ts";

/** Seconds an authenticator app's code lasts (RFC 6238's default, what every app uses). */
export const TOTP_PERIOD_SECONDS = 30;
/** Digits of an authenticator app's code. */
export const TOTP_DIGITS = 6;
/** Seconds a log-in waits for its second factor after the password was right. */
export const SECOND_FACTOR_WAIT_SECONDS = 300;

/** The TOTP generator of a base32 secret, labelled for the member's app. */
export function totpFor(secret: string, siteName: string, memberName: string): OTPAuth.TOTP {
  return new OTPAuth.TOTP({
    issuer: siteName,
    label: memberName,
    algorithm: "SHA1",
    digits: TOTP_DIGITS,
    period: TOTP_PERIOD_SECONDS,
    secret: OTPAuth.Secret.fromBase32(secret),
  });
}

/**
 * The time step of `code` for this secret, allowing one step either side for a clock that is a
 * little off; null when it is not a current code.
 */
export function totpStep(secret: string, code: string, now: number): number | null {
  const totp = totpFor(secret, "x", "x");
  const delta = totp.validate({ token: code, timestamp: now, window: 1 });
  if (delta === null) return null;
  return Math.floor(now / 1000 / TOTP_PERIOD_SECONDS) + delta;
}

/** A recovery code as typed (any case, spaces or dashes), in the form it is stored. */
export function normalRecoveryCode(code: string): string {
  return code.toLowerCase().replace(/[\s-]/g, "");
}

/**
 * Checks a code against a member's TOTP secret (six digits; each time step once) or their unused
 * recovery codes (anything else; each works once). Not throttled: callers are.
 */
export async function codeMatches(
  deps: WebDeps,
  userId: number,
  code: string,
  options: { confirmedOnly?: boolean } = {},
): Promise<"totp" | "recovery" | null> {
  const trimmed = code.replace(/\s/g, "");
  if (/^[0-9]{6}$/.test(trimmed)) {
    const totp = await totpOf(deps.sql, userId);
    if (!totp || (options.confirmedOnly !== false && !totp.confirmedAt)) return null;
    const step = totpStep(totp.secret, trimmed, (deps.clock?.() ?? new Date()).getTime());
    if (step === null) return null;
    return (await acceptTotpStep(deps.sql, userId, step)) ? "totp" : null;
  }
  const normal = normalRecoveryCode(code);
  if (!/^[a-z0-9]{8,32}$/.test(normal)) return null;
  return (await useRecoveryCode(deps.sql, userId, normal)) ? "recovery" : null;
}

const TOO_MANY_CODES = "Too many wrong codes. Wait 15 minutes and try again.";

/**
 * The second step of a log-in: a code from the member's authenticator app or one of their
 * recovery codes. Throttled as passwords are (one guess per try, per name and address), so the
 * six digits cannot be walked through.
 */
export async function checkSecondFactorCode(
  deps: WebDeps,
  input: { userId: number; name: string; ip: string; code: string; throttleKey: string },
): Promise<Result<{ used: "totp" | "recovery" }>> {
  if (!input.code.trim()) return refuseField("code", "Enter the code from your authenticator app.");
  const guess = await takeLoginGuess(deps.sql, input.name, input.throttleKey);
  if (guess === null) return refuse("throttled", TOO_MANY_CODES, { retryAfterSeconds: 15 * 60 });
  const used = await codeMatches(deps, input.userId, input.code.slice(0, 64));
  if (!used) {
    await keepLoginFailure(deps.sql);
    return refuseField("code", "This code is not right (or was used already).", "unauthenticated");
  }
  await forgiveLoginGuesses(deps.sql, guess, input.name, input.throttleKey);
  return { ok: true, used };
}

/** The relying party of passkeys: this site's public origin and its host name. */
export function relyingParty(config: Config, request: Request): { origin: string; id: string; name: string } {
  const origin = siteOrigin(config, request);
  return { origin, id: new URL(origin).hostname, name: config.siteName };
}

/** The options a browser needs to sign a log-in with one of the member's passkeys. */
export async function passkeyLogInOptions(deps: WebDeps, userId: number, rpId: string) {
  const keys = await passkeysOf(deps.sql, userId);
  return generateAuthenticationOptions({
    rpID: rpId,
    allowCredentials: keys.map((k) => ({
      id: k.credentialId,
      transports: k.transports as AuthenticatorTransportFuture[],
    })),
    userVerification: "preferred",
  });
}

type AuthenticatorTransportFuture = "ble" | "cable" | "hybrid" | "internal" | "nfc" | "smart-card" | "usb";

/**
 * Checks a passkey's signature over `challenge` for the member, and records its new counter.
 * Counts as a guess like a code does.
 */
export async function checkPasskeyLogIn(
  deps: WebDeps,
  input: {
    userId: number;
    name: string;
    throttleKey: string;
    challenge: string | null;
    response: unknown;
    rp: { origin: string; id: string };
  },
): Promise<Result> {
  const wrong = refuse("unauthenticated", "This passkey could not be checked: try again, or use a code.");
  const guess = await takeLoginGuess(deps.sql, input.name, input.throttleKey);
  if (guess === null) return refuse("throttled", TOO_MANY_CODES, { retryAfterSeconds: 15 * 60 });
  const response = input.response as AuthenticationResponseJSON;
  const keys = await passkeysOf(deps.sql, input.userId);
  const key =
    response && typeof response === "object" && typeof response.id === "string"
      ? keys.find((k) => k.credentialId === response.id)
      : undefined;
  if (!input.challenge || !key) {
    await keepLoginFailure(deps.sql);
    return wrong;
  }
  try {
    const result = await verifyAuthenticationResponse({
      response,
      expectedChallenge: input.challenge,
      expectedOrigin: input.rp.origin,
      expectedRPID: input.rp.id,
      credential: {
        id: key.credentialId,
        publicKey: new Uint8Array(key.publicKey),
        counter: key.counter,
        transports: key.transports as AuthenticatorTransportFuture[],
      },
    });
    if (!result.verified) throw new Error("not verified");
    await passkeyUsed(deps.sql, key.id, result.authenticationInfo.newCounter);
  } catch {
    await keepLoginFailure(deps.sql);
    return wrong;
  }
  await forgiveLoginGuesses(deps.sql, guess, input.name, input.throttleKey);
  return { ok: true };
}
