/** @jsxImportSource @kitajs/html */

/**
 * A release name that may break after its dots, hyphens, underscores and slashes (and at spaces),
 * never inside a word: "Movie.2026.1080p.x264-GRP" wraps as "Movie.2026.1080p." / "x264-GRP".
 * Each piece is escaped.
 */
export function BreakableTitle(props: { text: string }) {
  const pieces = props.text.split(/(?<=[._\-/])(?=[^._\-/])/);
  return (
    <>
      {pieces.map((piece, i) => (
        <>
          {i > 0 ? <wbr /> : ""}
          <span safe>{piece}</span>
        </>
      ))}
    </>
  );
}
