import { existsSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./ports.ts";

/** The system Python with python3-aiosmtpd (the Debian package), or null when it is missing. */
export const SMTP_PYTHON = (() => {
  const python = "/usr/bin/python3";
  if (!existsSync(python)) return null;
  const check = Bun.spawnSync([python, "-c", "import aiosmtpd"]);
  return check.exitCode === 0 ? python : null;
})();

/** A real SMTP server (aiosmtpd) on loopback that keeps every message it receives. */
export async function startMailSink(): Promise<{
  port: number;
  /** The messages received so far, oldest first, as raw text. */
  messages(): string[];
  /** Waits until `count` messages have arrived (or fails after `timeoutMs`). */
  waitFor(count: number, timeoutMs?: number): Promise<string[]>;
  stop(): Promise<void>;
}> {
  const folder = mkdtempSync(join(tmpdir(), "fw-mail-"));
  const port = await freePort();
  const proc = Bun.spawn([SMTP_PYTHON!, join(import.meta.dir, "mail-sink.py"), folder, String(port)], {
    stdout: "pipe",
    stderr: "inherit",
  });
  const reader = proc.stdout.getReader();
  const { value } = await reader.read();
  if (!new TextDecoder().decode(value).startsWith("ready")) throw new Error("the mail sink did not start");
  const messages = () =>
    readdirSync(folder)
      .filter((f) => f.endsWith(".eml"))
      .sort()
      .map((f) => readFileSync(join(folder, f), "utf8"));
  return {
    port,
    messages,
    async waitFor(count, timeoutMs = 20_000) {
      const until = Date.now() + timeoutMs;
      while (messages().length < count) {
        if (Date.now() > until) throw new Error(`${messages().length} of ${count} messages arrived`);
        await Bun.sleep(50);
      }
      return messages();
    },
    async stop() {
      proc.kill();
      await proc.exited;
    },
  };
}

/** The text of a plain-text message with quoted-printable soft line breaks and escapes undone. */
export function mailText(raw: string): string {
  const body = raw.slice(raw.indexOf("\r\n\r\n") + 4);
  if (!/content-transfer-encoding:\s*quoted-printable/i.test(raw)) return body;
  return body
    .replace(/=\r?\n/g, "")
    .replace(/=([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
}
