/** @jsxImportSource @kitajs/html */

/** A date and time as UTC text, "2025-01-31 14:05 UTC" (or the day alone), in a <time> element. */
export function DateTime(props: { date: Date; day?: boolean }) {
  const iso = props.date.toISOString();
  const text = props.day ? iso.slice(0, 10) : `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
  return (
    <time datetime={iso} title={iso} safe>
      {text}
    </time>
  );
}
