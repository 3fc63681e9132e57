/** @jsxImportSource @kitajs/html */
import { FieldError } from "../layout/layout.tsx";

/**
 * HTML made by the site's Markdown renderer (raw HTML escaped, links checked). Only the renderer
 * gives out values of this type; every other string a view shows is escaped.
 */
export type RenderedHtml = string & { readonly __rendered: unique symbol };

/**
 * Rendered Markdown in the page. The one component that writes HTML unescaped: its input can only
 * come from the renderer (see RenderedHtml), which escapes every HTML character the text holds
 * and lets through only the tags it writes itself.
 */
export function Rendered(props: { html: RenderedHtml; id?: string; class?: string }) {
  const safeRendered: string = props.html;
  return (
    <div class={props.class ? `prose ${props.class}` : "prose"} id={props.id}>
      {safeRendered}
    </div>
  );
}

/** Rendered inline Markdown (see renderInlineMarkdown) inside a span. */
export function RenderedInline(props: { html: RenderedHtml; class?: string }) {
  const safeRendered: string = props.html;
  return <span class={props.class}>{safeRendered}</span>;
}

/** The live preview's content: the rendered text, or a word that there is nothing yet. */
export function PreviewBody(props: { html: RenderedHtml; empty: boolean }) {
  return props.empty ? <p class="muted">Nothing to preview yet.</p> : <Rendered html={props.html} />;
}

/** The preview's content when the preview was refused (asked for too often): why, and when to retry. */
export function PreviewRefused(props: { message: string }) {
  // Sent with a 429, which htmx does not swap in: the site's script shows this message on the form.
  return (
    <main>
      <p class="notice bad" role="alert" safe>
        {props.message}
      </p>
    </main>
  );
}

/**
 * A Markdown text field with a live preview under it: htmx posts the text (alone, as a plain form)
 * to the preview address a moment after typing stops and shows the answer below.
 */
export function MarkdownField(props: {
  base: string;
  label: string;
  name: string;
  value: string;
  maxLength: number;
  required?: boolean;
  /** The preview of `value`, shown before any typing (the edit forms). */
  preview?: { html: RenderedHtml; empty: boolean };
  errors?: Record<string, string>;
  rows?: number;
}) {
  const previewId = `${props.name}-preview`;
  return (
    <div class="markdown-field">
      <label>
        <span safe>{props.label}</span>
        <textarea
          name={props.name}
          maxlength={String(props.maxLength)}
          required={props.required}
          rows={props.rows ? String(props.rows) : undefined}
          hx-post={`${props.base}/preview`}
          hx-trigger="input changed delay:400ms"
          hx-target={`#${previewId}`}
          hx-swap="innerHTML"
          hx-params={props.name}
          hx-encoding="application/x-www-form-urlencoded"
          hx-sync="this:replace"
          aria-describedby={`${props.name}-help`}
          safe
        >
          {props.value}
        </textarea>
        <span class="muted" id={`${props.name}-help`}>
          Markdown: **bold**, *italic*, [links](https://example.org), lists, `code`, &gt; quotes. No HTML or
          images.
        </span>
        <FieldError errors={props.errors} name={props.name} />
      </label>
      <details class="preview" open>
        <summary>Preview</summary>
        <div id={previewId} aria-live="polite">
          {props.preview ? <PreviewBody html={props.preview.html} empty={props.preview.empty} /> : ""}
        </div>
      </details>
    </div>
  );
}
