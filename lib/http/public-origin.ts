import "server-only";
import { headers } from "next/headers";
import { env } from "@/lib/env";

const HOST_PATTERN = /^[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$/;

/** The first value of a comma-separated forwarding header, if it is one. */
function first(value: string | null): string | undefined {
  return value?.split(",")[0]?.trim() || undefined;
}

/**
 * The origin links to this app should use outside it (Open Graph tags, share links): APP_URL
 * when set, else the host this request came to (behind a proxy, the one it forwarded).
 * A malformed Host falls back to localhost rather than ending up in the page.
 */
export async function publicOrigin(): Promise<string> {
  return publicOriginFrom(await headers());
}

/** `publicOrigin` for a request's headers, where there is a Request rather than next/headers. */
export function publicOriginFrom(h: Pick<Headers, "get">): string {
  const configured = env().APP_URL;
  if (configured) return configured;
  const host = first(h.get("x-forwarded-host")) ?? first(h.get("host"));
  const proto = first(h.get("x-forwarded-proto")) === "https" ? "https" : "http";
  return host && HOST_PATTERN.test(host) ? `${proto}://${host}` : `http://localhost:${env().PORT}`;
}

/** An app path or an absolute URL (Blob), made absolute. */
export function absoluteUrl(pathOrUrl: string, origin: string): string {
  return new URL(pathOrUrl, `${origin}/`).toString();
}
