// Formatted text: the renderer against hostile Markdown, the one component that writes its HTML
// unescaped, and the live preview over HTTP.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { renderMarkdown, safeLink } from "../../src/web/markdown/service.ts";
import { webHarness } from "../helpers/web.ts";

/** The renderer's HTML as a plain string. */
const render = (text: string): string => renderMarkdown(text);

/** Every opening tag the HTML holds, with its attributes, as written. */
function tags(html: string): string[] {
  return html.match(/<[a-zA-Z][^>]*>/g) ?? [];
}

/** The problems a rendering has: tags or attributes the renderer must never write, unsafe links. */
function unsafe(html: string): string[] {
  const problems: string[] = [];
  const allowed = new Set([
    "p",
    "br",
    "em",
    "strong",
    "a",
    "code",
    "pre",
    "blockquote",
    "ul",
    "ol",
    "li",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "s",
  ]);
  for (const tag of tags(html)) {
    const name = /^<([a-zA-Z0-9]+)/.exec(tag)![1]!.toLowerCase();
    if (!allowed.has(name)) problems.push(`tag ${tag}`);
    // No style attribute: the Content-Security-Policy would refuse it (alignment is a class).
    for (const [, attr] of tag.matchAll(/\s([^\s=>]+)=/g))
      if (!["href", "rel", "class", "start"].includes(attr!.toLowerCase()))
        problems.push(`attribute ${attr} in ${tag}`);
    const href = /href="([^"]*)"/.exec(tag)?.[1];
    if (href !== undefined) {
      const decoded = href.replace(/&amp;/g, "&").replace(/&quot;/g, '"');
      if (!safeLink(decoded)) problems.push(`link ${href}`);
      if (!/rel="nofollow noopener"/.test(tag)) problems.push(`link without rel: ${tag}`);
    }
  }
  return problems;
}

