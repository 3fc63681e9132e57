/**
 * Hostile request bodies for the web site's forms: the same logical fields written every way a
 * broken or malicious client might (form-encoded, multipart, JSON, raw bytes), with values that are
 * wrong in type, size, encoding or content.
 */
import type { Rng } from "./fuzz.ts";

/** A request body and what the server should read from it. */
export interface Body {
  body: BodyInit | null;
  /** Content-Type header, or null to send none. */
  type: string | null;
  /**
   * The fields as the server must read them when it reads them correctly, all strings; null when
   * the body is not a well-formed form of string fields (then the request must not be accepted,
   * unless the form has no required field).
   */
  fields: Record<string, string> | null;
  /** How it was written, for failure messages. */
  how: string;
  /** A short printable rendering, for failure messages. */
  preview: string;
}

/** Values that break something: type, range, size, encoding or content. */
export function hostileValue(rng: Rng): string {
  switch (rng.int(12)) {
    case 0:
      return "";
    case 1:
      return rng.pick([" ", "\t", "\r\n", "   \u00a0"]);
    case 2:
      return rng.pick([
        "-1",
        "0",
        "1e309",
        "0x10",
        "99999999999999999999",
        "NaN",
        "Infinity",
        "1.5",
        "-0",
        "[]",
        "{}",
        "null",
        "true",
      ]);
    case 3:
      return `a\u0000b`;
    case 4:
      return rng.chance(0.15) ? "x".repeat(1024 * 1024) : "y".repeat(rng.pick([65, 201, 1025, 5000, 20001]));
    case 5:
      return rng.pick(["\ud800", "a\udfffb", "\ufffe", "😀".repeat(40), "\u202eevil", "é"]);
    case 6:
      return rng.pick([
        "<script>alert(1)</script>",
        "' or 1=1 --",
        '"; drop table users; --',
        "../../etc/passwd",
        "%00",
        "%FF",
        "%",
      ]);
    case 7:
      return rng.pick([
        "admin",
        "upload",
        "invite",
        "moderate",
        "grant",
        "revoke",
        "ADMIN",
        "admin ",
        "admin\u0000",
      ]);
    default:
      return rng.nastyText(rng.range(1, 40));
  }
}

/** Percent-encodes a string's UTF-8 bytes (lone surrogates become U+FFFD, as any encoder does). */
function formEscape(text: string): string {
  let out = "";
  for (const b of Buffer.from(text, "utf8")) {
    const c = String.fromCharCode(b);
    out += /[A-Za-z0-9*\-._]/.test(c) ? c : `%${b.toString(16).padStart(2, "0").toUpperCase()}`;
  }
  return out;
}

function short(text: string): string {
  return text.length > 300 ? `${text.slice(0, 300)}…(${text.length})` : text;
}

/** Picks which fields a body carries: mostly the form's own (good or hostile values), some extras. */
export function pickFields(
  rng: Rng,
  good: Record<string, (rng: Rng) => string>,
  goodRate = 0.5,
): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const [name, make] of Object.entries(good)) {
    if (rng.chance(0.12)) continue;
    fields[name] = rng.chance(goodRate) ? make(rng) : hostileValue(rng);
  }
  for (let i = rng.int(3); i > 0; i--) {
    const name = rng.pick([
      "__proto__",
      "constructor",
      "x",
      "",
      "name[]",
      "a b",
      "é",
      "_csrf2",
      "role[]",
      rng.nastyText(5),
    ]);
    if (name === "__proto__" || name === "constructor") continue;
    fields[name] = hostileValue(rng);
  }
  return fields;
}

