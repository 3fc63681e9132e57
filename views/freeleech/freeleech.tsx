/** @jsxImportSource @kitajs/html */
import { remaining } from "../economy/badge.tsx";
import { Csrf, FieldError, Layout } from "../layout/layout.tsx";
import type { PageContext } from "../layout/page.ts";

/** A site-wide window as the admin page lists it. */
export interface WindowView {
  id: number;
  startsAt: Date;
  endsAt: Date;
  downloadFactor: number;
  uploadFactor: number;
  note: string;
  createdBy: string | null;
}

function when(d: Date): string {
  return `${d.toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

/** The admins' page of site-wide windows: the ones to come and running, a form to add one. */
export function FreeleechPage(props: {
  page: PageContext;
  windows: readonly WindowView[];
  errors?: Record<string, string>;
  values?: Record<string, string>;
  now?: Date;
}) {
  const { base } = props.page;
  const now = props.now ?? new Date();
  const v = props.values ?? {};
  return (
    <Layout page={props.page} title="Freeleech windows">
      <h1>Freeleech windows</h1>
      <p>
        From its start to its end a window gives every torrent its factors where they are more generous than
        the torrent's own. Times are UTC.
      </p>
      {props.windows.length === 0 ? (
        <p class="muted">No window is running or planned.</p>
      ) : (
        <table class="list">
          <thead>
            <tr>
              <th>Start</th>
              <th>End</th>
              <th class="num">Download ×</th>
              <th class="num">Upload ×</th>
              <th>Note</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {props.windows.map((w) => (
              <tr>
                <td safe>{when(w.startsAt)}</td>
                <td>
                  <span safe>{when(w.endsAt)}</span>
                  {w.startsAt <= now && w.endsAt > now ? (
                    <span
                      class="badge freeleech"
                      safe
                    >{`running, ${remaining(w.endsAt, now.getTime())} left`}</span>
                  ) : (
                    ""
                  )}
                </td>
                <td class="num" safe>
                  {String(w.downloadFactor)}
                </td>
                <td class="num" safe>
                  {String(w.uploadFactor)}
                </td>
                <td safe>{w.note}</td>
                <td>
                  <form class="inline" method="post" action={`${base}/admin/freeleech/${w.id}/delete`}>
                    <Csrf page={props.page} />
                    <button type="submit">Remove</button>
                  </form>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h2>Add a window</h2>
      <form class="stack card" method="post" action={`${base}/admin/freeleech`}>
        <Csrf page={props.page} />
        <label>
          Start (UTC) <input type="datetime-local" name="starts_at" required value={v.starts_at ?? ""} />
        </label>
        <FieldError errors={props.errors} name="starts_at" />
        <label>
          End (UTC) <input type="datetime-local" name="ends_at" required value={v.ends_at ?? ""} />
        </label>
        <FieldError errors={props.errors} name="ends_at" />
        <label>
          Download factor{" "}
          <input type="text" name="download_factor" inputmode="decimal" value={v.download_factor ?? "0"} />
        </label>
        <FieldError errors={props.errors} name="download_factor" />
        <label>
          Upload factor{" "}
          <input type="text" name="upload_factor" inputmode="decimal" value={v.upload_factor ?? "1"} />
        </label>
        <FieldError errors={props.errors} name="upload_factor" />
        <label>
          Note <input type="text" name="note" maxlength="200" value={v.note ?? ""} />
        </label>
        <FieldError errors={props.errors} name="note" />
        <button type="submit">Add</button>
      </form>
    </Layout>
  );
}
