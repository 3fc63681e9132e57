/** Percent-encodes every byte, as clients do for info_hash and peer_id. */
export function escapeBytes(bytes: Uint8Array): string {
  let out = "";
  for (const b of bytes) out += `%${b.toString(16).padStart(2, "0")}`;
  return out;
}

/** 20 bytes filled with `n` (and a marker in the first byte), easy to tell apart in assertions. */
export function bytes20(n: number, first = 0xaa): Uint8Array {
  const out = new Uint8Array(20).fill(n);
  out[0] = first;
  return out;
}

/** An announce query string with sensible defaults. */
export function announceQuery(p: {
  infoHash: Uint8Array;
  peerId: Uint8Array;
  port?: number;
  uploaded?: number;
  downloaded?: number;
  left?: number;
  event?: string;
  compact?: 0 | 1;
  numwant?: number;
  extra?: string;
}): string {
  const parts = [
    `info_hash=${escapeBytes(p.infoHash)}`,
    `peer_id=${escapeBytes(p.peerId)}`,
    `port=${p.port ?? 6881}`,
    `uploaded=${p.uploaded ?? 0}`,
    `downloaded=${p.downloaded ?? 0}`,
    `left=${p.left ?? 1000}`,
  ];
  if (p.event) parts.push(`event=${p.event}`);
  if (p.compact !== undefined) parts.push(`compact=${p.compact}`);
  if (p.numwant !== undefined) parts.push(`numwant=${p.numwant}`);
  if (p.extra) parts.push(p.extra);
  return parts.join("&");
}

/**
 * The credit fields (member, torrent, uploaded, downloaded, completed) of unpacked credit rows,
 * leaving out rows that carry only history: what tests of the credit rules compare.
 */
export function creditOnly(rows: readonly (readonly number[])[]): [number, number, number, number, 0 | 1][] {
  return rows
    .filter((r) => r[2] !== 0 || r[3] !== 0 || r[4] === 1)
    .map((r) => [r[0]!, r[1]!, r[2]!, r[3]!, r[4] === 1 ? 1 : 0]);
}
