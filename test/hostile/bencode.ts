import { decodeStrict } from "../helpers/bdecode.ts";
import { dictionaryKeys } from "../tracker/protocol/bencode-check.ts";

/**
 * Decodes a tracker reply strictly: throws on anything a lenient reader would let pass (trailing
 * bytes, unsorted or repeated keys, leading zeros, truncation). Returns the top-level dictionary.
 */
export function decodeReply(body: Uint8Array): Map<string, unknown> {
  dictionaryKeys(body);
  const value = decodeStrict(body);
  if (!(value instanceof Map)) throw new Error("the reply is not a bencoded dictionary");
  return value;
}

/** The `failure reason` of a reply as text, or null for a normal reply. */
export function failureReason(reply: Map<string, unknown>): string | null {
  const reason = reply.get("failure reason");
  if (reason === undefined) return null;
  if (!(reason instanceof Uint8Array)) throw new Error("failure reason is not a string");
  if (reply.size !== 1) throw new Error("a failure reply has keys besides failure reason");
  return Buffer.from(reason).toString();
}
