/**
 * A strict bencode reader for tests: returns each dictionary's keys as raw bytes, in the order
 * written, and throws on anything a lenient decoder would let slide (unsorted or repeated keys,
 * leading zeros, "-0", trailing bytes).
 */

/** Keys of every dictionary in the value, outermost first, as written. */
export function dictionaryKeys(buf: Uint8Array): Uint8Array[][] {
  const all: Uint8Array[][] = [];
  const end = walk(buf, 0, all);
  if (end !== buf.length) throw new Error(`trailing bytes at ${end}`);
  return all;
}

/** Raw-byte comparison; a prefix sorts first. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = a[i]! - b[i]!;
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

function at(buf: Uint8Array, pos: number): number {
  const byte = buf[pos];
  if (byte === undefined) throw new Error(`truncated at ${pos}`);
  return byte;
}

function readInteger(buf: Uint8Array, pos: number, terminator: number): [number, number] {
  const start = pos;
  if (at(buf, pos) === 0x2d) pos++;
  const digitsStart = pos;
  while (at(buf, pos) !== terminator) {
    const c = at(buf, pos);
    if (c < 0x30 || c > 0x39) throw new Error(`bad digit at ${pos}`);
    pos++;
  }
  const digits = pos - digitsStart;
  if (digits === 0) throw new Error(`empty integer at ${start}`);
  if (digits > 1 && at(buf, digitsStart) === 0x30) throw new Error(`leading zero at ${start}`);
  if (digitsStart > start && at(buf, digitsStart) === 0x30) throw new Error(`negative zero at ${start}`);
  const text = new TextDecoder().decode(buf.subarray(start, pos));
  return [Number(text), pos + 1];
}

function readString(buf: Uint8Array, pos: number): [Uint8Array, number] {
  const [length, start] = readInteger(buf, pos, 0x3a);
  if (length < 0) throw new Error(`negative string length at ${pos}`);
  if (start + length > buf.length) throw new Error(`string overruns buffer at ${pos}`);
  return [buf.subarray(start, start + length), start + length];
}

function walk(buf: Uint8Array, pos: number, all: Uint8Array[][]): number {
  const c = at(buf, pos);
  if (c === 0x69) return readInteger(buf, pos + 1, 0x65)[1];
  if (c === 0x6c) {
    pos++;
    while (at(buf, pos) !== 0x65) pos = walk(buf, pos, all);
    return pos + 1;
  }
  if (c === 0x64) {
    const keys: Uint8Array[] = [];
    all.push(keys);
    pos++;
    while (at(buf, pos) !== 0x65) {
      const [key, next] = readString(buf, pos);
      const previous = keys[keys.length - 1];
      if (previous && compareBytes(previous, key) >= 0) throw new Error(`key out of order at ${pos}`);
      keys.push(key);
      pos = walk(buf, next, all);
    }
    return pos + 1;
  }
  return readString(buf, pos)[1];
}
