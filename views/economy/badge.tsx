/** @jsxImportSource @kitajs/html */

/** What a freeleech badge shows: its words, and when the window behind it ends. */
export interface BadgeView {
  badge: string | null;
  until: Date | null;
}

/** Time left until `until`: "2 d 3 h", "45 min". */
export function remaining(until: Date, now = Date.now()): string {
  const minutes = Math.max(0, Math.ceil((until.getTime() - now) / 60_000));
  const days = Math.floor(minutes / 1440);
  const hours = Math.floor((minutes % 1440) / 60);
  if (days > 0) return `${days} d ${hours} h`;
  if (hours > 0) return `${hours} h ${minutes % 60} min`;
  return `${minutes} min`;
}

/** The freeleech badge, with the time left when a window sets it; nothing when credit is normal. */
export function FactorBadge(props: { state: BadgeView }) {
  const { badge, until } = props.state;
  if (!badge) return "";
  return (
    <span class="badge freeleech" title={until ? `until ${until.toISOString()}` : undefined}>
      <span safe>{badge}</span>
      {until ? <span safe>{` · ${remaining(until)} left`}</span> : ""}
    </span>
  );
}
