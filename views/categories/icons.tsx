/** @jsxImportSource @kitajs/html */

// The site's own category icons: line drawings on a 24×24 grid, stroked in the text colour, so
// they follow the page's colours and need no file or other host. The names a category may take are
// the service's (src/web/categories/icons.ts); test/web/catalogue.test.ts keeps the two lists equal.
const DRAWINGS: Readonly<Record<string, () => JSX.Element>> = {
  film: () => (
    <>
      <rect x="3" y="4" width="18" height="16" rx="2" />
      <path d="M7 4v16M17 4v16M3 8h4M3 12h4M3 16h4M17 8h4M17 12h4M17 16h4" />
    </>
  ),
  tv: () => (
    <>
      <rect x="3" y="6" width="18" height="12" rx="2" />
      <path d="M8 21h8M12 18v3M8 2l4 4 4-4" />
    </>
  ),
  music: () => (
    <>
      <path d="M9 18V5l11-2v13" />
      <circle cx="6" cy="18" r="3" />
      <circle cx="17" cy="16" r="3" />
    </>
  ),
  microphone: () => (
    <>
      <rect x="9" y="3" width="6" height="11" rx="3" />
      <path d="M5 11a7 7 0 0 0 14 0M12 18v3M8 21h8" />
    </>
  ),
  game: () => (
    <>
      <rect x="2" y="7" width="20" height="11" rx="5" />
      <path d="M7 10v5M4.5 12.5h5" />
      <circle cx="15.5" cy="11.5" r="1" />
      <circle cx="18" cy="14" r="1" />
    </>
  ),
  software: () => (
    <>
      <rect x="3" y="4" width="18" height="16" rx="2" />
      <path d="M3 8h18M9 12l-2 2 2 2M15 12l2 2-2 2" />
    </>
  ),
  terminal: () => (
    <>
      <rect x="3" y="4" width="18" height="16" rx="2" />
      <path d="M7 9l3 3-3 3M12 15h5" />
    </>
  ),
  disc: () => (
    <>
      <circle cx="12" cy="12" r="9" />
      <circle cx="12" cy="12" r="2.5" />
      <path d="M12 5.5a6.5 6.5 0 0 1 6.5 6.5" />
    </>
  ),
  book: () => <path d="M12 6C10 4.5 7 4 4 4v14c3 0 6 .5 8 2 2-1.5 5-2 8-2V4c-3 0-6 .5-8 2zM12 6v14" />,
  education: () => <path d="M2 9l10-5 10 5-10 5zM6 11v5c3 2 9 2 12 0v-5M22 9v6" />,
  image: () => (
    <>
      <rect x="3" y="4" width="18" height="16" rx="2" />
      <circle cx="8.5" cy="9" r="1.5" />
      <path d="M21 16l-5-5-9 9" />
    </>
  ),
  archive: () => (
    <>
      <rect x="3" y="4" width="18" height="5" rx="1" />
      <path d="M5 9v10a1 1 0 0 0 1 1h12a1 1 0 0 0 1-1V9M10 13h4" />
    </>
  ),
  globe: () => (
    <>
      <circle cx="12" cy="12" r="9" />
      <path d="M3 12h18M12 3c3 3 3 15 0 18M12 3c-3 3-3 15 0 18" />
    </>
  ),
  star: () => <path d="M12 3l2.8 5.7 6.2.9-4.5 4.4 1 6.2-5.5-2.9-5.5 2.9 1-6.2L3 9.6l6.2-.9z" />,
  folder: () => <path d="M3 6a1 1 0 0 1 1-1h5l2 2h9a1 1 0 0 1 1 1v10a1 1 0 0 1-1 1H4a1 1 0 0 1-1-1z" />,
};

/** The names of the icons drawn here. */
export const DRAWN_ICONS: readonly string[] = Object.keys(DRAWINGS);

/**
 * A category icon, drawn inline at the size of the text around it. Decorative (hidden from screen
 * readers) unless `label` is given; an unknown name draws the folder.
 */
export function CategoryIcon(props: { name: string; label?: string }) {
  const draw = Object.hasOwn(DRAWINGS, props.name) ? DRAWINGS[props.name]! : DRAWINGS.folder!;
  return (
    <svg
      class="icon"
      viewBox="0 0 24 24"
      width="20"
      height="20"
      fill="none"
      stroke="currentColor"
      stroke-width="2"
      stroke-linecap="round"
      stroke-linejoin="round"
      role={props.label ? "img" : undefined}
      aria-label={props.label}
      aria-hidden={props.label ? undefined : "true"}
      focusable="false"
    >
      {draw()}
    </svg>
  );
}
