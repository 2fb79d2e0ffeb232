import { createHmac } from "node:crypto";

/**
 * The owner cookie's format: `<owner id>.<HMAC-SHA256 of the id, base64url>`. A leaf, so the
 * benchmark and the tests sign cookies with the app's own rule (lib/auth/owner.ts uses it).
 */
export const OWNER_COOKIE = "p2v_owner";

/** 16 random bytes, base64url. */
export const OWNER_ID_PATTERN = /^[A-Za-z0-9_-]{22}$/;

export function signOwnerId(ownerId: string, secret: string): string {
  return createHmac("sha256", secret).update(ownerId).digest("base64url");
}
