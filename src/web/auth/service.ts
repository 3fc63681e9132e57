import {
  clearLoginFailures,
  FAILURE_WINDOW_MINUTES,
  loginThrottled,
  recordLoginFailure,
  userForLogin,
} from "../../db/queries/logins.ts";
import { createSession, deleteSession } from "../../db/queries/sessions.ts";
import { hashPassword, verifyPassword } from "../../shared/secrets.ts";
import type { WebDeps } from "../deps.ts";

/** The outcome of a log-in: a new session, or why not. */
export type LogInResult =
  | { ok: true; userId: number; token: string }
  | { ok: false; problem: "invalid"; fields: Record<string, string> }
  | { ok: false; problem: "throttled"; message: string; retryAfterSeconds: number }
  | { ok: false; problem: "wrong" | "disabled"; message: string };

/** Seconds a throttled member is asked to wait. */
export const THROTTLE_SECONDS = FAILURE_WINDOW_MINUTES * 60;

// Unknown names still cost one argon2 verification, so timing does not reveal which names exist.
const dummyHashes = new Map<string, Promise<string>>();
function dummyHash(pepper: string): Promise<string> {
  let hash = dummyHashes.get(pepper);
  if (!hash) {
    hash = hashPassword("not a real password", pepper);
    dummyHashes.set(pepper, hash);
  }
  return hash;
}

/**
 * Checks a name and password and starts a session, for the log-in page and the API alike. Failed
 * tries are throttled per name and address; a disabled account is refused after its password
 * checked out (so the refusal reveals nothing to a guesser).
 */
export async function logIn(
  deps: WebDeps,
  input: { name: string; password: string; ip: string },
): Promise<LogInResult> {
  const name = input.name.trim();
  const fields: Record<string, string> = {};
  if (!name) fields.name = "Enter your name.";
  if (!input.password) fields.password = "Enter your password.";
  if (Object.keys(fields).length) return { ok: false, problem: "invalid", fields };
  if (await loginThrottled(deps.sql, name, input.ip))
    return {
      ok: false,
      problem: "throttled",
      message: `Too many failed log-ins. Wait ${FAILURE_WINDOW_MINUTES} minutes and try again.`,
      retryAfterSeconds: THROTTLE_SECONDS,
    };
  const user = await userForLogin(deps.sql, name);
  const hash = user?.password_hash ?? (await dummyHash(deps.pepper));
  if (!(await verifyPassword(input.password, hash, deps.pepper)) || !user) {
    await recordLoginFailure(deps.sql, name, input.ip);
    return { ok: false, problem: "wrong", message: "Wrong name or password." };
  }
  if (user.disabled) return { ok: false, problem: "disabled", message: "This account is disabled." };
  await clearLoginFailures(deps.sql, name);
  return { ok: true, userId: user.id, token: await createSession(deps.sql, user.id) };
}

/** Ends the session with this token. */
export async function logOut(deps: WebDeps, sessionToken: string): Promise<void> {
  await deleteSession(deps.sql, sessionToken);
}

/**
 * Checks a logged-in member's current password, for a change that needs it. Wrong guesses count
 * as failed log-ins, so a stolen session cannot find the password faster than the log-in form
 * allows.
 */
export async function checkCurrentPassword(
  deps: WebDeps,
  input: { name: string; ip: string; password: string; hash: string | null },
): Promise<"ok" | "wrong" | "throttled"> {
  if (await loginThrottled(deps.sql, input.name, input.ip)) return "throttled";
  if (input.hash && (await verifyPassword(input.password, input.hash, deps.pepper))) return "ok";
  await recordLoginFailure(deps.sql, input.name, input.ip);
  return "wrong";
}
