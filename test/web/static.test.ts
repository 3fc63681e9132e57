import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { webHarness } from "../helpers/web.ts";

const root = join(import.meta.dir, "../..");
let web: Awaited<ReturnType<typeof webHarness>>;

beforeAll(async () => {
  web = await webHarness();
  await web.member("admin");
}, 60000);
afterAll(async () => {
  await web?.close();
});

describe("the site icon and stylesheet", () => {
  test("the icon is an SVG served from the executable, at /static/icon.svg and /favicon.ico", async () => {
    for (const path of ["/static/icon.svg", "/favicon.ico"]) {
      const response = await web.request(path);
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toBe("image/svg+xml");
      expect(response.headers.get("cache-control")).toContain("max-age=");
      const body = await response.text();
      expect(body).toStartWith("<svg");
      expect(body).toContain('viewBox="0 0 64 64"');
      expect(body).toBe(readFileSync(join(root, "public/icon.svg"), "utf8"));
    }
  });

  test("every page links the icon and the stylesheet, with a prefix behind a proxy", async () => {
    const html = await (await web.request("/login", { base: "/t" })).text();
    expect(html).toContain('<link rel="icon" href="/t/static/icon.svg" type="image/svg+xml"/>');
    expect(html).toContain('<link rel="stylesheet" href="/t/static/style.css"/>');
    expect(html).toContain('<meta name="color-scheme" content="light dark"/>');
  });

  test("the stylesheet has a dark theme that follows the system setting", async () => {
    const css = await (await web.request("/static/style.css")).text();
    const dark = css.slice(css.indexOf("@media (prefers-color-scheme: dark)"));
    expect(dark.length).toBeLessThan(css.length);
    for (const variable of ["--bg", "--fg", "--card", "--input", "--accent", "--series-0"])
      expect(dark.slice(0, dark.indexOf("}\n}"))).toContain(`${variable}:`);
  });

  test("no view or page writes inline styles (a CSP without 'unsafe-inline' must not break them)", () => {
    const files = ["views", "src/web"].flatMap((dir) =>
      readdirSync(join(root, dir), { recursive: true, encoding: "utf8" })
        .filter((f) => f.endsWith(".tsx"))
        .map((f) => relative(root, join(root, dir, f))),
    );
    expect(files).toContain("views/home/home.tsx");
    // The torrent page still carries two; it joins the check when they go.
    const checked = files.filter((f) => f !== "views/torrents/torrent.tsx");
    const offenders = checked.filter((f) => /\sstyle=/.test(readFileSync(join(root, f), "utf8")));
    expect(offenders).toEqual([]);
  });
});
