import {
  FAILURE_WINDOW_MINUTES,
  forgiveLoginGuesses,
  keepLoginFailure,
  takeLoginGuess,
  userForLogin,
} from "../../db/queries/logins.ts";
import { createSession, deleteSession } from "../../db/queries/sessions.ts";
import {
  createWait,
  deleteWait,
  findWait,
  hasSecondFactor,
  setWaitChallenge,
  takeWaitChallenge,
} from "../../db/queries/two-factor.ts";
import { hashPassword, verifyPassword } from "../../shared/secrets.ts";
import type { WebDeps } from "../deps.ts";
import { throttleAddress } from "../rate-limit.ts";
import { type Result, refuse, refuseFields } from "../refusal.ts";
import {
  checkPasskeyLogIn,
  checkSecondFactorCode,
  passkeyLogInOptions,
  SECOND_FACTOR_WAIT_SECONDS,
} from "./second-factor.ts";

/**
 * The outcome of a log-in: a new session (`token`), or for a member with a second factor who sent
 * no code, the token of the log-in that waits for it (`wait`); or why not.
 */
export type LogInResult = Result<{ userId: number; token: string } | { userId: number; wait: string }>;
/** A log-in that ended in a session, or why not. */
export type SessionResult = Result<{ userId: number; token: string }>;

/** What a member with a second factor is told when a log-in sent only the password. */
export const CODE_NEEDED =
  "This account has a second factor: send the code from its authenticator app (or a recovery code) as `code`.";

export { throttleAddress };

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

const TOO_MANY = `Too many failed log-ins. Wait ${FAILURE_WINDOW_MINUTES} minutes and try again.`;

/**
 * Checks a name and password and starts a session, for the log-in page and the API alike.
 * Guesses are throttled per name from one address and per address over all names, never per name
 * alone: nobody can lock a member out by failing their name, and an address that has not failed
 * gets its password checked. A guess is taken (and counted) before its password is checked, so
 * concurrent guesses cannot slip past the limit. A disabled account is refused after its password
 * checked out (so the refusal reveals nothing to a guesser).
 */
export async function logIn(
  deps: WebDeps,
  input: { name: string; password: string; ip: string; code?: string; mayWait?: boolean },
): Promise<LogInResult> {
  const name = input.name.trim();
  const fields: Record<string, string> = {};
  if (!name) fields.name = "Enter your name.";
  if (!input.password) fields.password = "Enter your password.";
  if (Object.keys(fields).length) return refuseFields(fields);
  const address = throttleAddress(input.ip);
  const guess = await takeLoginGuess(deps.sql, name, address);
  if (guess === null) return refuse("throttled", TOO_MANY, { retryAfterSeconds: THROTTLE_SECONDS });
  const user = await userForLogin(deps.sql, name);
  const hash = user?.passwordHash ?? (await dummyHash(deps.pepper));
  if (!(await verifyPassword(input.password, hash, deps.pepper)) || !user) {
    await keepLoginFailure(deps.sql);
    return refuse("unauthenticated", "Wrong name or password.");
  }
  await forgiveLoginGuesses(deps.sql, guess, name, address);
  if (user.disabled) return refuse("forbidden", "This account is disabled.");
  if (await hasSecondFactor(deps.sql, user.id)) {
    if (input.code === undefined || input.code === "") {
      if (!input.mayWait) return refuse("unauthenticated", CODE_NEEDED, { fields: { code: CODE_NEEDED } });
      const wait = await createWait(deps.sql, user.id, "login", SECOND_FACTOR_WAIT_SECONDS);
      return { ok: true, userId: user.id, wait };
    }
    const checked = await checkSecondFactorCode(deps, {
      userId: user.id,
      name: user.name,
      code: input.code,
      ip: input.ip,
      throttleKey: address,
    });
    if (!checked.ok) return checked;
  }
  return { ok: true, userId: user.id, token: await createSession(deps.sql, user.id) };
}

const LOG_IN_EXPIRED = "This log-in took too long: log in again with your name and password.";

/** The member a waiting log-in belongs to (for its page), or null when it is over. */
export async function waitingLogIn(deps: WebDeps, waitToken: string | null) {
  if (!waitToken || waitToken.length > 100) return null;
  return findWait(deps.sql, waitToken, "login");
}

/**
 * The second step of a log-in on the site: the code of the member whose password was right
 * (`waitToken`, from the first step). Throttled as passwords are. A session on success.
 */
