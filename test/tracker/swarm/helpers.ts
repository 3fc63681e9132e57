// Small deterministic helpers shared by the swarm store suites.

/** A seeded PRNG (mulberry32) returning numbers in [0, 1). */
export function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 15), z | 1);
    z ^= z + Math.imul(z ^ (z >>> 7), z | 61);
    return ((z ^ (z >>> 14)) >>> 0) / 4294967296;
  };
}

/** A 20-byte peer id: a client prefix and the number `n` spelled out in the rest. */
export function peerId(n: number, prefix = "-FW0001-"): Uint8Array {
  const id = new Uint8Array(20);
  id.set(new TextEncoder().encode(prefix).subarray(0, 8));
  const digits = String(n).padStart(12, "0");
  for (let i = 0; i < 12; i++) id[8 + i] = digits.charCodeAt(i);
  return id;
}

/** IPv4 address bytes. */
export function v4(a: number, b: number, c: number, d: number): Uint8Array {
  return Uint8Array.of(a, b, c, d);
}

/** IPv6 address bytes `2001:db8::n` (n < 65536). */
export function v6(n: number): Uint8Array {
  const ip = new Uint8Array(16);
  ip[0] = 0x20;
  ip[1] = 0x01;
  ip[2] = 0x0d;
  ip[3] = 0xb8;
  ip[14] = n >>> 8;
  ip[15] = n & 255;
  return ip;
}

/** Hex of a byte range. */
export function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("hex");
}
