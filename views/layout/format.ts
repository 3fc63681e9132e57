/** Bytes in binary units with two decimals: "1.50 GiB", "39.06 KiB", "512 B". */
export function formatSize(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(2)} ${units[unit]}`;
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
