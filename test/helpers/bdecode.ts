/** A small strict bencode reader for tests: strings as Uint8Array, dictionaries as Maps keyed by text. */
export function decodeStrict(bytes: Uint8Array): unknown {
  let at = 0;
  const text = (from: number, to: number) => Buffer.from(bytes.subarray(from, to)).toString("latin1");
  function value(): unknown {
    const c = bytes[at];
    if (c === 0x69) {
      const end = bytes.indexOf(0x65, at);
      const n = Number(text(at + 1, end));
      at = end + 1;
      return n;
    }
    if (c === 0x6c) {
      at++;
      const list: unknown[] = [];
      while (bytes[at] !== 0x65) list.push(value());
      at++;
      return list;
    }
    if (c === 0x64) {
      at++;
      const dict = new Map<string, unknown>();
      while (bytes[at] !== 0x65) {
        const key = Buffer.from(value() as Uint8Array).toString();
        dict.set(key, value());
      }
      at++;
      return dict;
    }
    const colon = bytes.indexOf(0x3a, at);
    const length = Number(text(at, colon));
    const out = bytes.subarray(colon + 1, colon + 1 + length);
    at = colon + 1 + length;
    return out;
  }
  const result = value();
  if (at !== bytes.length) throw new Error("trailing bytes");
  return result;
}
