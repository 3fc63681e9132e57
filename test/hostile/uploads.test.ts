// Hostile .torrent uploads against the running process over real sockets: a file of millions of
// tiny values is refused with a readable message on the page and in the API, and while such a
// file is being decoded the site keeps answering other pages.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createUser } from "../../src/db/queries/users.ts";
import { hashPassword, resolvePepper } from "../../src/shared/secrets.ts";
import { csrfToken } from "../../src/web/context.tsx";
import { uploadChecker } from "../../src/web/metainfo-pool.ts";
import { startTestServer } from "../helpers/server.ts";

let server: Awaited<ReturnType<typeof startTestServer>>;
let site: { cookie: string; csrf: string };
const MAX_BYTES = 10 * 1024 * 1024;

/** Far more values than any .torrent may hold: refused before decoding. */
const tooMany = (): Buffer =>
  Buffer.from(`d4:infod5:filesl${"0:".repeat((MAX_BYTES - 64) / 2)}e4:name1:aee`, "latin1");
/** Just under the value limit: every value is decoded before the file is refused. */
const justUnder = (): Buffer =>
  Buffer.from(`d4:infod5:filesl${"0:".repeat(1_999_000)}e4:name1:aee`, "latin1");

function form(file: Buffer): FormData {
  const body = new FormData();
  body.set("_csrf", site.csrf);
  body.set("file", new File([new Uint8Array(file)], "hostile.torrent", { type: "application/x-bittorrent" }));
  return body;
}

const upload = (file: Buffer) =>
  fetch(`${server.web}/upload`, {
    method: "POST",
    body: form(file),
    headers: { cookie: site.cookie },
    redirect: "manual",
  });

beforeAll(async () => {
  server = await startTestServer({ FAIRYWREN_LOG_LEVEL: "error" });
  const pepper = resolvePepper(server.config.salt, server.config.dataDir);
  await createUser(server.running.db.sql, {
    name: "uploader",
    passwordHash: await hashPassword("password123", pepper),
    roles: ["upload"],
  });
  const login = await fetch(`${server.web}/login`, {
    method: "POST",
    body: new URLSearchParams({ name: "uploader", password: "password123" }),
    redirect: "manual",
  });
  expect(login.status).toBe(303);
  const cookie = login.headers.get("set-cookie")!.split(";")[0]!;
  site = { cookie, csrf: csrfToken(decodeURIComponent(cookie.split("=")[1]!)) };
});
afterAll(async () => {
  await server?.stop();
});

describe("uploads of millions of tiny values", () => {
  test("are refused with a message that says why, on the page and in the API", async () => {
    const message =
      "The file holds more than 2,000,000 values (numbers, strings, lists and dictionaries); " +
      "a .torrent may hold at most 2,000,000.";
    const page = await upload(tooMany());
    expect(page.status).toBe(422);
    expect(await page.text()).toContain(message);
    const body = new FormData();
    body.set("file", new File([new Uint8Array(tooMany())], "hostile.torrent"));
    const api = await fetch(`${server.web}/api/v1/torrents`, {
      method: "POST",
      body,
      headers: { cookie: site.cookie, "x-csrf-token": site.csrf },
    });
    expect(api.status).toBe(422);
    expect(((await api.json()) as { error: { message: string } }).error.message).toBe(message);
    const [row] = await server.running.db.sql`select count(*)::int as n from torrents`;
    expect(row!.n).toBe(0);
  });

  test("GET /login is answered while such a file is being decoded", async () => {
    // Decoding runs on the checker's thread: a page asked for meanwhile is answered meanwhile. On
    // the web thread, the page could only be answered once the file was done.
    let answeredDuringCheck = 0;
    for (let attempt = 0; attempt < 5 && answeredDuringCheck === 0; attempt++) {
      const finishedBefore = uploadChecker.finished;
      const startedBefore = uploadChecker.started;
      const uploading = upload(justUnder());
      const deadline = Date.now() + 30_000;
      while (uploadChecker.started === startedBefore && Date.now() < deadline) await Bun.sleep(1);
      expect(uploadChecker.started).toBeGreaterThan(startedBefore);
      const login = await fetch(`${server.web}/login`);
      const stillChecking = uploadChecker.finished === finishedBefore;
      expect(login.status).toBe(200);
      expect(await login.text()).toContain('name="password"');
      if (stillChecking) answeredDuringCheck++;
      const refused = await uploading;
      expect(refused.status).toBe(422);
      expect(await refused.text()).toContain("The torrent has no piece length.");
    }
    expect(answeredDuringCheck).toBe(1);
  });
});
