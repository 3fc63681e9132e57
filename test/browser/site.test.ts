// The site in a real headless Chromium (Debian's), driven by playwright-core, against the whole
// process (web side + tracker Worker) on a real database. Screenshots go to artifacts/screenshots.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Browser, chromium, type Page } from "playwright-core";
import { createUser } from "../../src/db/queries/users.ts";
import { hashPassword, resolvePepper } from "../../src/shared/secrets.ts";
import { announceQuery } from "../helpers/announce.ts";
import { startTestServer } from "../helpers/server.ts";
import { buildInfo, content, torrentBytes } from "../web/metainfo/fixtures.ts";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const SHOTS = join(import.meta.dir, "../../artifacts/screenshots");
// CI installs Chromium and must run these; elsewhere they run when it is there.
const run = existsSync(CHROMIUM) || process.env.CI === "true";

let server: Awaited<ReturnType<typeof startTestServer>>;
let browser: Browser;
let torrentFile: string;

async function shoot(page: Page, name: string): Promise<void> {
  for (const [label, size] of [
    ["phone", { width: 390, height: 844 }],
    ["desktop", { width: 1280, height: 800 }],
  ] as const) {
    await page.setViewportSize(size);
    await page.screenshot({ path: join(SHOTS, `${name}-${label}.png`), fullPage: true });
  }
  // A page that fits a phone has nothing wider than the screen.
  await page.setViewportSize({ width: 390, height: 844 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth);
  expect(overflow).toBeLessThanOrEqual(390);
}

async function logIn(page: Page, name: string, password: string): Promise<void> {
  await page.goto(`${server.web}/login`);
  await page.fill('input[name="name"]', name);
  await page.fill('input[name="password"]', password);
  await Promise.all([page.waitForURL((url) => url.pathname === "/"), page.click('button[type="submit"]')]);
}

describe.skipIf(!run)("the site in a browser", () => {
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
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  test("log in, upload, find by search, watch the seeders change live", async () => {
    const page = await browser.newPage();
    await logIn(page, "admin", "correct horse battery");
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
    expect(await page.textContent(".card[style]")).toBe("Two files <for> testing & more");
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
    const page = await browser.newPage();
    await logIn(page, "admin", "correct horse battery");
    await page.goto(`${server.web}/invites`);
    await page.fill('input[name="days"]', "3");
    await page.click('main form button[type="submit"]');
    const link = (await page.textContent("#invite-link"))!.trim();
    expect(link).toStartWith(`${server.web}/register/`);
    await shoot(page, "invites");
    const path = new URL(link).pathname;

    const guest = await browser.newContext();
    const visitor = await guest.newPage();
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

    const again = await (await guest.newPage()).goto(`${server.web}${path}`);
    expect(again!.status()).toBe(410);
    expect(await again!.text()).toContain("already used");
    await page.goto(`${server.web}/invites`);
    expect(await page.textContent("main")).toContain("newcomer");
    await guest.close();
    await page.close();
  });
});
