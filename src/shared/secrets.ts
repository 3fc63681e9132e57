import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** A new passkey: 16 random bytes as 32 lowercase hex characters. */
export function newPasskey(): string {
  return randomBytes(16).toString("hex");
}

/** A new bearer secret (session, invite, API token): 32 random bytes, URL-safe. */
export function newSecret(): string {
  return randomBytes(32).toString("base64url");
}

/** SHA-256 of a secret, the only form in which checked-only secrets are stored. */
export function hashSecret(secret: string): Buffer {
  return createHash("sha256").update(secret).digest();
}

/** Compares two strings in time that depends only on their lengths. */
export function constantTimeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The pepper mixed into passwords: the configured salt, or one generated once into the data folder. */
export function resolvePepper(configured: string, dataDir: string): string {
  if (configured) return configured;
  const path = join(dataDir, "salt");
  if (existsSync(path)) return readFileSync(path, "utf8").trim();
  mkdirSync(dataDir, { recursive: true });
  const generated = randomBytes(32).toString("hex");
  writeFileSync(path, `${generated}\n`, { mode: 0o600, flag: "wx" });
  chmodSync(path, 0o600);
  return generated;
}

// The pepper is applied with HMAC before argon2id, so it never reaches the stored hash and a
// stolen database alone does not allow offline guessing.
function pepper(password: string, key: string): string {
  return createHmac("sha256", key).update(password).digest("base64");
}

/** An argon2id hash of the peppered password. */
export function hashPassword(password: string, pepperKey: string): Promise<string> {
  return Bun.password.hash(pepper(password, pepperKey), { algorithm: "argon2id" });
}

/** Checks a password against a stored hash; false (not an error) for a malformed hash. */
export async function verifyPassword(password: string, hash: string, pepperKey: string): Promise<boolean> {
  try {
    return await Bun.password.verify(pepper(password, pepperKey), hash);
  } catch {
    return false;
  }
}
