import { isIPv4 } from "node:net";

/**
 * The client's address: the socket's peer, or — only when that peer is a trusted proxy — the
 * rightmost address in X-Forwarded-For that is not itself a trusted proxy. Addresses further left
 * are written by the client and could be anything.
 */
export function clientAddress(
  direct: string,
  forwardedFor: string | null,
  trusted: ReadonlySet<string>,
): string {
  if (!forwardedFor || trusted.size === 0 || !trusted.has(normalise(direct))) return direct;
  const hops = forwardedFor.split(",");
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = normalise(hops[i]!.trim());
    if (!hop) continue;
    if (!trusted.has(hop)) return hop;
  }
  return direct;
}

function normalise(address: string): string {
  return address.startsWith("::ffff:") && isIPv4(address.slice(7)) ? address.slice(7) : address;
}
