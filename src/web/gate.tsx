/** @jsxImportSource @kitajs/html */
import { Elysia } from "elysia";
import { hasSecondFactor } from "../db/queries/two-factor.ts";
import type { Role } from "../db/queries/users.ts";
import { admission, STAFF } from "./access.ts";
import { type PageContext, refusedPage, type Viewer, webContext } from "./context.tsx";
import type { WebDeps } from "./deps.ts";

/** The roles a gate asks for, and where a refused form sends the member after logging in. */
export type RoleGate =
  | Role
  | readonly Role[]
  | { readonly anyOf: Role | readonly Role[]; readonly back: string };

/**
 * A page's answer instead of its handler's: a log-in redirect or a refusal page. Thrown by the
 * gate, answered by the web app's error handler.
 */
export class PageRefusal extends Error {
  override name = "PageRefusal";
  constructor(
    readonly status: number,
    readonly answer: () => Response | JSX.Element,
  ) {
    super("refused");
  }
}

/** Where the log-in page sends a member afterwards: the page itself, or for a form, the page it is on. */
function nextPath(request: Request, base: string, back: string | undefined, params: Record<string, string>) {
  const url = new URL(request.url);
  if (request.method === "GET" || request.method === "HEAD" || back === undefined)
    return `${base}${url.pathname}${url.search}`;
  return base + back.replace(/:(\w+)/g, (_, name: string) => params[name] ?? "");
}

/**
 * The gate of member pages, as route options: `member: true` (or the page a form lives on, e.g.
 * `member: "/account"`) for any logged-in member, `role: "invite"`, `role: STAFF` or
 * `role: { anyOf: ["admin"], back: "/admin/users/:id" }` for those holding a role. Logged-out
 * visitors are sent to log in and back; members without the role get a 403 page. Either way the
 * handler gets `viewer` as present. With `site.requireTwoFactorForStaff`, a gate asking for a
 * staff role sends a member without a second factor to the two-factor page first.
 */
export function pageGate(deps: WebDeps) {
  const check = async (
    ctx: { viewer: Viewer | null; page: PageContext; request: Request; params: Record<string, string> },
    anyOf: readonly Role[],
    back: string | undefined,
  ): Promise<{ viewer: Viewer }> => {
    const { viewer, page, request } = ctx;
    const decision = admission(viewer, anyOf);
    if (decision.ok && viewer) {
      // `site.requireTwoFactorForStaff`: a staff page is first of all a page for enrolling.
      if (
        deps.config.site.requireTwoFactorForStaff &&
        anyOf.some((role) => STAFF.includes(role)) &&
        !(await hasSecondFactor(deps.sql, viewer.id))
      )
        throw new PageRefusal(
          303,
          () =>
            new Response(null, {
              status: 303,
              headers: { location: `${page.base}/account/two-factor?done=required` },
            }),
        );
      return { viewer };
    }
    if (!decision.ok && decision.refusal.code === "forbidden") {
      const { refusal } = decision;
      throw new PageRefusal(403, () => refusedPage(page, { headers: {} }, refusal));
    }
    const next = nextPath(request, page.base, back, ctx.params);
    throw new PageRefusal(
      303,
      () =>
        new Response(null, {
          status: 303,
          headers: { location: `${page.base}/login?next=${encodeURIComponent(next)}` },
        }),
    );
  };
  return new Elysia({ name: "page-gate" }).use(webContext(deps)).macro({
    member: (back: true | string) => ({
      resolve: (ctx) => check(ctx, [], back === true ? undefined : back),
    }),
    role: (gate: RoleGate) => ({
      resolve: (ctx) => {
        const spec = typeof gate === "object" && "anyOf" in gate ? gate : { anyOf: gate, back: undefined };
        const anyOf: readonly Role[] = typeof spec.anyOf === "string" ? [spec.anyOf] : spec.anyOf;
        return check(ctx, anyOf, spec.back);
      },
    }),
  });
}
