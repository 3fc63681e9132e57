import type { Sql } from "../../db/client.ts";
import {
  type HeldTorrent,
  heldTorrents,
  moderationForUpdate,
  pendingCount,
  setModeration,
} from "../../db/queries/moderation.ts";
import type { Moderation } from "../../db/queries/torrents.ts";
import { log } from "../../log.ts";
import { type Actor, isStaff } from "../access.ts";
import { recordStaffAction } from "../audit/service.ts";
import type { WebDeps } from "../deps.ts";
import { sendSystemMessage } from "../messages/service.ts";
import { NO_TORRENT, type Result, refuse, refuseField } from "../refusal.ts";

/** Torrents per page of the queue. */
export const QUEUE_PER_PAGE = 50;
/** Longest reason of a rejection or note of a postponement. */
export const MODERATION_NOTE_MAX = 1000;

/** What a moderator decides on a torrent in the queue. */
export type Decision = "approve" | "reject" | "postpone";
export const DECISIONS: readonly Decision[] = ["approve", "reject", "postpone"];

/**
 * Whether an upload by `uploader` waits in the moderation queue: with `site.moderateUploads` on,
 * unless they hold the `trusted` role or are staff.
 */
export function uploadHeld(deps: Pick<WebDeps, "config">, uploader: Actor): boolean {
  if (!deps.config.site.moderateUploads) return false;
  return !(uploader.can("trusted") || isStaff(uploader));
}

/** Whether the actor may see a torrent in this state: approved ones everyone, held ones their uploader and staff. */
export function maySee(
  actor: Actor | null,
  torrent: { moderation: Moderation; creatorId: number | null },
): boolean {
  if (torrent.moderation === "approved") return true;
  if (!actor) return false;
  return torrent.creatorId === actor.id || isStaff(actor);
}

/** Which held torrents a list shows the actor: all for staff, their own for a member. */
export function heldShownTo(actor: Actor | null): "all" | { userId: number } | undefined {
  if (!actor) return undefined;
  return isStaff(actor) ? "all" : { userId: actor.id };
}

/**
 * The words that tell the uploader where their torrent stands (null once approved without a
 * note): the one notice of this feature, shown on the torrent page and the uploads list, and
 * the text a message to the uploader will carry.
 */
export function moderationNotice(torrent: { moderation: Moderation; moderationNote: string }): string | null {
  const note = torrent.moderationNote.trim();
  switch (torrent.moderation) {
    case "pending":
      return note
        ? `Waiting for moderation (postponed by a moderator: ${note}). The tracker refuses it until it is approved.`
        : "Waiting for moderation: the tracker refuses it until a moderator approves it.";
    case "rejected":
      return `Rejected by a moderator: ${note || "no reason given"}.`;
    case "approved":
      return null;
  }
}

/** Tells the uploader of a decision: a system message (their pages show it too, through moderationNotice). */
async function tellUploader(
  sql: Sql,
  torrent: { id: number; creatorId: number | null; title?: string },
  notice: string | null,
): Promise<void> {
  if (torrent.creatorId === null || notice === null) return;
  log.info("moderation decision", { torrent: torrent.id, uploader: torrent.creatorId });
  await sendSystemMessage(sql, {
    toUserId: torrent.creatorId,
    subject: `Your upload ${torrent.title ? `"${torrent.title}"` : `#${torrent.id}`}: a moderator's decision`,
    body: `${notice}`,
  });
}

/** One page of the queue (pending torrents, oldest first) or of the rejected ones, for staff. */
export async function queuePage(
  deps: WebDeps,
  actor: Actor,
  input: { state: "pending" | "rejected"; page: number },
): Promise<Result<{ rows: HeldTorrent[]; hasNext: boolean; pending: number }>> {
  if (!isStaff(actor))
    return refuse("forbidden", "Only moderators and administrators see the moderation queue.");
  const rows = await heldTorrents(deps.sql, input.state, QUEUE_PER_PAGE, (input.page - 1) * QUEUE_PER_PAGE);
  return {
    ok: true,
    rows: rows.slice(0, QUEUE_PER_PAGE),
    hasNext: rows.length > QUEUE_PER_PAGE,
    pending: await pendingCount(deps.sql),
  };
}

/**
 * A moderator's decision on a torrent: approve it (the tracker serves it at once), reject it with a
 * reason (required), or postpone it (stays pending, to the back of the queue, with an optional
 * note). Recorded in the audit log with the change, and the tracker hears of it before this returns.
 * Rejected torrents may be approved later; approved ones may be rejected (taken down).
 */
export async function decide(
  deps: WebDeps,
  actor: Actor,
  id: number,
  input: { decision: string; note?: string },
): Promise<Result<{ moderation: Moderation; note: string }>> {
  if (!isStaff(actor)) return refuse("forbidden", "Only moderators and administrators decide on uploads.");
  const decision = input.decision as Decision;
  if (!DECISIONS.includes(decision)) return refuseField("decision", "Choose approve, reject or postpone.");
  const note = (input.note ?? "").replace(/\r\n/g, "\n").trim();
  if (note.length > MODERATION_NOTE_MAX)
    return refuseField("note", `Use at most ${MODERATION_NOTE_MAX} characters.`);
  if (decision === "reject" && note === "")
    return refuseField("note", "Say why the torrent is rejected: the uploader reads it.");
  const state: Moderation =
    decision === "approve" ? "approved" : decision === "reject" ? "rejected" : "pending";
  const outcome = await deps.sql.begin(async (tx) => {
    const sql = tx as unknown as Sql;
    const torrent = await moderationForUpdate(sql, id);
    if (!torrent) return null;
    if (decision === "postpone" && torrent.moderation !== "pending")
      return { torrent, refused: "Only a torrent waiting in the queue can be postponed." };
    if (torrent.moderation === state && decision !== "postpone")
      return { torrent, refused: `This torrent is ${state} already.` };
    await setModeration(sql, id, { state, note, by: actor.id, requeue: decision === "postpone" });
    await recordStaffAction(tx, {
      actorId: actor.id,
      action: `torrent.${decision}`,
      targetType: "torrent",
      targetId: id,
      before: { moderation: torrent.moderation, note: torrent.moderationNote },
      after: { moderation: state, note },
    });
    return { torrent, refused: null };
  });
  if (!outcome) return refuse("not_found", NO_TORRENT);
  if (outcome.refused) return refuse("conflict", outcome.refused);
  await deps.sync.torrent(id);
  await tellUploader(
    deps.sql,
    outcome.torrent,
    moderationNotice({ moderation: state, moderationNote: note }),
  );
  return { ok: true, moderation: state, note };
}
