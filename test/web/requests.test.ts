// Requests through the pages: the list with its search and filters (htmx fragment too), the form
// for a new one and its refusals shown beside the fields, adding to a bounty, filling, and the
// accept and reject buttons shown to the requester only, with every user string escaped.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { smallTorrent, uploadForm } from "../helpers/api.ts";
import { webHarness } from "../helpers/web.ts";

type Who = { cookie: string; csrf: string; id: number };
let web: Awaited<ReturnType<typeof webHarness>>;
let asker: Who;
let filler: Who;
let other: Who;
let torrentId: number;

async function who(name: string, roles: Parameters<typeof web.member>[1] = []): Promise<Who> {
  const user = await web.member(name, roles);
  return { ...(await web.login(name)), id: user.id };
}

async function grant(member: Who, points: number) {
  await web.db.sql`
    insert into bonus_ledger (user_id, hour, millipoints, reason)
    values (${member.id}, ${new Date(Date.UTC(2020, 0, 1, member.id))}, ${points * 1000}, 'seeding')
  `;
}

async function balance(member: Who): Promise<number> {
  const [row] = await web.db.sql<{ total: string }[]>`
    select coalesce(sum(millipoints), 0)::text as total from bonus_ledger where user_id = ${member.id}
  `;
  return Number(row!.total) / 1000;
}

function post(member: Who, path: string, form: Record<string, string> = {}) {
  return web.request(path, { cookie: member.cookie, form: { _csrf: member.csrf, ...form } });
}

async function page(member: Who, path: string): Promise<string> {
  const response = await web.request(path, { cookie: member.cookie });
  expect(response.status).toBe(200);
  return response.text();
}

beforeAll(async () => {
  web = await webHarness({ FAIRYWREN_REQUESTS_MIN_BOUNTY: "25" });
  await who("staff_root");
  asker = await who("asker", ["upload"]);
  filler = await who("filler");
  other = await who("other");
  await grant(asker, 100);
  await grant(other, 10);
  const response = await web.request("/upload", {
    cookie: asker.cookie,
    form: uploadForm(smallTorrent("Wanted thing"), { _csrf: asker.csrf }),
  });
  torrentId = Number(/torrents\/(\d+)/.exec(response.headers.get("location")!)![1]);
}, 120_000);
afterAll(async () => {
  await web?.close();
});

describe("making a request", () => {
  test("the form shows the balance and the minimum; refusals come back beside the fields", async () => {
    const form = await page(asker, "/requests/new");
    expect(form).toContain("You have 100 bonus points");
    expect(form).toContain('name="points"');
    expect(form).toContain('min="25"');
    expect(form).toContain('maxlength="200"');
    const refused = await post(asker, "/requests", { title: "<b>x</b>", points: "10" });
    expect(refused.status).toBe(422);
    const text = await refused.text();
    expect(text).toContain("Put at least 25 bonus points");
    // Given back inside its quoted attribute, where markup is only text.
    expect(text).toContain('name="title" value="<b>x</b>"');
    const poor = await post(other, "/requests", { title: "Poor", points: "25" });
    expect(poor.status).toBe(409);
    expect(await poor.text()).toContain("You have 10 bonus points: not enough for 25.");
    const [count] = await web.db.sql`select count(*)::int as n from requests`;
    expect(count!.n).toBe(0);
  });

  test("a request is made, its page escapes what the member wrote and renders its Markdown", async () => {
    const made = await post(asker, "/requests", {
      title: "<script>alert(1)</script> Wanted",
      description: "Needs **care** <img src=x onerror=alert(1)>",
      tags: "Linux, ISO",
      points: "40",
    });
    expect(made.status).toBe(303);
    const location = made.headers.get("location")!;
    expect(location).toMatch(/^\/requests\/\d+\?done=created$/);
    expect(await balance(asker)).toBe(60);
    const shown = await page(asker, location);
    expect(shown).toContain("&lt;script&gt;alert(1)&lt;/script&gt; Wanted");
    expect(shown).not.toContain("<script>alert(1)");
    expect(shown).not.toContain("<img src=x");
    expect(shown).toContain("<strong>care</strong>");
    expect(shown).toContain("40 points from 1 member");
    expect(shown).toContain("Your request is up");
    // The requester gets no fill form for their own request.
    expect(shown).not.toContain("/fill");
    const list = await page(other, "/requests");
    expect(list).toContain("&lt;script&gt;alert(1)&lt;/script&gt; Wanted");
    expect(list).toContain(">linux<");
  });
});

