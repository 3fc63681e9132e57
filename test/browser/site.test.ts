// The site in a real headless Chromium (Debian's), driven by playwright-core, against the whole
// process (web side + tracker Worker) on a real database. Screenshots go to artifacts/screenshots.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Browser, chromium, type Page } from "playwright-core";
import { createUser } from "../../src/db/queries/users.ts";
import { hashPassword, resolvePepper } from "../../src/shared/secrets.ts";
import { announceQuery } from "../helpers/announce.ts";
import { startTestServer } from "../helpers/server.ts";
import { describeUnless } from "../helpers/skip.ts";
import { buildInfo, content, torrentBytes } from "../web/metainfo/fixtures.ts";

/** axe-core's browser build, put into each page checked (see checkAccessibility). */
const AXE_SOURCE = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const SHOTS = join(import.meta.dir, "../../artifacts/screenshots");
// CI installs Chromium and must run these; elsewhere they run when it is there.
const run = existsSync(CHROMIUM) || process.env.CI === "true";
const describeWithChromium = describeUnless(
  run,
  `needs Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`,
);

let server: Awaited<ReturnType<typeof startTestServer>>;
let browser: Browser;
let torrentFile: string;
let secondFile: string;
let bigFile: string;
/** Content-Security-Policy violations any page reported, with the page's address. */
const violations: string[] = [];

/** Records every CSP violation of a page: the browser's console report and the DOM event. */
function watch(page: Page): Page {
  page.on("console", (message) => {
    if (/content security policy/i.test(message.text())) violations.push(`${page.url()}: ${message.text()}`);
  });
  // Runs outside the page's policy (a DevTools script), so it is not itself refused.
  void page.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (event) => {
      console.error(`Content Security Policy violation: ${event.violatedDirective} ${event.blockedURI}`);
    });
  });
  return page;
}

async function shoot(page: Page, name: string): Promise<void> {
  for (const [label, size] of [
    ["phone", { width: 390, height: 844 }],
    ["desktop", { width: 1280, height: 800 }],
  ] as const) {
    await page.setViewportSize(size);
    await page.screenshot({ path: join(SHOTS, `${name}-${label}.png`), fullPage: true });
  }
  await expectFitsPhone(page, name);
}

async function expectFitsPhone(page: Page, name: string): Promise<void> {
  await page.setViewportSize({ width: 390, height: 844 });
  expect(await phoneOverflow(page, name)).toEqual([]);
}

/**
 * What is wider than a phone's screen on the page as it is now (at 390 px), one line naming the
 * page and the first culprits; none when it fits.
 */
async function phoneOverflow(page: Page, name: string): Promise<string[]> {
  const { width, wide } = await page.evaluate(() => ({
    width: document.documentElement.scrollWidth,
    wide: Array.from(document.querySelectorAll("body *"))
      .filter(
        (el) =>
          el.getBoundingClientRect().right > window.innerWidth + 0.5 ||
          (el instanceof HTMLElement &&
            el.scrollWidth > el.clientWidth + 1 &&
            getComputedStyle(el).overflowX === "visible"),
      )
      .slice(0, 5)
      .map((el) => `${el.tagName.toLowerCase()}.${el.className}`),
  }));
  return wide.length > 0 || width > 390 ? [`${name}: ${width}px wide at 390, ${wide.join(", ")}`] : [];
}

interface AxeResult {
  violations: { id: string; impact: string | null; help: string; nodes: { target: unknown[] }[] }[];
}

/**
 * axe-core's findings on the page as it is now, serious and critical only, one line each with
 * where (the first few elements). axe is evaluated through the browser's developer protocol, so
 * the page's Content-Security-Policy (no inline or injected scripts) stays as it is.
 */
async function axeFindings(page: Page, where: string): Promise<string[]> {
  if (!(await page.evaluate(() => "axe" in window))) await page.evaluate(AXE_SOURCE);
  const result = (await page.evaluate(() =>
    (window as unknown as { axe: { run(context: Document, options: object): Promise<unknown> } }).axe.run(
      document,
      { resultTypes: ["violations"] },
    ),
  )) as AxeResult;
  return result.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map(
      (v) =>
        `${where}: ${v.id} (${v.impact}) ${v.help} — ${v.nodes
          .slice(0, 3)
          .map((n) => JSON.stringify(n.target))
          .join(", ")}`,
    );
}

async function logIn(page: Page, name: string, password: string): Promise<void> {
  await page.goto(`${server.web}/login`);
  await page.fill('input[name="name"]', name);
  await page.fill('input[name="password"]', password);
  await Promise.all([page.waitForURL((url) => url.pathname === "/"), page.click('button[type="submit"]')]);
}

