/** Roles a member may hold, as the views name them. */
export type RoleName = "upload" | "invite" | "moderate" | "admin";

/** The logged-in member as every page's frame needs them. */
export interface PageViewer {
  readonly id: number;
  readonly name: string;
  /** Token for forms and htmx requests, tied to the session. */
  readonly csrf: string;
  /** Private messages not read yet, shown beside "Messages" in the header. */
  readonly unreadMessages: number;
  /** Staff conversations waiting for a staff member (staff only). */
  readonly staffUnread: number;
  can(role: RoleName): boolean;
}

/** Per-request facts every page needs, filled in by the routes. */
export interface PageContext {
  /** Path prefix added by a reverse proxy ("" or e.g. "/tracker"); every link starts with it. */
  readonly base: string;
  readonly viewer: PageViewer | null;
  readonly siteName: string;
}

/** Seeders, leechers and snatches of one torrent, as a page shows them. */
export interface CountsView {
  readonly seeders: number;
  readonly leechers: number;
  readonly snatches: number;
}
