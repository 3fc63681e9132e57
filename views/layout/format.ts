/**
 * Bytes in binary units with two decimals: "1.50 GiB", "39.06 KiB", "512 B". A byte total above
 * 2^53 comes as a BigInt; three or four significant digits are all this shows of it (formatBytes
 * gives every digit).
 */
export function formatSize(bytes: number | bigint): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
  let value = Number(bytes);
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

/** Every byte, grouped by thousands: "1,152,921,504,606,846,976 bytes" (exact for a BigInt too). */
export function formatBytes(bytes: number | bigint): string {
  return `${BigInt(bytes).toLocaleString("en-US")} bytes`;
}

/** Upload/download ratio: "∞" with nothing downloaded but something uploaded, "—" with neither. */
export function formatRatio(uploaded: number | bigint, downloaded: number | bigint): string {
  const up = Number(uploaded);
  const down = Number(downloaded);
  if (down === 0) return up > 0 ? "∞" : "—";
  return (up / down).toFixed(2);
}
