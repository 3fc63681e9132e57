/** Log severities, least to most severe. */
export type LogLevel = "debug" | "info" | "warn" | "error";

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
let threshold = RANK.info;
let component = "main";

/** Sets the least severe level written and the component name stamped on every line. */
export function configureLog(level: LogLevel, name?: string): void {
  threshold = RANK[level];
  if (name) component = name;
}

/** Passkeys, tokens and secrets in URLs or text, replaced before anything is written. */
export function redact(text: string): string {
  return text
    .replace(/\/[0-9a-f]{32}\/(announce|scrape)/gi, "/<passkey>/$1")
    .replace(/\/(rss|register|invites)\/[A-Za-z0-9_-]{16,}/g, "/$1/<secret>")
    .replace(/(passkey|token|secret|key|password)=[^&\s"]+/gi, "$1=<redacted>");
}

function write(level: LogLevel, msg: string, fields?: Record<string, unknown>): void {
  if (RANK[level] < threshold) return;
  const line: Record<string, unknown> = {
    time: new Date().toISOString(),
    level,
    component,
    msg: redact(msg),
  };
  if (fields) {
    for (const [k, v] of Object.entries(fields)) {
      line[k] = v instanceof Error ? redact(v.message) : typeof v === "string" ? redact(v) : v;
    }
  }
  const text = `${JSON.stringify(line)}\n`;
  if (RANK[level] >= RANK.warn) process.stderr.write(text);
  else process.stdout.write(text);
}

/** Structured JSON lines on stdout (debug, info) and stderr (warn, error). */
export const log = {
  debug: (msg: string, fields?: Record<string, unknown>) => write("debug", msg, fields),
  info: (msg: string, fields?: Record<string, unknown>) => write("info", msg, fields),
  warn: (msg: string, fields?: Record<string, unknown>) => write("warn", msg, fields),
  error: (msg: string, fields?: Record<string, unknown>) => write("error", msg, fields),
};