export async function finishLogIn(
  deps: WebDeps,
  input: { waitToken: string | null; code: string; ip: string },
): Promise<SessionResult> {
  const wait = await waitingLogIn(deps, input.waitToken);
  if (!wait) return refuse("gone", LOG_IN_EXPIRED);
  const checked = await checkSecondFactorCode(deps, {
    userId: wait.userId,
    name: wait.name,
    code: input.code,
    ip: input.ip,
    throttleKey: throttleAddress(input.ip),
  });
  if (!checked.ok) return checked;
  await deleteWait(deps.sql, input.waitToken!);
  return { ok: true, userId: wait.userId, token: await createSession(deps.sql, wait.userId) };
}

/** What a browser needs to sign the waiting log-in with a passkey (a fresh challenge each time). */
export async function passkeyChallenge(
  deps: WebDeps,
  waitToken: string | null,
  rpId: string,
): Promise<Result<{ options: Awaited<ReturnType<typeof passkeyLogInOptions>> }>> {
  const wait = await waitingLogIn(deps, waitToken);
  if (!wait) return refuse("gone", LOG_IN_EXPIRED);
  const options = await passkeyLogInOptions(deps, wait.userId, rpId);
  await setWaitChallenge(deps.sql, waitToken!, options.challenge);
  return { ok: true, options };
}

/** The second step of a log-in by passkey: its signed answer to the wait's challenge. */
export async function finishPasskeyLogIn(
  deps: WebDeps,
  input: { waitToken: string | null; response: unknown; ip: string; rp: { origin: string; id: string } },
): Promise<SessionResult> {
  const wait = await waitingLogIn(deps, input.waitToken);
  if (!wait) return refuse("gone", LOG_IN_EXPIRED);
  const checked = await checkPasskeyLogIn(deps, {
    userId: wait.userId,
    name: wait.name,
    throttleKey: throttleAddress(input.ip),
    challenge: await takeWaitChallenge(deps.sql, input.waitToken!),
    response: input.response,
    rp: input.rp,
  });
  if (!checked.ok) return checked;
  await deleteWait(deps.sql, input.waitToken!);
  return { ok: true, userId: wait.userId, token: await createSession(deps.sql, wait.userId) };
}

/** Ends the session with this token. */
export async function logOut(deps: WebDeps, sessionToken: string): Promise<void> {
  await deleteSession(deps.sql, sessionToken);
}

/**
 * Checks a logged-in member's current password, for a change that needs it. Wrong guesses count
 * as failed log-ins from the same address, so a stolen session cannot find the password faster
 * than the log-in form allows.
 */
export async function checkCurrentPassword(
  deps: WebDeps,
  input: { name: string; ip: string; password: string; hash: string | null },
): Promise<"ok" | "wrong" | "throttled"> {
  const address = throttleAddress(input.ip);
  const guess = await takeLoginGuess(deps.sql, input.name, address);
  if (guess === null) return "throttled";
  if (input.hash && (await verifyPassword(input.password, input.hash, deps.pepper))) {
    await forgiveLoginGuesses(deps.sql, guess, input.name, address);
    return "ok";
  }
  await keepLoginFailure(deps.sql);
  return "wrong";
}

// Any origin would do: a path resolved against it must keep it, whatever the real host is.
const PROBE_ORIGIN = "http://fairywren.invalid";
/** C0 controls, DEL and backslashes: browsers drop or reinterpret them in a URL (`/<TAB>/x` is `//x`). */
const UNSAFE_IN_NEXT = /[\u0000-\u001f\u007f\\]/;

/**
 * Where to send a member after logging in: `next` when it is a path on this site (under `base`),
 * else the start page. Every form of it, decoded again and again until it stops changing, must
 * begin with a single `/` and hold no control character or backslash; then the URL parser
 * resolves it against an origin, which must stay the same. The answer is the parser's own
 * serialisation, so the Location header says exactly what a browser will follow.
 */
export function nextAfterLogIn(next: string | undefined, base: string): string {
  const home = `${base}/`;
  if (!next) return home;
  let form = next;
  for (let round = 0; ; round++) {
    if (UNSAFE_IN_NEXT.test(form) || !form.startsWith("/") || form.startsWith("//")) return home;
    let decoded: string;
    try {
      decoded = decodeURIComponent(form);
    } catch {
      // A lone "%" (a search for "100%"): nothing more can be hidden behind it.
      break;
    }
    if (decoded === form) break;
    if (round === 4) return home;
    form = decoded;
  }
  const url = new URL(next, PROBE_ORIGIN);
  if (url.origin !== PROBE_ORIGIN) return home;
  if (base && url.pathname !== base && !url.pathname.startsWith(`${base}/`)) return home;
  return `${url.pathname}${url.search}${url.hash}`;
}
