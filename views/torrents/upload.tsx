/** @jsxImportSource @kitajs/html */
import { Csrf, FieldError, Layout } from "../layout/layout.tsx";
import type { PageContext } from "../layout/page.ts";
import { MarkdownField } from "../markdown/rendered.tsx";
import type { CategoryChoice } from "./list.tsx";
import { CategorySelect, TagsInput, type TorrentTextLimits } from "./torrent.tsx";

/** What the upload form shows back after a failed try. */
export interface UploadState {
  title?: string;
  description?: string;
  categoryId?: number | null;
  tags?: string;
  errors?: Record<string, string>;
  /** Link to the torrent that is already registered, for a duplicate. */
  duplicateOf?: number;
}

/** The form itself: htmx posts it with a progress bar and swaps in the result. */
export function UploadForm(props: {
  page: PageContext;
  state: UploadState;
  maxBytes: number;
  limits: TorrentTextLimits;
  categories: readonly CategoryChoice[];
}) {
  const { base } = props.page;
  const s = props.state;
  return (
    <form
      id="upload"
      class="stack card"
      method="post"
      action={`${base}/upload`}
      enctype="multipart/form-data"
      hx-post={`${base}/upload`}
      hx-encoding="multipart/form-data"
      hx-target="#upload"
      hx-swap="outerHTML"
    >
      <Csrf page={props.page} />
      {s.errors?.form ? (
        <div class="notice bad" role="alert">
          <span safe>{s.errors.form}</span>
          {s.duplicateOf ? (
            <>
              {" "}
              <a href={`${base}/torrents/${String(s.duplicateOf)}`}>See the torrent already here.</a>
            </>
          ) : (
            ""
          )}
        </div>
      ) : (
        ""
      )}
      <label>
        .torrent file
        <input type="file" name="file" accept=".torrent,application/x-bittorrent" required />
        <span class="muted">At most {Math.floor(props.maxBytes / 1024)} KiB.</span>
        <FieldError errors={s.errors} name="file" />
      </label>
      <label>
        Title
        <input
          type="text"
          name="title"
          value={s.title ?? ""}
          maxlength={String(props.limits.titleMax)}
          placeholder="When empty: the torrent's name, without a file's extension"
        />
        <FieldError errors={s.errors} name="title" />
      </label>
      {props.categories.length === 0 ? (
        <p class="help" id="no-categories">
          This site has no categories yet, so an upload needs none.{" "}
          {props.page.viewer?.can("admin") ? (
            <a href={`${base}/admin/categories`}>Add categories</a>
          ) : (
            "Once an administrator adds them, every upload chooses one."
          )}
        </p>
      ) : (
        <CategorySelect categories={props.categories} chosen={s.categoryId} errors={s.errors} />
      )}
      <TagsInput value={s.tags ?? ""} limits={props.limits} errors={s.errors} />
      <MarkdownField
        base={base}
        label="Description"
        name="description"
        value={s.description ?? ""}
        maxLength={props.limits.descriptionMax}
        errors={s.errors}
        rows={8}
      />
      <progress max="100" value="0" aria-label="Upload progress" data-upload-progress></progress>
      <button type="submit">Upload</button>
    </form>
  );
}

/** The upload page. */
export function UploadPage(props: {
  page: PageContext;
  state: UploadState;
  maxBytes: number;
  limits: TorrentTextLimits;
  categories: readonly CategoryChoice[];
}) {
  return (
    <Layout page={props.page} title="Upload">
      <h1>Upload a torrent</h1>
      <p class="muted">
        The site makes the torrent private and tags it with its own source; if that changes the info hash,
        download the site's copy before you start seeding.
      </p>
      <UploadForm
        page={props.page}
        state={props.state}
        maxBytes={props.maxBytes}
        limits={props.limits}
        categories={props.categories}
      />
    </Layout>
  );
}
