import type { Role } from "../db/queries/users.ts";
import { type Result, refuse } from "./refusal.ts";

/** Moderators and administrators: who may look after members and any torrent. */
export const STAFF: readonly Role[] = ["moderate", "admin"];

/** Someone acting through a service: their id and roles (a viewer of a page, or an API caller). */
export interface Actor {
  readonly id: number;
  can(role: Role): boolean;
}

/** Whether the actor is staff (moderator or administrator). */
export function isStaff(actor: { can(role: Role): boolean }): boolean {
  return STAFF.some((role) => actor.can(role));
}

/**
 * The one rule of who may use a page or an API route: anyone logged in holding one of `anyOf`
 * (any member when empty). The page gate (gate.tsx) and the API's (api/context.ts) both ask it.
 */
export function admission(viewer: { can(role: Role): boolean } | null, anyOf: readonly Role[]): Result {
  if (!viewer) return refuse("unauthenticated", "Log in first.");
  if (anyOf.length > 0 && !anyOf.some((role) => viewer.can(role))) {
    const needed = anyOf.length === 1 ? `the ${anyOf[0]} role` : `one of the roles ${anyOf.join(", ")}`;
    return refuse("forbidden", `This needs ${needed}, which your account does not have.`);
  }
  return { ok: true };
}
