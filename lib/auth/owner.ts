import "server-only";
import { randomBytes, timingSafeEqual } from "node:crypto";
import { cookies } from "next/headers";
import { OWNER_COOKIE, OWNER_ID_PATTERN, signOwnerId } from "@/lib/auth/owner-cookie";
import { env } from "@/lib/env";
import { getStore } from "@/lib/store";

/**
 * The anonymous owner of a browser's jobs: a random id in a signed, httpOnly cookie.
 * No accounts: whoever holds the cookie owns the jobs made with it.
 */
export { OWNER_COOKIE };
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

const sign = signOwnerId;

export async function verifyOwnerCookie(value: string | undefined): Promise<string | null> {
  if (!value) return null;
  const [id, mac] = value.split(".");
  if (!id || !mac || !OWNER_ID_PATTERN.test(id)) return null;
  const expected = Buffer.from(sign(id, await sessionSecret()));
  const given = Buffer.from(mac);
  return expected.length === given.length && timingSafeEqual(expected, given) ? id : null;
}

/** The owner id of this browser, or null when it has none (or a forged one). */
export async function currentOwner(): Promise<string | null> {
  const jar = await cookies();
  return verifyOwnerCookie(jar.get(OWNER_COOKIE)?.value);
}

function cookieOptions() {
  return {
    httpOnly: true,
    sameSite: "lax" as const,
    secure: env().NODE_ENV === "production" && Boolean(env().APP_URL?.startsWith("https://")),
    path: "/",
    maxAge: ONE_YEAR,
  };
}

/** A fresh owner id and its signed cookie value. */
async function mintOwner(): Promise<{ id: string; value: string }> {
  const id = randomBytes(16).toString("base64url");
  return { id, value: await ownerCookieValue(id) };
}

/** The signed cookie value for an owner id (what the browser of that owner sends back). */
export async function ownerCookieValue(ownerId: string): Promise<string> {
  return `${ownerId}.${sign(ownerId, await sessionSecret())}`;
}

/** The owner id of this browser, making one when it has none. Only in server actions and route handlers. */
export async function ensureOwner(): Promise<string> {
  const existing = await currentOwner();
  if (existing) return existing;
  const { id, value } = await mintOwner();
  const jar = await cookies();
  jar.set(OWNER_COOKIE, value, cookieOptions());
  return id;
}

/** The owner id in a request's Cookie header, or null: for code that answers a request directly. */
export async function ownerFromRequest(req: { headers: Pick<Headers, "get"> }): Promise<string | null> {
  for (const part of (req.headers.get("cookie") ?? "").split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === OWNER_COOKIE) return verifyOwnerCookie(part.slice(eq + 1).trim());
  }
  return null;
}

/** A new owner and the Set-Cookie header value that gives it to the browser (same cookie as ensureOwner). */
export async function newOwnerCookie(): Promise<{ ownerId: string; setCookie: string }> {
  const { id, value } = await mintOwner();
  const o = cookieOptions();
  const attributes = [
    `Path=${o.path}`,
    `Max-Age=${o.maxAge}`,
    "HttpOnly",
    "SameSite=Lax",
    ...(o.secure ? ["Secure"] : []),
  ];
  return { ownerId: id, setCookie: [`${OWNER_COOKIE}=${value}`, ...attributes].join("; ") };
}