describeWithChromium("the site in a browser", () => {
  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    server = await startTestServer();
    const pepper = resolvePepper(server.config.salt, server.config.dataDir);
    const { user } = await createUser(server.running.db.sql, {
      name: "admin",
      passwordHash: await hashPassword("correct horse battery", pepper),
    });
    await server.running.sync.user(user.id);
    const { info } = buildInfo({
      kind: "v1",
      name: "Fairywren Test Payload",
      files: [
        { path: ["a.bin"], data: content(50000, 1) },
        { path: ["docs", "read me.txt"], data: content(3000, 2) },
      ],
    });
    torrentFile = join(tmpdir(), `fw-browser-${process.pid}.torrent`);
    writeFileSync(torrentFile, torrentBytes(info, { announce: "http://elsewhere.example/announce" }));
    const second = buildInfo({
      kind: "v1",
      name: "Wren Live Image",
      files: [{ path: [], data: content(60000, 3) }],
    });
    secondFile = join(tmpdir(), `fw-browser-${process.pid}-2.torrent`);
    writeFileSync(secondFile, torrentBytes(second.info));
    // Past the upload limit and the slack the front of the server allows for a form's framing.
    bigFile = join(tmpdir(), `fw-browser-big-${process.pid}.torrent`);
    writeFileSync(bigFile, new Uint8Array(server.config.webapi.maxTorrentBytes + 2 * 1024 * 1024).fill(0x64));
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    });
  }, 180_000);
  afterAll(async () => {
    for (const file of [torrentFile, secondFile, bigFile]) if (file) rmSync(file, { force: true });
    await browser?.close();
    await server?.stop();
  });

  test("log in, upload, find by search, watch the seeders change live", async () => {
    const page = watch(await browser.newPage());
    await logIn(page, "admin", "correct horse battery");
    await shoot(page, "home-empty");
    await page.goto(`${server.web}/torrents`);
    await shoot(page, "torrents-empty");

    await page.goto(`${server.web}/upload`);
    await page.setInputFiles('input[name="file"]', torrentFile);
    await page.fill('textarea[name="description"]', "Two files <for> testing & more");
    await shoot(page, "upload");
    await Promise.all([
      page.waitForURL(/\/torrents\/\d+\?uploaded=/),
      page.click('#upload button[type="submit"]'),
    ]);
    expect(await page.textContent("h1")).toBe("Fairywren Test Payload");
    expect(await page.textContent(".notice")).toContain("changed its info hash");
    expect((await page.textContent(".description"))?.trim()).toBe("Two files <for> testing & more");
    const infoHash = (await page.textContent("dl.facts dd.mono"))!.trim();
    expect(infoHash).toMatch(/^[0-9a-f]{40}$/);
    const detailUrl = page.url().replace(/\?.*$/, "");

    // Search as a member types: htmx swaps the results and keeps the query in the address.
    await page.goto(`${server.web}/torrents`);
    await page.fill('input[name="q"]', "payl");
    await page.waitForURL(/\?q=payl/);
    await page.waitForSelector("#results a:has-text('Fairywren Test Payload')");
    await page.fill('input[name="q"]', "nothinglikethis");
    await page.waitForSelector("#results :text('No torrent matches this search.')");
    await page.goBack();
    await page.waitForSelector("#results a:has-text('Fairywren Test Payload')");

    // On a phone the table's headers are hidden; the search form's sort control takes their place.
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${server.web}/torrents`);
    expect(await page.isVisible("table.list thead")).toBe(false);
    expect(await page.isVisible('.searchbar select[name="sort"]')).toBe(true);
    await page.selectOption('select[name="sort"]', "seeders");
    await page.waitForURL(/sort=seeders/);
    await page.selectOption('select[name="order"]', "asc");
    await page.waitForURL(/sort=seeders&order=asc/);
    await page.waitForSelector("#results a:has-text('Fairywren Test Payload')");
    await page.setViewportSize({ width: 1280, height: 800 });
    expect(await page.isVisible('.searchbar select[name="sort"]')).toBe(false);
    expect(await page.isVisible("table.list thead")).toBe(true);

    // The detail page's seeder count follows an announce without a reload.
    await page.goto(detailUrl);
    const seeders = page.locator('[data-count="seeders"]');
    expect(await seeders.textContent()).toBe("0");
    await page.waitForTimeout(300);
    const [me] = await server.running.db.sql`select passkey from users where name = 'admin'`;
    const hash = Buffer.from(infoHash, "hex");
    const started = Date.now();
    const reply = await fetch(
      `${server.tracker}/${me!.passkey}/announce?${announceQuery({ infoHash: hash, peerId: Buffer.alloc(20, 0x41), left: 0, event: "started" })}`,
    );
    expect(await reply.text()).toContain("8:completei1e");
    await page.waitForFunction(
      () => document.querySelector('[data-count="seeders"]')?.textContent === "1",
      null,
      {
        timeout: 3000,
      },
    );
    expect(Date.now() - started).toBeLessThan(3000);
    await shoot(page, "torrent");

    await page.goto(`${server.web}/torrents`);
    expect(await page.locator('[data-count="seeders"]').first().textContent()).toBe("1");
    await shoot(page, "torrents");
    await page.close();
  });

  test("an invite link registers a new member, who is logged in; the link then says it was used", async () => {
    const page = watch(await browser.newPage());
    await logIn(page, "admin", "correct horse battery");
    await page.goto(`${server.web}/invites`);
    await page.fill('input[name="days"]', "3");
    await page.click('main form button[type="submit"]');
    const link = (await page.textContent("#invite-link"))!.trim();
    expect(link).toStartWith(`${server.web}/register/`);
    await shoot(page, "invites");
    const path = new URL(link).pathname;

    const guest = await browser.newContext();
    const visitor = watch(await guest.newPage());
    await visitor.goto(`${server.web}${path}`);
    await visitor.fill('input[name="name"]', "newcomer");
    await visitor.fill('input[name="password"]', "a long enough password");
    await visitor.fill('input[name="confirm"]', "a different password");
    await visitor.click('main form button[type="submit"]');
    expect(await visitor.textContent("#confirm-error")).toBeTruthy();
    await visitor.fill('input[name="password"]', "a long enough password");
    await visitor.fill('input[name="confirm"]', "a long enough password");
    await Promise.all([
      visitor.waitForURL((url) => url.pathname === "/"),
      visitor.click('main form button[type="submit"]'),
    ]);
    expect(await visitor.textContent("header.site")).toContain("newcomer");
    await shoot(visitor, "registered");

    const again = await watch(await guest.newPage()).goto(`${server.web}${path}`);
    expect(again!.status()).toBe(410);
    expect(await again!.text()).toContain("already used");
    await page.goto(`${server.web}/invites`);
    expect(await page.textContent("main")).toContain("newcomer");
    await guest.close();
    await page.close();
  });

  test("a category and tags at upload, the list filtered by both, a comment in Markdown", async () => {
    const page = watch(await browser.newPage());
    await logIn(page, "admin", "correct horse battery");
    // An administrator adds a category, with one of the site's icons.
    await page.goto(`${server.web}/admin/categories`);
    const add = page.locator('form[action="/admin/categories"]');
    await add.locator('input[name="name"]').fill("Live systems");
    await add.locator('input[name="icon"][value="disc"]').check();
    await Promise.all([page.waitForURL(/done=added/), add.locator('button[type="submit"]').click()]);
    expect(await page.textContent(".category-admin")).toContain("Live systems");
    await shoot(page, "categories");

    // The upload form asks for it; tags are normalised; the preview renders as one types.
    await page.goto(`${server.web}/upload`);
    await page.setInputFiles('input[name="file"]', secondFile);
    await page.selectOption('select[name="category"]', { label: "Live systems" });
    await page.fill('input[name="tags"]', "Live CD, amd64");
    await page.fill('textarea[name="description"]', "A **bootable** image. <script>x</script>");
    await page.waitForSelector("#description-preview strong:has-text('bootable')");
    expect(await page.textContent("#description-preview")).toContain("<script>x</script>");
    await Promise.all([
      page.waitForURL(/\/torrents\/\d+\?uploaded=/),
      page.click('#upload button[type="submit"]'),
    ]);
    expect(await page.textContent("dl.facts")).toContain("Live systems");
    expect(await page.locator("dl.facts a.tag").allTextContents()).toEqual(["amd64", "live.cd"]);
    expect(await page.innerHTML(".description")).toContain("<strong>bootable</strong>");
    const detailUrl = page.url().replace(/\?.*$/, "");

    // The list: a click on the category, then on a tag; both stay in the address with a search.
    await page.goto(`${server.web}/torrents`);
    await Promise.all([
      page.waitForURL(/category=\d+/),
      page.click(".category-filter a:has-text('Live systems')"),
    ]);
    expect(await page.locator("#results td.title > a").allTextContents()).toEqual(["Wren Live Image"]);
    await Promise.all([page.waitForURL(/tag=live\.cd/), page.click(".tag-filter a:has-text('live.cd')")]);
    expect(page.url()).toMatch(/category=\d+/);
    await page.fill('input[name="q"]', "wren");
    await page.waitForURL(/q=wren/);
    expect(page.url()).toMatch(/category=\d+&tag=live\.cd/);
    await page.waitForSelector("#results a:has-text('Wren Live Image')");
    await page.fill('input[name="q"]', "payload");
    await page.waitForSelector("#results :text('No torrent matches this search.')");
    await shoot(page, "torrents-filtered");

    // A comment, in Markdown, shown below the description.
    await page.goto(detailUrl);
    await page.fill('textarea[name="body"]', "Booted *fine* here.");
    await page.waitForSelector("#body-preview em:has-text('fine')");
    await Promise.all([page.waitForURL(/#comment-\d+$/), page.click('.comment-form button[type="submit"]')]);
    expect(await page.innerHTML(".comment .prose")).toContain("<em>fine</em>");
    expect(await page.textContent("#comments h2")).toBe("Comments (1)");
    await shoot(page, "torrent-comments");
    await page.close();
  });

  test("news, a bio, hidden figures and plots; every page fits a phone and a desktop", async () => {
    const sql = server.running.db.sql;
    const pepper = resolvePepper(server.config.salt, server.config.dataDir);
    const { user: wren } = await createUser(sql, {
      name: "wren",
      passwordHash: await hashPassword("another long password", pepper),
    });
    await server.running.sync.user(wren.id);
    const [admin] = await sql`select id from users where name = 'admin'`;
    const [torrent] = await sql`select id from torrents order by id limit 1`;
    const now = Date.now();
    // A week of history, as the sampler would have written it (in place of its own first sample,
    // taken before there were members, which the home page's figures would otherwise show).
    await sql`delete from site_samples`;
    const hours = Array.from({ length: 7 * 24 }, (_, i) => now - (7 * 24 - i) * 3_600_000);
    for (const [i, at] of hours.entries()) {
      const wave = Math.round(20 + 15 * Math.sin(i / 8));
      await sql`
        insert into site_samples (at, members, torrents, seeders, leechers, uploaded, downloaded)
        values (${new Date(at)}, 2, 1, ${wave}, ${Math.round(wave / 3)}, ${i * i * 40_000_000}, ${i * i * 30_000_000})
      `;
      if (i % 6 === 0)
        await sql`
          insert into torrent_samples (torrent_id, at, seeders, leechers)
          values (${torrent!.id}, ${new Date(at)}, ${1 + (i % 5)}, ${i % 3})
        `;
    }
    for (let day = 29; day >= 0; day--)
      await sql`
        insert into member_samples (user_id, at, uploaded, downloaded)
        values (${wren.id}, ${new Date(now - day * 86_400_000)}, ${(30 - day) * 900_000_000}, ${(30 - day) * 600_000_000})
      `;
    await sql`update users set uploaded = ${30 * 900_000_000}, downloaded = ${30 * 600_000_000} where id = ${wren.id}`;
    await sql`
      insert into user_torrent_stats (user_id, torrent_id, downloaded, completed_at)
      values (${admin!.id}, ${torrent!.id}, 1, now())
      on conflict (user_id, torrent_id) do update set completed_at = now()
    `;

    const page = watch(await browser.newPage());
    await logIn(page, "admin", "correct horse battery");

    // An administrator posts news, in Markdown; it is on the home page at once, escaped.
    await page.goto(`${server.web}/news`);
    await page.click("details.post-news summary");
    await page.fill('input[name="title"]', "Welcome to the <new> site");
    await page.fill('textarea[name="body"]', "Profiles, plots and news.\n\nTell us what you think & more.");
    await shoot(page, "news-form");
    await Promise.all([
      page.waitForURL(/\/news\/\d+\?done=posted/),
      page.click('details.post-news button[type="submit"]'),
    ]);
    await shoot(page, "news-item");
    const newsUrl = page.url().replace(/\?.*$/, "");
    await page.goto(`${newsUrl}/edit`);
    await shoot(page, "news-edit");
    await page.goto(`${server.web}/news`);
    await shoot(page, "news");

    await page.goto(`${server.web}/`);
    expect(await page.textContent("article.news .news-title")).toBe("Welcome to the <new> site");
    expect(await page.locator("article.news .prose p").count()).toBe(2);
    expect(await page.textContent("#site-stats")).toContain("Members");
    expect(await page.textContent("main")).toContain("Your torrents that need seeding");
    // The plots are drawn and fit the phone's width.
    await page.setViewportSize({ width: 390, height: 844 });
    for (const id of ["site-peers", "site-traffic"]) {
      const chart = page.locator(`#${id} svg[role="img"]`);
      expect(await chart.isVisible()).toBe(true);
      const box = (await chart.boundingBox())!;
      expect(box.width).toBeGreaterThan(250);
      expect(box.x + box.width).toBeLessThanOrEqual(390);
      expect(await page.locator(`#${id} path.line`).count()).toBe(2);
    }
    await shoot(page, "home");
    await page.emulateMedia({ colorScheme: "dark" });
    await shoot(page, "home-dark");
    await page.emulateMedia({ colorScheme: "light" });

    // The torrent page shows its seeders over the week.
    await page.goto(`${server.web}/torrents/${torrent!.id}`);
    expect(await page.locator(`#swarm-${torrent!.id} svg[role="img"]`).isVisible()).toBe(true);
    await shoot(page, "torrent-plot");
    await page.goto(`${server.web}/torrents/${torrent!.id}/edit`);
    await shoot(page, "torrent-edit");

    // A bio on the account page; the profile shows it as text, never as HTML.
    await page.goto(`${server.web}/account`);
    await page.fill('textarea[name="bio"]', "I run the <b>site</b>.\nAsk me anything.");
    await Promise.all([
      page.waitForURL(/done=profile/),
      page.click('form[action$="/account/profile"] button'),
    ]);
    expect(await page.textContent(".notice")).toContain("Your profile was saved.");
    await shoot(page, "account");
    await page.goto(`${server.web}/users/admin`);
    // Shown as text, the line break kept: the markup the member typed is not markup.
    expect((await page.textContent(".bio .prose"))?.trim()).toBe("I run the <b>site</b>.\nAsk me anything.");
    expect(await page.locator(".bio .prose b").count()).toBe(0);
    await shoot(page, "profile-own");

    // Wren hides their figures: another member sees none, staff still see them and the plots.
    const guest = await browser.newContext();
    const member = watch(await guest.newPage());
    await logIn(member, "wren", "another long password");
    await member.goto(`${server.web}/users/wren`);
    expect(await member.locator(`#transfer-${wren.id} svg[role="img"]`).isVisible()).toBe(true);
    await shoot(member, "profile-plots");
    await member.goto(`${server.web}/account`);
    await member.check('input[name="hide_transfer"]');
    await Promise.all([
      member.waitForURL(/done=profile/),
      member.click('form[action$="/account/profile"] button'),
    ]);
    await member.goto(`${server.web}/users/admin`);
    await shoot(member, "profile-other");
    await page.goto(`${server.web}/users/wren`);
    expect(await page.textContent("main")).toContain("you see them as staff");
    expect(await page.locator(`#ratio-${wren.id} svg[role="img"]`).isVisible()).toBe(true);
    const { user: third } = await createUser(sql, {
      name: "finch",
      passwordHash: await hashPassword("a third long password", pepper),
    });
    await server.running.sync.user(third.id);
    const other = watch(await guest.newPage());
    await other.context().clearCookies();
    await logIn(other, "finch", "a third long password");
    await other.goto(`${server.web}/users/wren`);
    expect(await other.textContent("main")).toContain("Hidden by wren.");
    expect(await other.locator("figure.plot").count()).toBe(0);
    await shoot(other, "profile-hidden");
    await guest.close();

    // The staff pages, the API documentation and a missing page.
    await page.goto(`${server.web}/admin/users?sort=uploaded&order=desc`);
    expect(await page.locator("main table.list tbody tr").first().textContent()).toContain("wren");
    await shoot(page, "members");
    await page.goto(`${server.web}/admin/users/${wren.id}`);
    await shoot(page, "member");
    await page.goto(`${server.web}/api/v1/docs`);
    // Folded by tag; every section opened must still fit the phone.
    expect(await page.locator("details.api-tag").count()).toBeGreaterThanOrEqual(8);
    expect(await page.locator("details.api-tag[open]").count()).toBe(0);
    expect(await page.isVisible("#post-api-v1-session")).toBe(false);
    await page.click("details.api-tag summary:has-text('Session')");
    expect(await page.isVisible("#post-api-v1-session pre.api-example")).toBe(true);
    await shoot(page, "api-docs");
    await page.evaluate(() => {
      for (const details of Array.from(document.querySelectorAll("details.api-tag")))
        details.setAttribute("open", "");
    });
    await expectFitsPhone(page, "api-docs-open");
    await page.goto(`${server.web}/no/such/page`);
    await shoot(page, "not-found");
    await page.close();

    const anonymous = await browser.newContext();
    const visitor = watch(await anonymous.newPage());
    await visitor.goto(`${server.web}/`);
    expect(new URL(visitor.url()).pathname).toBe("/login");
    await shoot(visitor, "login");
    await anonymous.close();
  }, 180_000);

  test("every page a member and an administrator reach passes axe at 390 and 1280 px, light and dark; focus is visible", async () => {
    const sql = server.running.db.sql;
    const pepper = resolvePepper(server.config.salt, server.config.dataDir);
    const { user: reader } = await createUser(sql, {
      name: "reader",
      passwordHash: await hashPassword("a reader's long password", pepper),
    });
    await server.running.sync.user(reader.id);
    const [torrent] = await sql`select id from torrents order by id desc limit 1`;
    const [news] = await sql`select id from news order by id desc limit 1`;
    const [comment] = await sql`select id from comments order by id desc limit 1`;
    const [admin] = await sql`select id from users where name = 'admin'`;
    // The data the newer pages show: a request, a conversation, a report, a warning, a held
    // torrent, a reset link; made the way members and staff make them, through the pages.
    await sql`
      insert into bonus_ledger (user_id, hour, millipoints, reason)
      values (${reader.id}, ${new Date(Date.UTC(2020, 0, 2))}, 500000, 'seeding')
    `;
    const maker = await browser.newContext();
    const as = watch(await maker.newPage());
    await logIn(as, "reader", "a reader's long password");
    await as.goto(`${server.web}/requests/new`);
    await as.fill('input[name="title"]', "An <i>old</i> manual");
    await as.fill('textarea[name="description"]', "Any scan will do.");
    await as.fill('input[name="points"]', "100");
    await as.selectOption('select[name="category"]', { index: 1 });
    await Promise.all([
      as.waitForURL(/\/requests\/\d+\?done=created/),
      as.click('form[action="/requests"] button'),
    ]);
    const requestPath = new URL(as.url()).pathname;
    await as.goto(`${server.web}/messages/new`);
    await as.fill('input[name="to"]', "admin");
    await as.fill('input[name="subject"]', "A question about <seeding>");
    await as.fill('textarea[name="body"]', "How long should I **seed**?");
    await Promise.all([
      as.waitForURL(/\/messages\/\d+/),
      as.click('form[action="/messages"] button[type="submit"]'),
    ]);
    const conversationPath = new URL(as.url()).pathname;
    await as.goto(`${server.web}/messages/new?staff=1`);
    await as.fill('input[name="subject"]', "For the staff");
    await as.fill('textarea[name="body"]', "A word for the staff.");
    await Promise.all([
      as.waitForURL(/\/messages\/\d+/),
      as.click('form[action="/messages"] button[type="submit"]'),
    ]);
    const reportForm = `/reports/new?type=torrent&id=${torrent?.id}`;
    await as.goto(`${server.web}${reportForm}`);
    await as.fill('textarea[name="reason"]', "The <files> are not what it says.");
    await Promise.all([
      as.waitForURL((url) => url.pathname !== "/reports/new"),
      as.click('form[action="/reports"] button'),
    ]);
    await as.close();
    await maker.close();
    const staffer = watch(await browser.newPage());
    await logIn(staffer, "admin", "correct horse battery");
    await staffer.goto(`${server.web}/admin/users/${reader.id}/warnings`);
    await staffer.fill('textarea[name="reason"]', "Too many <unfinished> downloads.");
    await Promise.all([
      staffer.waitForURL(/warnings/),
      staffer.click(`form[action="/admin/users/${reader.id}/warnings"] button`),
    ]);
    await staffer.goto(`${server.web}/admin/users/${reader.id}`);
    await staffer.click('form[action$="/reset-link"] button');
    await staffer.waitForSelector("#reset-link");
    const resetPath = new URL((await staffer.textContent("#reset-link"))!.trim()).pathname;
    await staffer.goto(`${server.web}/upload`);
    const held = buildInfo({
      kind: "v1",
      name: "Held Back Upload",
      files: [{ path: [], data: content(20000, 7) }],
    });
    const heldFile = join(tmpdir(), `fw-browser-${process.pid}-held.torrent`);
    writeFileSync(heldFile, torrentBytes(held.info));
    await staffer.setInputFiles('input[name="file"]', heldFile);
    if (await staffer.locator('#upload select[name="category"]').count())
      await staffer.selectOption('#upload select[name="category"]', { index: 1 });
    await Promise.all([
      staffer.waitForURL(/\/torrents\/\d+\?uploaded=/),
      staffer.click('#upload button[type="submit"]'),
    ]);
    rmSync(heldFile, { force: true });
    // Staff uploads skip the queue; this one waits as a member's would.
    const heldId = Number(/\/torrents\/(\d+)/.exec(staffer.url())![1]);
    await sql`update torrents set moderation = 'pending', queued_at = now() where id = ${heldId}`;
    await staffer.close();
    // What this suite made earlier; a page for each only when it is there.
    const some = (row: unknown, paths: string[]) => (row ? paths : []);
    const shared = [
      "/",
      "/torrents",
      ...some(torrent, [`/torrents/${torrent?.id}`]),
      "/news",
      ...some(news, [`/news/${news?.id}`]),
      "/account",
      "/account/warnings",
      "/account/two-factor",
      "/messages",
      "/messages/new",
      "/messages/new?staff=1",
      conversationPath,
      "/requests",
      "/requests/new",
      requestPath,
      "/bookmarks",
      "/reports",
      reportForm,
      ...some(torrent, [`/torrents/${torrent?.id}/swarm`]),
      "/account/history",
      "/account/hit-and-runs",
      "/account/bonus",
      "/users/admin",
      "/api/v1/docs",
    ];
    const pages: Record<string, { password: string; paths: string[] }> = {
      // A member with no role: no upload or invite pages.
      reader: { password: "a reader's long password", paths: [...shared, "/users/reader"] },
      admin: {
        password: "correct horse battery",
        paths: [
          ...shared,
          "/upload",
          "/invites",
          ...some(torrent, [`/torrents/${torrent?.id}/edit`]),
          ...some(news, [`/news/${news?.id}/edit`]),
          ...some(comment, [`/comments/${comment?.id}/edit`]),
          "/users/reader",
          "/admin",
          "/admin/users",
          `/admin/users/${reader.id}`,
          `/admin/users/${admin!.id}/history`,
          `/admin/users/${reader.id}/hit-and-runs`,
          "/admin/categories",
          "/admin/freeleech",
          "/admin/hit-and-runs",
          "/admin/suspicious",
          "/messages/staff",
          `/admin/users/${reader.id}/warnings`,
          "/staff/queue",
          `/torrents/${heldId}`,
          "/staff/reports",
          "/admin/log",
          "/staff/invites",
        ],
      },
    };
    // The check can fail: a text box without a label and grey-on-grey text are found.
    const probe = watch(await browser.newPage());
    await probe.goto(`${server.web}/login`);
    await probe.evaluate(() => {
      const field = document.createElement("input");
      field.type = "text";
      const faint = document.createElement("p");
      faint.textContent = "Hard to read";
      faint.style.color = "#bbbbbb";
      faint.style.background = "#cccccc";
      document.querySelector("main")!.append(field, faint);
    });
    const probed = (await axeFindings(probe, "probe")).join("\n");
    expect(probed).toContain("probe: label (critical)");
    expect(probed).toContain("probe: color-contrast (serious)");
    await probe.close();

    const findings: string[] = [];
    let checked = 0;
    for (const [name, { password, paths }] of Object.entries(pages)) {
      for (const theme of ["light", "dark"] as const) {
        const context = await browser.newContext({ colorScheme: theme });
        const page = watch(await context.newPage());
        await logIn(page, name, password);
        for (const width of [390, 1280]) {
          await page.setViewportSize({ width, height: 844 });
          for (const path of paths) {
            const response = await page.goto(`${server.web}${path}`);
            expect({ path, status: response?.status() }).toEqual({ path, status: 200 });
            findings.push(...(await axeFindings(page, `${name} ${path} ${width}px ${theme}`)));
            if (width === 390 && theme === "light")
              findings.push(...(await phoneOverflow(page, `${name} ${path}`)));
            checked++;
          }
        }
        // The pages anyone reaches logged out, once per theme and width.
        if (name === "reader") {
          const anonymous = watch(await browser.newPage({ colorScheme: theme }));
          for (const width of [390, 1280]) {
            await anonymous.setViewportSize({ width, height: 844 });
            for (const path of ["/login", "/forgot", resetPath]) {
              const response = await anonymous.goto(`${server.web}${path}`);
              expect({ path, status: response?.status() }).toEqual({ path, status: 200 });
              findings.push(...(await axeFindings(anonymous, `anyone ${path} ${width}px ${theme}`)));
              if (width === 390 && theme === "light")
                findings.push(...(await phoneOverflow(anonymous, `anyone ${path}`)));
              checked++;
            }
          }
          await anonymous.close();
        }
        await context.close();
      }
    }
    expect(checked).toBeGreaterThanOrEqual(4 * 60);
    expect(findings).toEqual([]);

    // The keyboard: the first Tab reaches a link or button, and it shows where the focus is.
    const page = watch(await browser.newPage());
    await logIn(page, "reader", "a reader's long password");
    for (const path of ["/torrents", "/account"]) {
      await page.goto(`${server.web}${path}`);
      for (let i = 0; i < 3; i++) {
        await page.keyboard.press("Tab");
        const focus = await page.evaluate(() => {
          const el = document.activeElement as HTMLElement | null;
          if (!el || el === document.body) return null;
          const style = getComputedStyle(el);
          return {
            tag: el.tagName.toLowerCase(),
            outline: style.outlineStyle !== "none" && Number.parseFloat(style.outlineWidth) >= 2,
            ring: style.boxShadow !== "none",
          };
        });
        expect({
          path,
          i,
          tag: ["a", "button", "input", "select", "summary"].includes(focus?.tag ?? ""),
        }).toEqual({
          path,
          i,
          tag: true,
        });
        expect({ path, i, visible: Boolean(focus?.outline || focus?.ring) }).toEqual({
          path,
          i,
          visible: true,
        });
      }
    }
    await page.close();
  }, 900_000);

  test("an upload over the size limit says so in the form; deleting asks first", async () => {
    const page = watch(await browser.newPage());
    await logIn(page, "admin", "correct horse battery");
    await page.goto(`${server.web}/upload`);
    await page.setInputFiles('input[name="file"]', bigFile);
    // Once a category exists (the test above adds one) the form asks for it before it is sent.
    if ((await page.locator('select[name="category"]').count()) > 0)
      await page.selectOption('select[name="category"]', { index: 1 });
    await page.click('#upload button[type="submit"]');
    const limit = Math.floor(server.config.webapi.maxTorrentBytes / 1024);
    await page.waitForSelector(`#upload [role="alert"]:has-text("The file is larger than ${limit} KiB.")`);
    expect(page.url()).toEndWith("/upload");

    // The torrent uploaded above: dismissing the question keeps it, accepting deletes it.
    await page.goto(`${server.web}/torrents`);
    await Promise.all([
      page.waitForURL(/\/torrents\/\d+$/),
      page.click("#results td.title > a:has-text('Fairywren Test Payload')"),
    ]);
    const detail = page.url();
    page.once("dialog", (dialog) => void dialog.dismiss());
    await page.click("form[action$='/delete'] button.danger");
    expect(page.url()).toBe(detail);
    expect(await page.textContent("h1")).toBe("Fairywren Test Payload");
    page.once("dialog", (dialog) => {
      expect(dialog.message()).toBe("Delete this torrent for everyone?");
      void dialog.accept();
    });
    await Promise.all([page.waitForURL(/\/torrents$/), page.click("form[action$='/delete'] button.danger")]);
    expect(await page.textContent("#results")).not.toContain("Fairywren Test Payload");
    await page.close();
  });

  test("the rough edges a new member found stay smooth", async () => {
    const sql = server.running.db.sql;
    const page = watch(await browser.newPage());
    await logIn(page, "admin", "correct horse battery");
    await page.setViewportSize({ width: 1280, height: 800 });

    // The upload form: a styled file picker, help text in the normal weight.
    await page.goto(`${server.web}/upload`);
    const picker = await page.$eval('input[type="file"]', (el) => ({
      radius: getComputedStyle(el).borderTopLeftRadius,
      border: getComputedStyle(el).borderTopStyle,
      button: getComputedStyle(el, "::file-selector-button").borderTopStyle,
    }));
    expect(picker).toEqual({ radius: "6px", border: "solid", button: "none" });
    for (const help of ["#tags-help", "#description-help", 'input[type="file"] + .muted'])
      expect({ help, weight: await page.$eval(help, (el) => getComputedStyle(el).fontWeight) }).toEqual({
        help,
        weight: "400",
      });

    // A single file, already private, whose name has an extension; a description with blocks.
    const { info } = buildInfo({
      kind: "v1",
      name: "Quokka.Sunrise.Sampler.2026.1080p.BluRay.H.265.DD5.1-GRP.mkv",
      files: [{ path: [], data: content(70000, 5) }],
    });
    info.set("private", 1);
    const file = join(tmpdir(), `fw-browser-${process.pid}-edges.torrent`);
    writeFileSync(file, torrentBytes(info));
    const description = [
      "### Notes",
      "",
      "First paragraph.",
      "",
      "- one",
      "- two",
      "",
      "> quoted",
      "",
      "```",
      `ffmpeg -i input.mkv -c:v libx265 -preset slow -crf 22 -c:a copy ${"-x265-params aq-mode=3 ".repeat(3)}out.mkv`,
      "```",
    ].join("\n");
    await page.setInputFiles('input[name="file"]', file);
    // The test above adds a category; once one exists the form asks for it.
    if ((await page.locator('select[name="category"]').count()) > 0)
      await page.selectOption('select[name="category"]', { index: 1 });
    await page.fill('textarea[name="description"]', description);
    await page.waitForSelector("#description-preview blockquote");
    await Promise.all([
      page.waitForURL(/\/torrents\/\d+\?uploaded=/),
      page.click('#upload button[type="submit"]'),
    ]);
    rmSync(file, { force: true });
    // The title drops ".mkv"; the torrent was private already, so the page does not say it was made so.
    expect(await page.textContent("h1")).toBe("Quokka.Sunrise.Sampler.2026.1080p.BluRay.H.265.DD5.1-GRP");
    expect(await page.textContent(".notice")).toContain("tagged this torrent with its own source");
    expect(await page.textContent(".notice")).not.toContain("made this torrent private");
    const detailUrl = page.url().replace(/\?.*$/, "");
    const id = Number(/torrents\/(\d+)/.exec(detailUrl)![1]);

    // The description is as compact as its preview: its blocks stand where the same text would
    // in the preview, with no blank lines between them.
    const blockTops = (selector: string) =>
      page.$eval(selector, (el) => {
        const first = el.firstElementChild!.getBoundingClientRect().top;
        return Array.from(el.children).map((child) => Math.round(child.getBoundingClientRect().top - first));
      });
    const shown = await blockTops(".description");
    await page.goto(`${detailUrl}/edit`);
    const previewed = await blockTops("#description-preview .prose");
    expect(shown.length).toBe(5);
    for (const [i, top] of shown.entries()) expect(Math.abs(top - previewed[i]!)).toBeLessThanOrEqual(2);
    // The edit page with that code block in its preview fits a phone.
    await shoot(page, "torrent-edit-code");

    // A title over the limit is named beside the field; the form stays filled, no "Go back".
    await page.setViewportSize({ width: 1280, height: 800 });
    const long = "A title far too long ".repeat(12);
    await page.$eval('input[name="title"]', (el) => el.removeAttribute("maxlength"));
    await page.fill('input[name="title"]', long);
    await page.click('main form button[type="submit"]');
    await page.waitForSelector("#title-error");
    expect(await page.textContent("#title-error")).toBe("Use at most 200 characters.");
    expect(await page.inputValue('input[name="title"]')).toBe(long.trim());
    expect(await page.textContent("main")).not.toContain("Go back");
    const titleBox = (await page.locator('input[name="title"]').boundingBox())!;
    const errorBox = (await page.locator("#title-error").boundingBox())!;
    expect(errorBox.y - (titleBox.y + titleBox.height)).toBeLessThan(20);

    // A peer, so the swarm lists one; the factor fields are the site's inputs, not the browser's.
    const [me] = await sql`select passkey from users where name = 'admin'`;
    const [hash] = await sql`select info_hash from torrents where id = ${id}`;
    const reply = await fetch(
      `${server.tracker}/${me!.passkey}/announce?${announceQuery({ infoHash: Buffer.from(hash!.infoHash), peerId: Buffer.alloc(20, 0x45), left: 0, event: "started", uploaded: 8_000_000 })}`,
    );
    expect(await reply.text()).toContain("8:completei1e");
    // The peer list reaches the page once the tracker has handed it over: reload until it shows.
    for (let tries = 0; ; tries++) {
      await page.goto(detailUrl);
      if ((await page.locator("#swarm table.peers").count()) > 0) break;
      if (tries === 30) throw new Error("the swarm never listed the peer");
      await Bun.sleep(1000);
    }
    const inputLook = (selector: string) =>
      page.$eval(selector, (el) => ({
        radius: getComputedStyle(el).borderTopLeftRadius,
        border: getComputedStyle(el).borderTopStyle,
        type: el.getAttribute("type"),
      }));
    for (const name of ["download_factor", "upload_factor"])
      expect(await inputLook(`#swarm input[name="${name}"]`)).toEqual({
        radius: "6px",
        border: "solid",
        type: "text",
      });
    // On a phone each value of a peer row says what it is.
    await page.setViewportSize({ width: 390, height: 844 });
    const labels = await page.$$eval("#swarm table.peers tbody tr:first-child td", (cells) =>
      cells.map((cell) => getComputedStyle(cell, "::before").content),
    );
    expect(labels).toEqual([
      '"Member: "',
      '"Client: "',
      '"Uploaded: "',
      '"Downloaded: "',
      '"Progress: "',
      '"Last announce: "',
      '"Connectable: "',
    ]);
    await shoot(page, "torrent-peers");

    // Freeleech set on the torrent: its badge stands out from the grey ones, in both themes.
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.fill('#swarm input[name="download_factor"]', "0");
    await Promise.all([page.waitForURL(detailUrl), page.click('#swarm form[action$="/freeleech"] button')]);
    await page.goto(`${server.web}/torrents`);
    for (const scheme of ["light", "dark"] as const) {
      await page.emulateMedia({ colorScheme: scheme });
      const look = await page.$eval("#results .badge.freeleech", (badge) => {
        const channels = (color: string) =>
          color
            .match(/[\d.]+/g)!
            .slice(0, 3)
            .map(Number);
        const luminance = (color: string) => {
          const [r, g, b] = channels(color).map((v) => {
            const c = v / 255;
            return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
          });
          return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
        };
        const style = getComputedStyle(badge);
        const grey = document.createElement("span");
        grey.className = "badge";
        document.body.append(grey);
        const plain = getComputedStyle(grey).backgroundColor;
        grey.remove();
        const [light, dark] = [luminance(style.color), luminance(style.backgroundColor)].sort(
          (a, b) => b - a,
        );
        const [r, g, b] = channels(style.backgroundColor);
        return {
          differs: style.backgroundColor !== plain,
          contrast: (light! + 0.05) / (dark! + 0.05),
          saturation: Math.max(r!, g!, b!) - Math.min(r!, g!, b!),
        };
      });
      expect({ scheme, differs: look.differs }).toEqual({ scheme, differs: true });
      expect(look.contrast).toBeGreaterThanOrEqual(4.5);
      expect(look.saturation).toBeGreaterThan(60);
    }
    await page.emulateMedia({ colorScheme: "light" });

    // The list: titles break only between words and after dots; the age keeps to one line; each row
    // has a visible download link of the personalised .torrent.
    for (const width of [1280, 900]) {
      await page.setViewportSize({ width, height: 800 });
      const breaks = await page.$$eval("#results td.title > a", (links) =>
        links.flatMap((link) => {
          const text = link.textContent ?? "";
          const walker = document.createTreeWalker(link, NodeFilter.SHOW_TEXT);
          const chars: { ch: string; top: number }[] = [];
          for (let node = walker.nextNode(); node; node = walker.nextNode())
            for (let i = 0; i < node.textContent!.length; i++) {
              const range = document.createRange();
              range.setStart(node, i);
              range.setEnd(node, i + 1);
              const rect = range.getClientRects()[0];
              if (rect) chars.push({ ch: node.textContent![i]!, top: Math.round(rect.top) });
            }
          const wrong: string[] = [];
          for (let i = 1; i < chars.length; i++)
            if (chars[i]!.top > chars[i - 1]!.top + 2 && !/[\s._\-/]/.test(chars[i - 1]!.ch))
              wrong.push(`${text}: after "${chars[i - 1]!.ch}"`);
          return wrong;
        }),
      );
      expect({ width, breaks }).toEqual({ width, breaks: [] });
      const ageLines = await page.$$eval("#results td.age time", (times) =>
        times.map((t) => t.getClientRects().length),
      );
      expect({ width, ageLines: ageLines.every((n) => n === 1) }).toEqual({ width, ageLines: true });
    }
    const row = page.locator("#results tr", { hasText: "Quokka.Sunrise.Sampler" });
    const download = row.locator('a[href$="/download"]');
    expect(await download.isVisible()).toBe(true);
    const [saved] = await Promise.all([page.waitForEvent("download"), download.click()]);
    expect(saved.suggestedFilename()).toEndWith(".torrent");
    await shoot(page, "torrents-edges");

    // The header's search box, on any page: "h265" finds the "H.265" release.
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.goto(`${server.web}/news`);
    await page.fill("header.site input[type=search]", "h265");
    await Promise.all([
      page.waitForURL(/\/torrents\?q=h265/),
      page.press("header.site input[type=search]", "Enter"),
    ]);
    expect(await page.locator("#results td.title > a").allTextContents()).toEqual([
      "Quokka.Sunrise.Sampler.2026.1080p.BluRay.H.265.DD5.1-GRP",
    ]);

    // The account and staff menus reach every page a member or an administrator has.
    await page.goto(`${server.web}/`);
    for (const [menu, link, path] of [
      ["details.account-menu", "Bonus points", "/account/bonus"],
      ["details.account-menu", "History", "/account/history"],
      ["details.account-menu", "Hit-and-runs", "/account/hit-and-runs"],
      ["details.staff-menu", "Hit-and-runs", "/admin/hit-and-runs"],
      ["details.staff-menu", "Freeleech windows", "/admin/freeleech"],
    ] as const) {
      await page.click(`${menu} > summary`);
      await Promise.all([
        page.waitForURL((url) => url.pathname === path),
        page.click(`${menu} .menu-items a:text-is("${link}")`),
      ]);
    }
    // The freeleech window form's fields are styled too; the menus open and fit on a phone.
    for (const name of ["starts_at", "download_factor", "upload_factor", "note"]) {
      const look = await inputLook(`input[name="${name}"]`);
      expect({ name, radius: look.radius, border: look.border }).toEqual({
        name,
        radius: "6px",
        border: "solid",
      });
    }
    await page.click("details.account-menu > summary");
    await page.click("details.staff-menu > summary");
    await shoot(page, "menus-open");

    // Categories: a compact table, each edited in its row (three categories, one short page).
    for (const [name, icon] of [
      ["Films", "film"],
      ["Music", "music"],
      ["Software", "software"],
    ] as const)
      await sql`insert into categories (name, icon, position) values (${name}, ${icon}, 50) on conflict do nothing`;
    const [{ n: categoryCount }] = (await sql`select count(*)::int as n from categories`) as unknown as [
      { n: number },
    ];
    expect(categoryCount).toBeGreaterThanOrEqual(3);
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.goto(`${server.web}/admin/categories`);
    expect(await page.locator("table.category-admin tbody tr").count()).toBe(categoryCount);
    const addTop = (await page.locator("h2:text('Add a category')").boundingBox())!.y;
    expect(addTop).toBeLessThan(650);
    const [filmsRow] = await sql`select id from categories where name = 'Films'`;
    const films = page.locator(`tr#category-${filmsRow!.id}`);
    await films.locator("summary").click();
    await films.locator('input[name="name"]').fill("Feature films");
    await Promise.all([page.waitForURL(/done=saved/), films.locator('button:text("Save")').click()]);
    expect(await page.textContent("table.category-admin")).toContain("Feature films");
    await shoot(page, "categories-table");

    // Home: the member count is today's, and the sampled figures say when they were taken.
    await page.goto(`${server.web}/`);
    const [{ members }] =
      (await sql`select count(*)::int as members from users where not disabled`) as unknown as [
        { members: number },
      ];
    expect(await page.textContent("#site-stats dl.figures .figure:first-child dd")).toBe(String(members));
    expect(await page.textContent("#stats-note")).toMatch(/as sampled at \d{4}-\d\d-\d\d \d\d:\d\d UTC/);
    await page.close();
  });

  test("a request with a bounty, filled and accepted; a bookmark toggled in place; phone and dark", async () => {
    const sql = server.running.db.sql;
    const pepper = resolvePepper(server.config.salt, server.config.dataDir);
    const [admin] = await sql<{ id: number }[]>`select id from users where name = 'admin'`;
    await sql`
      insert into bonus_ledger (user_id, hour, millipoints, reason)
      values (${admin!.id}, ${new Date(Date.UTC(2020, 0, 1))}, 500000, 'seeding')
    `;
    const { user: filler } = await createUser(sql, {
      name: "filler",
      passwordHash: await hashPassword("correct horse battery", pepper),
    });
    await server.running.sync.user(filler.id);
    const [wanted] = await sql<{ id: number }[]>`select id from torrents where title = 'Wren Live Image'`;

    const page = watch(await browser.newPage());
    await logIn(page, "admin", "correct horse battery");
    await page.goto(`${server.web}/requests/new`);
    await page.fill('input[name="title"]', "Wren Live Image, the <b>old</b> one");
    await page.fill('textarea[name="description"]', "Any **build** will do.");
    await page.waitForSelector("#description-preview strong:has-text('build')");
    await page.fill('input[name="points"]', "150");
    // The site has a category by now (the test above adds one): a request needs one too.
    await page.selectOption('select[name="category"]', { label: "Live systems" });
    await shoot(page, "request-new");
    await Promise.all([
      page.waitForURL(/\/requests\/\d+\?done=created/),
      page.click('form[action="/requests"] button'),
    ]);
    expect(await page.textContent("h1")).toBe("Wren Live Image, the <b>old</b> one");
    expect(await page.textContent("#bounty")).toBe("150 points from 1 member");
    const requestUrl = page.url().replace(/\?.*$/, "");
    await page.goto(`${server.web}/requests`);
    await page.fill('input[name="q"]', "wren old");
    await page.waitForURL(/q=wren/);
    await page.waitForSelector("#request-results a:has-text('Wren Live Image')");
    await shoot(page, "requests");

    // Another member fills it with the torrent's link; the requester accepts.
    const other = await browser.newContext();
    const fillerPage = watch(await other.newPage());
    await logIn(fillerPage, "filler", "correct horse battery");
    await fillerPage.goto(requestUrl);
    await fillerPage.fill('input[name="torrent"]', `${server.web}/torrents/${wanted!.id}`);
    await Promise.all([
      fillerPage.waitForURL(/done=filled/),
      fillerPage.click('form[action$="/fill"] button'),
    ]);
    await other.close();
    await page.goto(requestUrl);
    expect(await page.textContent("#fill")).toContain("Wren Live Image");
    await shoot(page, "request-pending");
    page.once("dialog", (dialog) => void dialog.accept());
    await Promise.all([page.waitForURL(/done=accepted/), page.click('form[action$="/accept"] button')]);
    expect(await page.textContent(".status")).toBe("Filled");
    const [paid] = await sql<{ total: string }[]>`
      select sum(millipoints)::text as total from bonus_ledger where user_id = ${filler.id}
    `;
    expect(Number(paid!.total)).toBe(150_000);

    // The bookmark toggle swaps in place: the page is not loaded again.
    await page.goto(`${server.web}/torrents/${wanted!.id}`);
    expect(await page.textContent(".filled-requests")).toContain("Filled the request");
    await page.evaluate(() => {
      (window as unknown as { stayed: boolean }).stayed = true;
    });
    await page.click(`#bookmark-${wanted!.id} button`);
    await page.waitForSelector(`#bookmark-${wanted!.id} button:has-text('Bookmarked')`);
    expect(await page.evaluate(() => (window as unknown as { stayed?: boolean }).stayed)).toBe(true);
    await page.goto(`${server.web}/bookmarks`);
    expect(await page.locator("#bookmarks td.title > a").allTextContents()).toEqual(["Wren Live Image"]);
    await shoot(page, "bookmarks");
    await page.emulateMedia({ colorScheme: "dark" });
    await page.goto(requestUrl);
    await shoot(page, "request-dark");
    // The dark theme's colours, not the light ones, are in force.
    const background = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    expect(background).toBe("rgb(18, 21, 28)");
    await page.close();
  });

  test("a passkey: added on the two-factor page with a virtual authenticator, then used to log in", async () => {
    const pepper = resolvePepper(server.config.salt, server.config.dataDir);
    const { user } = await createUser(server.running.db.sql, {
      name: "keyholder",
      passwordHash: await hashPassword("correct horse battery", pepper),
    });
    await server.running.sync.user(user.id);
    // A passkey's relying party is a host name, never an IP address: the site is visited as localhost.
    const site = server.web.replace("127.0.0.1", "localhost");
    const page = watch(await browser.newPage());
    const cdp = await page.context().newCDPSession(page);
    await cdp.send("WebAuthn.enable");
    await cdp.send("WebAuthn.addVirtualAuthenticator", {
      options: {
        protocol: "ctap2",
        transport: "internal",
        hasResidentKey: true,
        hasUserVerification: true,
        isUserVerified: true,
      },
    });
    const logInWithPassword = async () => {
      await page.goto(`${site}/login`);
      await page.fill('input[name="name"]', "keyholder");
      await page.fill('input[name="password"]', "correct horse battery");
      await page.click('button[type="submit"]');
    };
    await logInWithPassword();
    await page.waitForURL((url) => url.pathname === "/");

    await page.goto(`${site}/account/two-factor`);
    await shoot(page, "two-factor");
    await page.fill("#passkey-name", "Laptop <key>");
    await Promise.all([page.waitForURL(/\/account\/two-factor\?done=passkey$/), page.click("#passkey-add")]);
    expect(await page.textContent(".notice.good")).toContain("The passkey was added");
    expect(await page.locator("#recovery-codes li").count()).toBe(10);
    expect(await page.textContent("#passkeys")).toContain("Laptop <key>");
    const [stored] = await server.running.db
      .sql`select name, counter from passkeys where user_id = ${user.id}`;
    expect(stored!.name).toBe("Laptop <key>");
    await page.emulateMedia({ colorScheme: "dark" });
    await shoot(page, "two-factor-dark");
    await page.emulateMedia({ colorScheme: "light" });
    // Shown once: a reload no longer has the codes.
    await page.reload();
    expect(await page.locator("#recovery-codes").count()).toBe(0);

    await page.click("details.account-menu > summary");
    await Promise.all([
      page.waitForURL(/\/login$/),
      page.click('details.account-menu form button[type="submit"]'),
    ]);
    await logInWithPassword();
    await page.waitForURL(/\/login\/second/);
    await shoot(page, "second-factor");
    await Promise.all([page.waitForURL((url) => url.pathname === "/"), page.click("#passkey-login")]);
    expect(await page.textContent("header nav")).toContain("keyholder");
    const [used] = await server.running.db.sql`select last_used_at from passkeys where user_id = ${user.id}`;
    expect(used!.lastUsedAt).not.toBeNull();

    await page.close();
  });

  test("no page broke the Content-Security-Policy", () => {
    expect(violations).toEqual([]);
  });
});
