import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  randomBytes,
  timingSafeEqual,
} from "node:crypto";
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

/**
 * Encrypts and authenticates `text` (AES-256-GCM) with a key derived from `secret` for `purpose`:
 * 12 bytes of nonce, the ciphertext, 16 bytes of tag. Only a holder of the same secret can open it.
 */
export function seal(text: string, secret: string, purpose: string): Buffer {
  const key = createHmac("sha256", secret).update(purpose).digest();
  const nonce = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", key, nonce);
  const body = Buffer.concat([cipher.update(text, "utf8"), cipher.final()]);
  return Buffer.concat([nonce, body, cipher.getAuthTag()]);
}

/** Opens what `seal` made with the same secret and purpose; null when it was made otherwise or altered. */
export function unseal(sealed: Uint8Array, secret: string, purpose: string): string | null {
  if (sealed.length < 28) return null;
  const bytes = Buffer.from(sealed);
  const key = createHmac("sha256", secret).update(purpose).digest();
  try {
    const decipher = createDecipheriv("aes-256-gcm", key, bytes.subarray(0, 12));
    decipher.setAuthTag(bytes.subarray(bytes.length - 16));
    return Buffer.concat([decipher.update(bytes.subarray(12, bytes.length - 16)), decipher.final()]).toString(
      "utf8",
    );
  } catch {
    return null;
  }
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