describe("bounty, fill and answer", () => {
  let id: number;
  beforeAll(async () => {
    const [row] = await web.db.sql<{ id: number }[]>`select id from requests order by id limit 1`;
    id = row!.id;
  });

  test("another member adds points; too many are refused on the page, unchanged", async () => {
    const added = await post(other, `/requests/${id}/bounty`, { points: "10" });
    expect(added.status).toBe(303);
    expect(await balance(other)).toBe(0);
    const refused = await post(other, `/requests/${id}/bounty`, { points: "1" });
    expect(refused.status).toBe(409);
    const text = await refused.text();
    expect(text).toContain("You have 0 bonus points");
    expect(text).toContain("50 points from 2 members");
    expect((await post(other, `/requests/${id}/bounty`, { points: "-3" })).status).toBe(422);
  });

  test("the requester cannot fill it; another member fills it by link", async () => {
    const own = await post(asker, `/requests/${id}/fill`, { torrent: String(torrentId) });
    expect(own.status).toBe(403);
    expect(await own.text()).toContain("You cannot fill your own request");
    const bad = await post(filler, `/requests/${id}/fill`, { torrent: '"><i>nothing</i>' });
    expect(bad.status).toBe(422);
    const badText = await bad.text();
    expect(badText).toContain("Give the torrent&#x27;s number or a link to its page");
    expect(badText).not.toContain('"><i>');
    const filled = await post(filler, `/requests/${id}/fill`, {
      torrent: `http://site.test/torrents/${torrentId}`,
    });
    expect(filled.status).toBe(303);
    const seenByOther = await page(other, `/requests/${id}`);
    expect(seenByOther).toContain("Fill offered");
    expect(seenByOther).not.toContain(`/requests/${id}/accept`);
    const seenByAsker = await page(asker, `/requests/${id}`);
    expect(seenByAsker).toContain(`action="/requests/${id}/accept"`);
    expect(seenByAsker).toContain(`action="/requests/${id}/reject"`);
    // Others posting the answer are refused with a page, and nothing changes.
    const forbidden = await post(other, `/requests/${id}/accept`);
    expect(forbidden.status).toBe(403);
    expect(await forbidden.text()).toContain("Only the member who made the request, or staff");
    const torrentPage = await page(other, `/torrents/${torrentId}`);
    expect(torrentPage).toContain("Offered as the fill of the request");
  });

  test("accepting pays the filler the whole bounty and shows in both ledgers", async () => {
    const accepted = await post(asker, `/requests/${id}/accept`);
    expect(accepted.status).toBe(303);
    expect(await balance(filler)).toBe(50);
    const bonus = await page(filler, "/account/bonus");
    expect(bonus).toContain(`Bounty won: filled request #${id}`);
    expect(bonus).toContain(`href="/requests/${id}"`);
    expect(await page(asker, "/account/bonus")).toContain(`Bounty on request #${id}`);
    const again = await post(asker, `/requests/${id}/accept`);
    expect(again.status).toBe(409);
    expect(await balance(filler)).toBe(50);
    expect(await page(other, "/requests?status=filled")).toContain(`href="/requests/${id}"`);
  });
});

describe("the list", () => {
  test("filters by words and status, and answers htmx with the results alone", async () => {
    const full = await page(other, "/requests?q=wanted&status=all");
    expect(full).toContain("<h1>Requests</h1>");
    const fragment = await (
      await web.request("/requests?q=wanted&status=all", {
        cookie: other.cookie,
        headers: { "hx-request": "true" },
      })
    ).text();
    expect(fragment).toStartWith('<div id="request-results">');
    expect(fragment).toContain("Wanted");
    const none = await page(other, "/requests?q=nothing%20like%20this&status=all");
    expect(none).toContain("No request matches.");
    // A page that is not a number is read as the first; a status not known lists the waiting ones.
    expect((await web.request("/requests?page=abc&status=zzz", { cookie: other.cookie })).status).toBe(200);
    const login = await web.request("/requests");
    expect(login.status).toBe(303);
    expect(login.headers.get("location")).toStartWith("/login");
    expect((await web.request("/requests/99999", { cookie: other.cookie })).status).toBe(404);
  });
});
