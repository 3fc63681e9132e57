import nodemailer from "nodemailer";
import type { Config } from "../../config.ts";

/** One plain-text message to send. */
export interface Mail {
  to: string;
  subject: string;
  text: string;
}

/** Whether the site has an SMTP server to send mail through (`mail.host`). */
export function mailConfigured(config: Config): boolean {
  return config.mail.host !== "";
}

/** The sender of the site's mail: `mail.from`, else `mail.user`, else `noreply@<mail.host>`. */
export function mailSender(config: Config): string {
  if (config.mail.from) return config.mail.from;
  if (config.mail.user.includes("@")) return config.mail.user;
  return `noreply@${config.mail.host}`;
}

/** Sends one message through the configured SMTP server; throws when the server refuses it. */
export async function sendMail(config: Config, mail: Mail): Promise<void> {
  const transport = nodemailer.createTransport({
    host: config.mail.host,
    port: config.mail.port,
    secure: config.mail.secure,
    auth: config.mail.user ? { user: config.mail.user, pass: config.mail.password } : undefined,
    connectionTimeout: 15_000,
    greetingTimeout: 15_000,
    socketTimeout: 30_000,
  });
  try {
    await transport.sendMail({
      from: mailSender(config),
      to: mail.to,
      subject: mail.subject,
      text: mail.text,
    });
  } finally {
    transport.close();
  }
}
