/**
 * Member-written text (Markdown) as HTML that is safe to put in a page: every character that means
 * something in HTML is escaped, blank lines separate paragraphs and single line breaks are kept.
 * No other Markdown is interpreted yet; whatever renders more must keep raw HTML out and links safe.
 */
export function renderMarkdown(text: string): string {
  const paragraphs = text
    .replace(/\r\n?/g, "\n")
    .split(/\n[ \t]*\n+/)
    .map((p) => p.trim())
    .filter((p) => p.length > 0);
  return paragraphs.map((p) => `<p>${escapeHtml(p).replace(/\n/g, "<br>")}</p>`).join("\n");
}

const ENTITIES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/** Text with `& < > " '` written as entities. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ENTITIES[c]!);
}