describe("the Markdown renderer", () => {
  test("formats what members write: emphasis, links, lists, code, quotes, tables, line breaks", () => {
    const html = render(
      "**bold** *it* `x<y`\nnext line\n\n- one\n- two\n\n> quoted\n\n| a | b |\n|---|--:|\n| 1 | 2 |\n\nSee https://example.org/x?a=1&b=2 and [home](/torrents).",
    );
    expect(html).toContain("<strong>bold</strong>");
    expect(html).toContain("<em>it</em>");
    expect(html).toContain("<code>x&lt;y</code>");
    expect(html).toContain("<br>");
    expect(html).toContain("<li>one</li>");
    expect(html).toContain("<blockquote>");
    expect(html).toContain('<td class="align-right">2</td>');
    expect(html).toContain('<a href="https://example.org/x?a=1&amp;b=2" rel="nofollow noopener">');
    expect(html).toContain('<a href="/torrents" rel="nofollow noopener">home</a>');
    expect(unsafe(html)).toEqual([]);
  });

  test("headings start below the page's own h1 and h2", () => {
    expect(render("# Title\n\n## Sub\n\n##### Deep")).toBe("<h3>Title</h3>\n<h4>Sub</h4>\n<h6>Deep</h6>\n");
  });

  test("hostile Markdown: no script, no event attribute, no dangerous link, no image", () => {
    const hostile = [
      "<script>alert(1)</script>",
      "<img src=x onerror=alert(1)>",
      '<a href="javascript:alert(1)">x</a>',
      "[click](javascript:alert(1))",
      "[click](JaVaScRiPt:alert(1))",
      "[click]( javascript:alert(1) )",
      "[click](java\tscript:alert(1))",
      "[click](javascript&#58;alert(1))",
      "[click](&#x6A;avascript:alert(1))",
      "[click](vbscript:msgbox(1))",
      "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
      "[click](file:///etc/passwd)",
      "<javascript:alert(1)>",
      "<data:text/html,<script>alert(1)</script>>",
      "![x](https://evil.example/pixel.png)",
      '![x" onerror="alert(1)](https://evil.example/a.png)',
      "![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
      '[x](https://ok.example/"onmouseover="alert(1))',
      '[x](https://ok.example/ "title" onclick=alert(1))',
      '<div style="background:url(javascript:alert(1))">',
      '```js" onload="alert(1)\n<script>\n```',
      `${"[".repeat(5000)}x${"](javascript:alert(1))".repeat(100)}`,
      `${"*".repeat(3000)}a${"_".repeat(3000)}`,
      `${"> ".repeat(2000)}deep`,
      `${"- ".repeat(2000)}deep`,
      "<svg><script>alert(1)</script></svg>",
      "<iframe src=//evil.example></iframe>",
      "[a][b]\n\n[b]: javascript:alert(1)",
      "www.example.org/<script>",
      "\u0000<script>\u202e",
    ];
    for (const text of hostile) {
      const html = render(text);
      expect({ text: text.slice(0, 60), problems: unsafe(html) }).toEqual({
        text: text.slice(0, 60),
        problems: [],
      });
      expect(html).not.toMatch(/<(script|img|iframe|svg|div|style)/i);
      // Event handlers inside a tag (as text, escaped, they are only words).
      expect(tags(html).join(" ")).not.toMatch(/\son[a-z]+\s*=/i);
      expect(html.toLowerCase()).not.toMatch(/href="\s*(javascript|vbscript|data|file):/);
    }
    // The text of a refused link stays readable, escaped.
    expect(render("[click](javascript:alert(1))")).toBe("<p>[click](javascript:alert(1))</p>\n");
    expect(render("<b>hi</b>")).toBe("<p>&lt;b&gt;hi&lt;/b&gt;</p>\n");
    // An image becomes a link to it, with its text; a refused one stays text.
    expect(render("![a cat](https://example.org/cat.png)")).toBe(
      '<p><a href="https://example.org/cat.png" rel="nofollow noopener" class="image-link">a cat</a></p>\n',
    );
  });

  test("links: http, https, mailto and this site's paths only", () => {
    for (const ok of [
      "https://a.example/",
      "http://a.example",
      "mailto:x@a.example",
      "/torrents/1",
      "#top",
      "page?x=1",
    ])
      expect({ ok, safe: safeLink(ok) }).toEqual({ ok, safe: true });
    for (const bad of [
      "javascript:alert(1)",
      " JAVASCRIPT:x",
      "vbscript:x",
      "data:text/html,x",
      "file:///x",
      "ftp://x",
      "",
    ])
      expect({ bad, safe: safeLink(bad) }).toEqual({ bad, safe: false });
  });

  test("rendered HTML reaches a page only through the one audited component", () => {
    const root = join(import.meta.dir, "../..");
    const files = [
      ...readdirSync(join(root, "views"), { recursive: true, encoding: "utf8" }).map((f) => join("views", f)),
      ...readdirSync(join(root, "src/web"), { recursive: true, encoding: "utf8" }).map((f) =>
        join("src/web", f),
      ),
    ].filter((f) => f.endsWith(".tsx"));
    // A JSX child named safe… is written unescaped (kitajs and its scan take the name as a promise).
    const writers = files.filter((f) =>
      /\{\s*safe[A-Za-z0-9_]*\s*\}/.test(readFileSync(join(root, f), "utf8")),
    );
    expect(writers.map((f) => relative(root, join(root, f)))).toEqual(["views/markdown/rendered.tsx"]);
    const source = readFileSync(join(root, "views/markdown/rendered.tsx"), "utf8");
    expect(source).toContain("html: RenderedHtml");
    // Only the renderer makes a RenderedHtml out of a string.
    const casts = files
      .concat(
        readdirSync(join(root, "src"), { recursive: true, encoding: "utf8" }).map((f) => join("src", f)),
      )
      .filter((f) => /\.tsx?$/.test(f))
      .filter((f) => /as RenderedHtml/.test(readFileSync(join(root, f), "utf8")));
    expect([...new Set(casts)]).toEqual(["src/web/markdown/service.ts"]);
  });
});

describe("the live preview, POST /preview", () => {
  let web: Awaited<ReturnType<typeof webHarness>>;
  let member: { cookie: string; csrf: string };
  beforeAll(async () => {
    web = await webHarness();
    await web.member("writer");
    member = await web.login("writer");
  });
  afterAll(async () => {
    await web?.close();
  });

  test("answers a member's htmx request with the rendered fragment, escaped", async () => {
    const response = await web.request("/preview", {
      cookie: member.cookie,
      form: { description: "**Hi** <script>alert(1)</script> [x](javascript:alert(1))" },
      headers: { "hx-request": "true", "x-csrf-token": member.csrf },
    });
    expect(response.status).toBe(200);
    const html = await response.text();
    expect(html).toStartWith('<div class="prose"><p><strong>Hi</strong> &lt;script&gt;');
    expect(html).not.toContain("<script");
    expect(html).not.toContain('href="javascript');
    const empty = await web.request("/preview", {
      cookie: member.cookie,
      form: { body: "   " },
      headers: { "x-csrf-token": member.csrf },
    });
    expect(await empty.text()).toContain("Nothing to preview yet.");
  });

  test("needs the CSRF token, a session, and a text no longer than a description", async () => {
    const noToken = await web.request("/preview", { cookie: member.cookie, form: { text: "x" } });
    expect(noToken.status).toBe(403);
    const crossSite = await web.request("/preview", {
      cookie: member.cookie,
      form: { text: "x", _csrf: member.csrf },
      headers: { origin: "https://evil.example" },
    });
    expect(crossSite.status).toBe(403);
    const anonymous = await web.request("/preview", { form: { text: "x" } });
    expect(anonymous.status).toBe(303);
    expect(anonymous.headers.get("location")).toStartWith("/login");
    const long = await web.request("/preview", {
      cookie: member.cookie,
      form: { text: "x".repeat(20001), _csrf: member.csrf },
    });
    expect(long.status).toBe(422);
    const fits = await web.request("/preview", {
      cookie: member.cookie,
      form: { text: "x".repeat(20000), _csrf: member.csrf },
    });
    expect(fits.status).toBe(200);
  });
});
