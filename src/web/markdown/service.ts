import markdownIt, { type MarkdownIt } from "markdown-it";
import type { RenderedHtml } from "../../../views/markdown/rendered.tsx";

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

function renderer(): MarkdownIt {
  // Raw HTML is escaped, bare addresses become links, a single newline is a line break (as
  // descriptions written before Markdown expect), nesting is kept shallow.
  const md = new markdownIt("default", {
    html: false,
    linkify: true,
    breaks: true,
    typographer: false,
    maxNesting: 20,
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

/** Markdown (descriptions, comments) as the HTML the site shows: the only producer of RenderedHtml. */
export function renderMarkdown(text: string): RenderedHtml {
  return md.render(text) as RenderedHtml;
}

/**
 * One line of Markdown (a field's description, a summary) as inline HTML: no paragraph around it,
 * the same escaping and link rules as renderMarkdown.
 */
export function renderInlineMarkdown(text: string): RenderedHtml {
  return md.renderInline(text) as RenderedHtml;
}

/** A preview of `text`: its rendering, and whether there was anything to render. */
export function preview(text: string): { html: RenderedHtml; empty: boolean } {
  const trimmed = text.trim();
  return { html: renderMarkdown(trimmed), empty: trimmed === "" };
}
