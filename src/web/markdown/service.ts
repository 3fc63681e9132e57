import markdownIt, { type MarkdownIt, type Token } from "markdown-it";
import type { RenderedHtml } from "../../../views/markdown/rendered.tsx";
import type { WebDeps } from "../deps.ts";
import { FixedWindowLimiter } from "../rate-limit.ts";
import { type Refused, refuse } from "../refusal.ts";

export type { RenderedHtml } from "../../../views/markdown/rendered.tsx";

/** Longest text the preview renders: the longest description. */
export const PREVIEW_MAX = 20000;

/** Schemes a link may use; anything else (javascript:, data:, vbscript:, file:...) is left as text. */
const LINK_SCHEMES = new Set(["http:", "https:", "mailto:"]);

/**
 * Whether a link target is safe to put in an href: read as a browser reads it (the WHATWG URL
 * parser, which also drops the tabs, newlines and leading controls browsers ignore), it must be a
 * path on this site or use http, https or mailto.
 */
export function safeLink(url: string): boolean {
  if (url.trim() === "") return false;
  let parsed: URL;
  try {
    parsed = new URL(url, "https://site.invalid/");
  } catch {
    return false;
  }
  return LINK_SCHEMES.has(parsed.protocol);
}

const LINK_REL = "nofollow noopener";
/** How deep elements may nest (MARKDOWN_LIMITS.nesting). */
const MAX_NESTING = 16;

/** A token written as plain text: the characters that made it (a link's brackets are lost). */
function flatten(token: Token): void {
  token.type = "text";
  token.tag = "";
  token.nesting = 0;
  token.content = token.markup;
  token.attrs = null;
}

function renderer(): MarkdownIt {
  // Raw HTML is escaped, bare addresses become links, a single newline is a line break (as
  // descriptions written before Markdown expect), nesting is kept shallow.
  const md = new markdownIt("default", {
    html: false,
    linkify: true,
    breaks: true,
    typographer: false,
    maxNesting: MAX_NESTING,
  });
  md.linkify.set({ fuzzyEmail: false });
  // Checked after markdown-it decoded entities and escapes in the target: a refused link stays text.
  md.validateLink = safeLink;
  md.renderer.rules.link_open = (tokens, idx, options, _env, self) => {
    tokens[idx]!.attrSet("rel", LINK_REL);
    return self.renderToken(tokens, idx, options);
  };
  // No images: a picture from another host would tell it who reads the page. It becomes a link.
  md.renderer.rules.image = (tokens, idx, options, env, self) => {
    const token = tokens[idx]!;
    const src = String(token.attrGet("src") ?? "");
    const alt = self.renderInlineAsText(token.children ?? [], options, env) || src;
    const html = md.utils.escapeHtml;
    return `<a href="${html(src)}" rel="${LINK_REL}" class="image-link">${html(alt)}</a>`;
  };
  // The page has its own h1 and h2: headings in a text start at h3.
  md.core.ruler.push("shift_headings", (state) => {
    for (const token of state.tokens)
      if (token.type === "heading_open" || token.type === "heading_close")
        token.tag = `h${Math.min(6, Number(token.tag.slice(1)) + 2)}`;
  });
  // Emphasis is paired after parsing, past markdown-it's own nesting limit: 5,000 asterisks on each
  // side of a word make 2,500 nested elements. Elements deeper than the limit (counting the blocks
  // around them) are written as the characters that made them.
  md.core.ruler.push("bound_inline_nesting", (state) => {
    for (const block of state.tokens) {
      if (block.type !== "inline" || !block.children) continue;
      const room = Math.max(0, MAX_NESTING - block.level);
      const open: boolean[] = [];
      for (const token of block.children) {
        if (token.nesting === 1) {
          const flattened = open.filter((kept) => kept).length >= room;
          open.push(!flattened);
          if (flattened) flatten(token);
        } else if (token.nesting === -1) {
          if (open.pop() === false) flatten(token);
        }
      }
    }
  });
  // Column alignment as a class: markdown-it writes it as a style attribute, which the site's
  // Content-Security-Policy refuses.
  md.core.ruler.push("align_class", (state) => {
    for (const token of state.tokens) {
      if (token.type !== "th_open" && token.type !== "td_open") continue;
      const align = /^text-align:(left|center|right)$/.exec(String(token.attrGet("style") ?? ""))?.[1];
      if (!token.attrs) continue;
      token.attrs = token.attrs.filter(([name]) => name !== "style");
      if (align) token.attrJoin("class", `align-${align}`);
    }
  });
  return md;
}

const md = renderer();

/** What one text may make the renderer produce. */
export const MARKDOWN_LIMITS = {
  /** Cells in all the text's tables together (a header row of 32 columns, 31 rows, is 1024). */
  tableCells: 1000,
  /** Elements inside elements (quotes in lists in quotes...): deeper text stays plain. */
  nesting: MAX_NESTING,
  /** Characters of HTML one text may render to. */
  outputChars: 200_000,
} as const;

/** The renderer's answer for a text: its HTML, or why it cannot be shown. */
export type Rendering = { ok: true; html: RenderedHtml } | { ok: false; problem: string };

const TABLE_PROBLEM = `Tables may have at most ${MARKDOWN_LIMITS.tableCells} cells in all: make them smaller or split the text.`;
const OUTPUT_PROBLEM =
  "This text would make a page too large to show: shorten it, or use fewer links and tables.";

/** A line without the quote markers and indentation a table inside a quote or list sits behind. */
function unquoted(line: string): string {
  return line.replace(/^[\s>]*/, "");
}

