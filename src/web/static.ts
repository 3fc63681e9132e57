import { Elysia } from "elysia";
import icon from "../../public/icon.svg" with { type: "text" };
import live from "../../public/live.js" with { type: "text" };
import passkeys from "../../public/passkeys.js" with { type: "text" };
import site from "../../public/site.js" with { type: "text" };
import style from "../../public/style.css" with { type: "text" };
// Embedded as text: the compiled binary serves them with nothing beside it.
import htmx from "../../public/vendor/htmx-2.0.11.min.js" with { type: "text" };
import webauthn from "../../public/vendor/simplewebauthn-browser-14.0.0.umd.min.js" with { type: "text" };

const FILES: Record<string, { body: string; type: string }> = {
  "style.css": { body: style, type: "text/css; charset=utf-8" },
  "htmx.min.js": { body: htmx, type: "text/javascript; charset=utf-8" },
  "live.js": { body: live, type: "text/javascript; charset=utf-8" },
  "site.js": { body: site, type: "text/javascript; charset=utf-8" },
  "passkeys.js": { body: passkeys, type: "text/javascript; charset=utf-8" },
  "simplewebauthn-browser.js": { body: webauthn, type: "text/javascript; charset=utf-8" },
  "icon.svg": { body: icon, type: "image/svg+xml" },
};

function serve(file: { body: string; type: string }): Response {
  return new Response(file.body, {
    headers: { "content-type": file.type, "cache-control": "public, max-age=86400" },
  });
}

/**
 * The stylesheet, scripts and site icon, from memory, cached by browsers for a day. Browsers ask
 * for /favicon.ico on their own, whatever the page links: they get the SVG icon there too.
 */
export function staticRoutes() {
  return new Elysia({ name: "static" })
    .get("/static/:file", ({ params, set }) => {
      const file = FILES[params.file];
      if (!file) {
        set.status = 404;
        return "not found";
      }
      return serve(file);
    })
    .get("/favicon.ico", () => serve(FILES["icon.svg"]!));
}
