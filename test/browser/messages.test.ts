// Private messages and the passkey in a real headless Chromium against the whole process: the
// header's unread count on a phone (390 px) in the light and dark themes, a reply sent with htmx,
// and the passkey shown only when asked for.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { type Browser, chromium, type Page } from "playwright-core";
import { createUser } from "../../src/db/queries/users.ts";
import { hashPassword, resolvePepper } from "../../src/shared/secrets.ts";
import { sendSystemMessage } from "../../src/web/messages/service.ts";
import { startTestServer } from "../helpers/server.ts";
import { skipUnless } from "../helpers/skip.ts";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const SHOTS = join(import.meta.dir, "../../artifacts/screenshots");
const run = existsSync(CHROMIUM) || process.env.CI === "true";
const SKIP = skipUnless(
  run,
  `needs Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`,
);
const PASSWORD = "correct horse battery";

let server: Awaited<ReturnType<typeof startTestServer>>;
let browser: Browser;
let memberId: number;

async function logIn(page: Page, name: string): Promise<void> {
  await page.goto(`${server.web}/login`);
  await page.fill('input[name="name"]', name);
  await page.fill('input[name="password"]', PASSWORD);
  await Promise.all([page.waitForURL((url) => url.pathname === "/"), page.click('button[type="submit"]')]);
}

/** Nothing wider than a 390 px screen (the culprits named if not). */
async function fitsPhone(page: Page, name: string): Promise<void> {
  await page.setViewportSize({ width: 390, height: 844 });
  await page.screenshot({ path: join(SHOTS, `${name}-phone.png`), fullPage: true });
  const wide = await page.evaluate(() =>
    Array.from(document.querySelectorAll("body *"))
      .filter((el) => el.getBoundingClientRect().right > window.innerWidth + 0.5)
      .slice(0, 5)
      .map((el) => `${el.tagName.toLowerCase()}.${el.className}`),
  );
  expect({ name, wide }).toEqual({ name, wide: [] });
}

/** The badge's text and its colours against the header bar, as the browser paints them. */
async function badge(page: Page) {
  return page.evaluate(() => {
    const el = document.querySelector("#unread-count");
    if (!el) return null;
    const rect = el.getBoundingClientRect();
    const style = getComputedStyle(el);
    const bar = getComputedStyle(document.querySelector("header.site")!);
    return {
      text: el.textContent,
      visible: rect.width > 0 && rect.height > 0 && rect.right <= window.innerWidth,
      color: style.color,
      background: style.backgroundColor,
      bar: bar.backgroundColor,
    };
  });
}

describe.skipIf(SKIP)("messages and the passkey in a browser", () => {
  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    server = await startTestServer();
    const pepper = resolvePepper(server.config.salt, server.config.dataDir);
    const sql = server.running.db.sql;
    await createUser(sql, { name: "admin", passwordHash: await hashPassword(PASSWORD, pepper) });
    const { user } = await createUser(sql, {
      name: "wren",
      passwordHash: await hashPassword(PASSWORD, pepper),
    });
    memberId = user.id;
    await server.running.sync.user(user.id);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
      ],
    });
  }, 300000);
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  test("the header counts unread messages on a phone, in both themes; a reply goes in with htmx", async () => {
    const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
    await logIn(page, "wren");
    expect(await badge(page)).toBeNull();
    const id = await sendSystemMessage(server.running.db.sql, {
      toUserId: memberId,
      subject: "Welcome <to> the site",
      body: "Read the **rules**, please.",
    });
    await sendSystemMessage(server.running.db.sql, { toUserId: memberId, subject: "Second", body: "More." });
    for (const scheme of ["light", "dark"] as const) {
      await page.emulateMedia({ colorScheme: scheme });
      await page.goto(`${server.web}/torrents`);
      const shown = await badge(page);
      expect(shown).toMatchObject({ text: "2", visible: true });
      // The badge stands out from the bar and its number from the badge.
      expect(shown!.background).not.toBe(shown!.bar);
      expect(shown!.color).not.toBe(shown!.background);
      await fitsPhone(page, `messages-header-${scheme}`);
    }
    const darkBar = (await badge(page))!.bar;
    await page.emulateMedia({ colorScheme: "light" });
    expect((await badge(page))!.bar).not.toBe(darkBar);

    await page.goto(`${server.web}/messages`);
    expect(await page.textContent(`#conversation-${id}`)).toContain("Welcome <to> the site");
    await fitsPhone(page, "messages-list");
    await page.click(`#conversation-${id} a`);
    await page.waitForURL(new RegExp(`/messages/${id}$`));
    expect(await page.textContent("#messages")).toContain("System");
    expect(await page.innerHTML("#messages")).toContain("<strong>rules</strong>");
    // Opening it marked it read: one left.
    expect((await badge(page))?.text).toBe("1");
    await page.fill("#reply-form textarea", "Understood, thank you.");
    await page.click("#reply-form button[type=submit]");
    await page.waitForFunction(() => document.querySelectorAll("#messages .message").length === 2);
    // The page did not reload (htmx added the message) and the form is empty again.
    expect(page.url()).toEndWith(`/messages/${id}`);
    expect(await page.inputValue("#reply-form textarea")).toBe("");
    expect(await page.textContent("#messages .message:last-child")).toContain("Understood, thank you.");
    await page.emulateMedia({ colorScheme: "dark" });
    await fitsPhone(page, "messages-conversation-dark");
    await page.close();
  });

  test("the passkey shows only when asked for; resetting it asks first", async () => {
    const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
    await logIn(page, "wren");
    await page.goto(`${server.web}/account`);
    const [row] = await server.running.db.sql<
      { passkey: string }[]
    >`select passkey from users where id = ${memberId}`;
    expect(await page.isVisible("#announce-url")).toBe(false);
    // biome-ignore lint/performance/useDomNodeTextContent: what a person sees is the point (a closed <details> hides its text)
    const visibleText = await page.evaluate(() => document.body.innerText);
    expect(visibleText).not.toContain(row!.passkey);
    await page.click("#passkey summary");
    expect(await page.isVisible("#announce-url")).toBe(true);
    expect(await page.textContent("#announce-url")).toContain(row!.passkey);
    await fitsPhone(page, "account-passkey");
    // Declining the confirmation sends nothing.
    page.once("dialog", (dialog) => void dialog.dismiss());
    await page.click("form[action$='/account/passkey'] button");
    await page.waitForTimeout(300);
    const [same] = await server.running.db.sql<
      { passkey: string }[]
    >`select passkey from users where id = ${memberId}`;
    expect(same!.passkey).toBe(row!.passkey);
    page.once("dialog", (dialog) => void dialog.accept());
    await Promise.all([
      page.waitForURL(/done=passkey/),
      page.click("form[action$='/account/passkey'] button"),
    ]);
    const [fresh] = await server.running.db.sql<
      { passkey: string }[]
    >`select passkey from users where id = ${memberId}`;
    expect(fresh!.passkey).not.toBe(row!.passkey);
    expect(await page.isVisible("#announce-url")).toBe(false);
    await page.close();
  });
});