/** A table's delimiter row (`| --- | :-: |`): its number of columns, or 0. */
function delimiterColumns(line: string): number {
  if (!line.includes("-")) return 0;
  const cells = unquoted(line).trim().replace(/^\|/, "").replace(/\|$/, "").split("|");
  return cells.every((cell) => /^\s*:?-+:?\s*$/.test(cell)) ? cells.length : 0;
}

/**
 * An upper bound, read from the text without parsing it, of the table cells it makes: for each
 * delimiter row under a line with a pipe (outside code fences), its columns times the lines that
 * follow it up to the next blank line (every such line becomes a row, padded to the header's
 * width, however few pipes it holds).
 */
export function tableCellBound(text: string): number {
  const lines = text.split("\n");
  let cells = 0;
  let fenced = false;
  for (let i = 0; i < lines.length; i++) {
    const line = unquoted(lines[i]!);
    if (/^(```|~~~)/.test(line)) fenced = !fenced;
    if (fenced || i === 0 || !lines[i - 1]!.includes("|")) continue;
    const columns = delimiterColumns(lines[i]!);
    if (columns === 0) continue;
    let rows = 1;
    let j = i + 1;
    while (j < lines.length && unquoted(lines[j]!).trim() !== "") {
      rows++;
      j++;
    }
    cells += columns * rows;
    i = j;
  }
  return cells;
}

/**
 * Markdown as the HTML the site shows, within MARKDOWN_LIMITS: a text whose tables would hold too
 * many cells is refused (by a bound read from the text before parsing, then by counting the cells
 * parsed), nesting past the limit stays plain text, and HTML past the size limit is refused.
 */
export function renderBounded(text: string): Rendering {
  // Refused before parsing: for a table bomb the parse itself is the cost.
  if (tableCellBound(text) > MARKDOWN_LIMITS.tableCells) return { ok: false, problem: TABLE_PROBLEM };
  const tokens = md.parse(text, {});
  let cells = 0;
  for (const token of tokens) if (token.type === "td_open" || token.type === "th_open") cells++;
  if (cells > MARKDOWN_LIMITS.tableCells) return { ok: false, problem: TABLE_PROBLEM };
  const html = md.renderer.render(tokens, md.options, {});
  if (html.length > MARKDOWN_LIMITS.outputChars) return { ok: false, problem: OUTPUT_PROBLEM };
  return { ok: true, html: html as RenderedHtml };
}

/** Why a text cannot be stored as Markdown (it breaks MARKDOWN_LIMITS), or null. */
export function markdownProblem(text: string): string | null {
  const result = renderBounded(text);
  return result.ok ? null : result.problem;
}

/**
 * Markdown (descriptions, comments, news, messages) as the HTML the site shows: the only producer
 * of RenderedHtml. A text past the limits (one stored before they existed) shows as a notice.
 */
export function renderMarkdown(text: string): RenderedHtml {
  const result = renderBounded(text);
  if (result.ok) return result.html;
  return `<p class="muted">${md.utils.escapeHtml(`This text is not shown: ${result.problem}`)}</p>\n` as RenderedHtml;
}

/** Rendered HTML read back from the database, where the renderer stored it. */
export function storedHtml(html: string): RenderedHtml {
  return html as RenderedHtml;
}

/**
 * One line of Markdown (a field's description, a summary) as inline HTML: no paragraph around it,
 * the same escaping and link rules as renderMarkdown.
 */
export function renderInlineMarkdown(text: string): RenderedHtml {
  return md.renderInline(text) as RenderedHtml;
}

/** A preview of `text`: its rendering (or why it cannot be shown), and whether there was anything. */
export function preview(text: string): { html: RenderedHtml; empty: boolean } {
  const trimmed = text.trim();
  return { html: renderMarkdown(trimmed), empty: trimmed === "" };
}

/** Each running site's counts of previews and edits per member (one set per WebDeps). */
const throttles = new WeakMap<WebDeps, { previews: FixedWindowLimiter; edits: FixedWindowLimiter }>();

function throttlesOf(deps: WebDeps) {
  let found = throttles.get(deps);
  if (!found) {
    found = {
      previews: new FixedWindowLimiter(deps.config.webapi.previewsPerMinute),
      edits: new FixedWindowLimiter(deps.config.webapi.editsPerMinute),
    };
    throttles.set(deps, found);
  }
  return found;
}

function counted(limiter: FixedWindowLimiter, userId: number, what: string, field?: string): Refused | null {
  const decision = limiter.hit(String(userId));
  if (decision.allowed) return null;
  const message = `You are ${what} too fast: at most ${decision.limit} a minute. Try again in ${decision.resetSeconds} s.`;
  return refuse("throttled", message, {
    retryAfterSeconds: decision.resetSeconds,
    ...(field ? { fields: { [field]: message } } : {}),
  });
}

/**
 * Counts one preview for the member: null while within `webapi.previewsPerMinute`, else the
 * refusal (429, with the seconds to wait). Every preview renders, so it is bounded like a post.
 */
export function countPreview(deps: WebDeps, userId: number): Refused | null {
  return counted(throttlesOf(deps).previews, userId, "asking for previews");
}

/**
 * Counts one saved edit (a comment, a description, a news item) for the member: null while within
 * `webapi.editsPerMinute`, else the refusal (429 with the seconds to wait, on `field` of the form).
 */
export function countEdit(deps: WebDeps, userId: number, field: string): Refused | null {
  return counted(throttlesOf(deps).edits, userId, "editing", field);
}
