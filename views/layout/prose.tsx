/** @jsxImportSource @kitajs/html */

/**
 * Member-written text rendered from Markdown on the server. `html` must come from the site's
 * Markdown renderer, which escapes what members typed: nothing else may be passed here.
 */
export function Prose(props: { html: string }) {
  const safeRendered = props.html;
  return <div class="prose">{safeRendered}</div>;
}
