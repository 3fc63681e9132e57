/** @jsxImportSource @kitajs/html */
import { DateTime } from "../layout/date-time.tsx";
import { Csrf, Layout } from "../layout/layout.tsx";
import type { PageContext } from "../layout/page.ts";

/** A member in the tree, with those they invited. */
export interface TreeNodeView {
  id: number;
  name: string;
  disabled: boolean;
  createdAt: Date;
  openInvites: number;
  canInvite: boolean;
  invitees: readonly TreeNodeView[];
}

function Node(props: { page: PageContext; node: TreeNodeView }): JSX.Element {
  const { base } = props.page;
  const n = props.node;
  return (
    <li>
      <a href={`${base}/admin/users/${String(n.id)}`} class={n.disabled ? "member disabled" : "member"} safe>
        {n.name}
      </a>{" "}
      <span class="muted">
        joined <DateTime date={n.createdAt} day />
        {n.disabled ? " · disabled" : ""}
        {n.invitees.length ? ` · invited ${n.invitees.length}` : ""}
        {n.openInvites ? ` · ${n.openInvites} open invite${n.openInvites === 1 ? "" : "s"}` : ""}
        {n.openInvites && (n.disabled || !n.canInvite) ? " (not usable)" : ""}
      </span>
      {n.openInvites ? (
        <form class="inline" method="post" action={`${base}/staff/invites/${String(n.id)}/revoke`}>
          <Csrf page={props.page} />
          <button type="submit" class="secondary small">
            Revoke open invites
          </button>
        </form>
      ) : (
        ""
      )}
      {n.invitees.length ? (
        <ul>
          {n.invitees.map((child) => (
            <Node page={props.page} node={child} />
          ))}
        </ul>
      ) : (
        ""
      )}
    </li>
  );
}

/** The staff's invite tree: who invited whom, from the members nobody invited. */
export function InviteTreePage(props: {
  page: PageContext;
  roots: readonly TreeNodeView[];
  members: number;
  max: number;
  done?: string;
}) {
  return (
    <Layout page={props.page} title="Invite tree">
      <h1>Invite tree</h1>
      {props.done ? (
        <div class="notice good" role="status" safe>
          {props.done}
        </div>
      ) : (
        ""
      )}
      <p class="muted">
        Who invited whom. Invites of a disabled member, or of one without the invite role, cannot be used.
        {props.members >= props.max ? ` Only the first ${props.max} members are shown.` : ""}
      </p>
      <ul class="tree" id="invite-tree">
        {props.roots.map((node) => (
          <Node page={props.page} node={node} />
        ))}
      </ul>
    </Layout>
  );
}
