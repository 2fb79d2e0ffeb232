import "server-only";
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { cookies } from "next/headers";
import { env } from "@/lib/env";
import { getStore } from "@/lib/store";

/**
 * The anonymous owner of a browser's jobs: a random id in a signed, httpOnly cookie.
 * No accounts: whoever holds the cookie owns the jobs made with it.
 */
export const OWNER_COOKIE = "p2v_owner";
const ONE_YEAR = 60 * 60 * 24 * 365;

let secretPromise: Promise<string> | null = null;

function sessionSecret(): Promise<string> {
  const configured = env().SESSION_SECRET;
  if (configured) return Promise.resolve(configured);
  secretPromise ??= getStore()
    .getOrCreateSecret("session", randomBytes(32).toString("base64url"))
    .catch((error: unknown) => {
      secretPromise = null;
      throw error;
    });
  return secretPromise;
}

function sign(ownerId: string, secret: string): string {
  return createHmac("sha256", secret).update(ownerId).digest("base64url");
}

export async function verifyOwnerCookie(value: string | undefined): Promise<string | null> {
  if (!value) return null;
  const [id, mac] = value.split(".");
  if (!id || !mac || !/^[A-Za-z0-9_-]{22}$/.test(id)) return null;
  const expected = Buffer.from(sign(id, await sessionSecret()));
  const given = Buffer.from(mac);
  return expected.length === given.length && timingSafeEqual(expected, given) ? id : null;
}

/** The owner id of this browser, or null when it has none (or a forged one). */
export async function currentOwner(): Promise<string | null> {
  const jar = await cookies();
  return verifyOwnerCookie(jar.get(OWNER_COOKIE)?.value);
}

/** The owner id of this browser, making one when it has none. Only in server actions and route handlers. */
export async function ensureOwner(): Promise<string> {
  const existing = await currentOwner();
  if (existing) return existing;
  const id = randomBytes(16).toString("base64url");
  const jar = await cookies();
  jar.set(OWNER_COOKIE, `${id}.${sign(id, await sessionSecret())}`, {
    httpOnly: true,
    sameSite: "lax",
    secure: env().NODE_ENV === "production" && Boolean(env().APP_URL?.startsWith("https://")),
    path: "/",
    maxAge: ONE_YEAR,
  });
  return id;
}