/** Writes `fields` in one of many ways, most of them wrong. */
export function encodeBody(rng: Rng, fields: Record<string, string>): Body {
  const entries = Object.entries(fields);
  const wellFormed = Object.fromEntries(entries.map(([k, v]) => [k.toWellFormed(), v.toWellFormed()]));
  const preview = short(JSON.stringify(fields));
  switch (rng.int(12)) {
    case 0:
    case 1:
    case 2: {
      const body = entries.map(([k, v]) => `${formEscape(k)}=${formEscape(v)}`).join("&");
      return { body, type: "application/x-www-form-urlencoded", fields: wellFormed, how: "form", preview };
    }
    case 3: {
      // Invalid UTF-8, broken escapes and stray separators in a form body.
      const junk = [
        "%FF",
        "%C3",
        "%C3%28",
        "%ED%A0%80",
        "%F4%90%80%80",
        "%",
        "%%",
        "%G1",
        "%0",
        "&&",
        "==",
        "+",
      ];
      const body = entries
        .map(([k, v]) => `${formEscape(k)}=${formEscape(v.slice(0, 50))}${rng.pick(junk)}${rng.pick(junk)}`)
        .join(rng.pick(["&", "&&", ";"]));
      return {
        body,
        type: "application/x-www-form-urlencoded",
        fields: null,
        how: "form with invalid UTF-8",
        preview: short(body),
      };
    }
    case 4:
    case 5: {
      const form = new FormData();
      for (const [k, v] of entries) form.append(k, v);
      let how = "multipart";
      let known: Record<string, string> | null = wellFormed;
      if (rng.chance(0.3) && entries.length > 0) {
        const [k] = rng.pick(entries);
        if (rng.chance(0.5)) {
          // A text field sent as a file: the server must not read it as the text.
          form.set(k, new File([rng.bytes(rng.range(0, 200))], "f.bin"));
          how = `multipart with ${JSON.stringify(k)} as a file`;
          const { [k.toWellFormed()]: _dropped, ...rest } = wellFormed;
          known = rest;
        } else {
          // The same field twice: which one wins is the server's choice.
          form.append(k, hostileValue(rng));
          how = `multipart with ${JSON.stringify(k)} twice`;
          known = null;
        }
      }
      return { body: form, type: null, fields: known, how, preview };
    }
    case 6: {
      // Hand-made multipart: a missing, wrong or truncated boundary, raw bytes in a value.
      const boundary = "----hostile";
      const parts = entries.map(
        ([k, v]) =>
          `--${boundary}\r\nContent-Disposition: form-data; name="${k.replace(/"/g, "")}"\r\n\r\n${v.slice(0, 100)}\r\n`,
      );
      let text = `${parts.join("")}--${boundary}--\r\n`;
      const variant = rng.int(6);
      let type = `multipart/form-data; boundary=${boundary}`;
      if (variant === 0) type = "multipart/form-data";
      else if (variant === 1) type = "multipart/form-data; boundary=other";
      else if (variant === 2) text = text.slice(0, rng.int(text.length));
      else if (variant === 3) type = "multipart/form-data; boundary=";
      const bytes = Buffer.concat([
        Buffer.from(text, "utf8"),
        variant === 4 ? Buffer.from([0xff, 0xfe, 0xc3]) : Buffer.alloc(0),
      ]);
      if (variant === 5)
        bytes.set(rng.bytes(Math.min(10, bytes.length)), rng.int(Math.max(1, bytes.length - 10)));
      return {
        body: bytes,
        type,
        fields: null,
        how: `raw multipart variant ${variant}`,
        preview: short(text),
      };
    }
    case 7:
    case 8: {
      // JSON where a form is expected: the same fields, or the same with wrong types.
      const typed = rng.chance(0.5);
      const object: Record<string, unknown> = {};
      for (const [k, v] of entries)
        object[k] = typed ? rng.pick<unknown>([v, 1, -1, 1e308, null, true, [v], { v }, ""]) : v;
      const allStrings = Object.values(object).every((v) => typeof v === "string");
      return {
        body: JSON.stringify(object),
        type: rng.pick(["application/json", "application/json; charset=utf-8", "text/json"]),
        fields: allStrings ? (object as Record<string, string>) : null,
        how: typed ? "JSON with wrong types" : "JSON",
        preview: short(JSON.stringify(object)),
      };
    }
    case 9: {
      const body = rng.pick([
        "null",
        "[]",
        "[1,2,3]",
        '"text"',
        "42",
        "{",
        '{"a":',
        "{}",
        '{"__proto__":{"admin":true}}',
        `${"[".repeat(100_000)}${"]".repeat(100_000)}`,
        `${'{"a":'.repeat(50_000)}1${"}".repeat(50_000)}`,
      ]);
      return { body, type: "application/json", fields: null, how: "odd JSON", preview: short(body) };
    }
    case 10: {
      const bytes = rng.bytes(rng.pick([0, 1, 10, 1000, 70_000]));
      const type = rng.pick([
        null,
        "text/plain",
        "application/octet-stream",
        "application/xml",
        "application/x-www-form-urlencoded; charset=utf-16",
        "multipart/mixed",
        "image/png",
        "*/*",
        ";;;",
        "application/json",
        "application/x-www-form-urlencoded",
      ]);
      return {
        body: bytes,
        type,
        fields: null,
        how: `random bytes as ${type}`,
        preview: `bytes(${bytes.length})`,
      };
    }
    default: {
      // The right body under the wrong Content-Type, or under none.
      const body = entries.map(([k, v]) => `${formEscape(k)}=${formEscape(v)}`).join("&");
      const type = rng.pick([
        null,
        "text/plain",
        "application/json",
        "text/html",
        "application/x-www-form-urlencoded; charset=latin1",
      ]);
      return { body, type, fields: null, how: `form as ${type}`, preview: short(body) };
    }
  }
}
