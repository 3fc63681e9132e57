import { isIPv4, isIPv6 } from "node:net";

/**
 * An address as the bytes peers are sent: 4 for IPv4 (including IPv4-mapped IPv6, which dual-stack
 * sockets report for IPv4 clients), 16 for IPv6; null when it is neither.
 */
export function addressBytes(address: string): Uint8Array | null {
  if (address.startsWith("::ffff:") && isIPv4(address.slice(7))) return ipv4Bytes(address.slice(7));
  if (isIPv4(address)) return ipv4Bytes(address);
  if (isIPv6(address)) return ipv6Bytes(address);
  return null;
}

function ipv4Bytes(address: string): Uint8Array {
  const out = new Uint8Array(4);
  let part = 0;
  let value = 0;
  for (let i = 0; i < address.length; i++) {
    const c = address.charCodeAt(i);
    if (c === 0x2e) {
      out[part++] = value;
      value = 0;
    } else value = value * 10 + (c - 0x30);
  }
  out[part] = value;
  return out;
}

function ipv6Bytes(address: string): Uint8Array {
  const out = new Uint8Array(16);
  let text = address;
  const zone = text.indexOf("%");
  if (zone >= 0) text = text.slice(0, zone);
  // An embedded IPv4 tail (::1.2.3.4) fills the last four bytes.
  let tail: Uint8Array | null = null;
  const lastColon = text.lastIndexOf(":");
  if (text.indexOf(".", lastColon) > 0) {
    tail = ipv4Bytes(text.slice(lastColon + 1));
    text = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const [head = "", rest] = text.split("::");
  const left = head ? head.split(":") : [];
  const right = rest === undefined ? [] : rest ? rest.split(":") : [];
  const groups = [...left, ...new Array(8 - left.length - right.length).fill("0"), ...right];
  for (let i = 0; i < 8; i++) {
    const value = Number.parseInt(groups[i]!, 16);
    out[i * 2] = value >> 8;
    out[i * 2 + 1] = value & 0xff;
  }
  if (tail) out.set(tail, 12);
  return out;
}

// Shared with the web side, which sits behind the same kind of proxy.
export { clientAddress } from "../shared/forwarded.ts";
