/** Bytes in binary units: "1.5 GiB". */
export function formatSize(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(value < 10 ? 2 : value < 100 ? 1 : 0)} ${units[unit]}`;
}

/** How long ago: "just now", "5 minutes ago", "3 days ago". */
export function formatAge(date: Date, now = Date.now()): string {
  const seconds = Math.max(0, Math.round((now - date.getTime()) / 1000));
  const steps: [number, string][] = [
    [60, "second"],
    [60, "minute"],
    [24, "hour"],
    [30, "day"],
    [12, "month"],
    [Number.POSITIVE_INFINITY, "year"],
  ];
  if (seconds < 10) return "just now";
  let value = seconds;
  for (const [size, name] of steps) {
    if (value < size) return `${value} ${name}${value === 1 ? "" : "s"} ago`;
    value = Math.floor(value / size);
  }
  return date.toISOString();
}

/** Upload/download ratio: "∞" with nothing downloaded but something uploaded, "—" with neither. */
export function formatRatio(uploaded: number, downloaded: number): string {
  if (downloaded === 0) return uploaded > 0 ? "∞" : "—";
  return (uploaded / downloaded).toFixed(2);
}
