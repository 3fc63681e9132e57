/** @jsxImportSource @kitajs/html */

/** The address of a member's public profile. */
export function profilePath(base: string, name: string): string {
  return `${base}/users/${encodeURIComponent(name)}`;
}

/** A member's name linking to their profile, or "—" when there is none (a deleted account). */
export function MemberLink(props: { base: string; name: string | null }) {
  if (props.name === null) return <>—</>;
  return (
    <a class="member" href={profilePath(props.base, props.name)} safe>
      {props.name}
    </a>
  );
}
