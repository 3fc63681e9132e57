import { expect, test } from "bun:test";
import { redact } from "../src/log.ts";

test("secrets in URLs and parameters are redacted before logging", () => {
  const passkey = "0123456789abcdef0123456789abcdef";
  const secret = "AbCdEfGhIjKlMnOpQrStUvWxYz_-0123456789abcd";
  const cases: [string, string][] = [
    [`http://t/${passkey}/announce?info_hash=x`, "http://t/<passkey>/announce?info_hash=x"],
    [`/x/${passkey}/scrape`, "/x/<passkey>/scrape"],
    [`/register/${secret}`, "/register/<secret>"],
    [`/rss/${secret}/download/3`, "/rss/<secret>/download/3"],
    [`/api/v1/invites/${secret}/claim`, "/api/v1/invites/<secret>/claim"],
    ["?token=abc&x=1", "?token=<redacted>&x=1"],
    ["password=hunter2 ok", "password=<redacted> ok"],
  ];
  for (const [input, expected] of cases) expect(redact(input)).toBe(expected);
  expect(redact("/invites/12/revoke")).toBe("/invites/12/revoke");
});
