// The passkey over real sockets, against the whole process (web side + tracker Worker): hidden on
// the account page until asked for; one POST (with the session's CSRF token) gives a new one, and
// the tracker refuses the old one at once and answers the new one.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createUser } from "../../src/db/queries/users.ts";
import { hashPassword, resolvePepper } from "../../src/shared/secrets.ts";
import { csrfToken } from "../../src/web/context.tsx";
import { announceQuery } from "../helpers/announce.ts";
import { startTestServer } from "../helpers/server.ts";

let server: Awaited<ReturnType<typeof startTestServer>>;
let cookie: string;
let userId: number;
let infoHash: Buffer;

async function passkey(): Promise<string> {
  const [row] = await server.running.db.sql<
    { passkey: string }[]
  >`select passkey from users where id = ${userId}`;
  return row!.passkey;
}

async function announce(key: string, peer: number): Promise<string> {
  const response = await fetch(
    `${server.tracker}/${key}/announce?${announceQuery({
      infoHash,
      peerId: Buffer.alloc(20, 0x41 + peer),
      left: 0,
      event: "started",
      port: 6881 + peer,
    })}`,
  );
  expect(response.status).toBe(200);
  return Buffer.from(await response.arrayBuffer()).toString("latin1");
}

beforeAll(async () => {
  server = await startTestServer();
  const pepper = resolvePepper(server.config.salt, server.config.dataDir);
  const { user } = await createUser(server.running.db.sql, {
    name: "keeper",
    passwordHash: await hashPassword("correct horse battery", pepper),
  });
  userId = user.id;
  await server.running.sync.user(user.id);
  infoHash = Buffer.alloc(20, 0x5a);
  const [torrent] = await server.running.db.sql<{ id: number }[]>`
    insert into torrents (info_hash, title, size, files, metainfo, creator_id)
    values (${infoHash}, 'Passkey test', 1, '[]', '\\x78', ${user.id})
    returning id
  `;
  await server.running.sync.torrent(torrent!.id);
  const login = await fetch(`${server.web}/login`, {
    method: "POST",
    redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded", origin: server.web },
    body: new URLSearchParams({ name: "keeper", password: "correct horse battery" }).toString(),
  });
  expect(login.status).toBe(303);
  cookie = login.headers.get("set-cookie")!.split(";")[0]!;
}, 300000);
afterAll(async () => {
  await server?.stop();
});

describe("the passkey", () => {
  test("the account page hides it until asked for, and the reset button asks first", async () => {
    const page = await (await fetch(`${server.web}/account`, { headers: { cookie } })).text();
    const key = await passkey();
    const details = /<details class="secret" id="passkey">([\s\S]*?)<\/details>/.exec(page);
    expect(details).not.toBeNull();
    // The passkey is on the page only inside the closed <details>, behind its "Show" summary.
    expect(details![1]).toContain(key);
    expect(page.split(key).length - 1).toBe(1);
    expect(details![0]).not.toContain("<details open");
    expect(details![1]).toContain("<summary>Show the announce URL");
    expect(page).toMatch(/<button[^>]*data-confirm="Get a new passkey\?/);
  });

  test("a reset without the CSRF token changes nothing", async () => {
    const before = await passkey();
    const response = await fetch(`${server.web}/account/passkey`, {
      method: "POST",
      redirect: "manual",
      headers: { cookie, origin: server.web, "content-type": "application/x-www-form-urlencoded" },
      body: "",
    });
    expect(response.status).toBe(403);
    expect(await passkey()).toBe(before);
    expect(await announce(before, 1)).not.toContain("failure reason");
  });

  test("after a reset the tracker refuses the old passkey at once and answers the new one", async () => {
    const old = await passkey();
    expect(await announce(old, 2)).toContain("8:intervali");
    const session = decodeURIComponent(cookie.split("=")[1]!);
    const response = await fetch(`${server.web}/account/passkey`, {
      method: "POST",
      redirect: "manual",
      headers: { cookie, origin: server.web, "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ _csrf: csrfToken(session) }).toString(),
    });
    expect(response.status).toBe(303);
    expect(response.headers.get("location")).toBe("/account?done=passkey");
    const fresh = await passkey();
    expect(fresh).not.toBe(old);
    // No waiting: the reset answers only once the tracker has applied it.
    expect(await announce(old, 3)).toContain("Unknown passkey: download the .torrent again from the site.");
    const answer = await announce(fresh, 4);
    expect(answer).not.toContain("failure reason");
    expect(answer).toContain("8:intervali");
  });
});
