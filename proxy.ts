import { NextResponse, type NextRequest } from "next/server";
import { env } from "@/lib/env";
import { frameAncestorsFor, framingHeaders } from "@/lib/security/csp";

/**
 * The per-request Content-Security-Policy of pages, with a fresh nonce (Next 16 calls this file
 * `proxy.ts`; it was `middleware.ts`). As Next's CSP guide prescribes, the policy also goes on
 * the request: Next reads the nonce from it while rendering and puts it on its own scripts, and
 * `x-nonce` lets the root layout give it to the inline theme script. Pages must be rendered per
 * request for this to work; the root layout's `headers()` call does that.
 *
 * Only pages need a nonce: API routes, files and build assets get static headers from the Next
 * config instead (lib/security/csp.ts, `staticHeaderRules`), and the headers every response
 * shares come from there too.
 */
export function proxy(request: NextRequest) {
  const nonce = Buffer.from(crypto.randomUUID()).toString("base64");
  const https =
    request.nextUrl.protocol === "https:" ||
    request.headers.get("x-forwarded-proto")?.split(",")[0]?.trim() === "https";
  const headers = framingHeaders({
    nonce,
    isDev: env().NODE_ENV === "development",
    upgradeInsecureRequests: https,
    frameAncestors: frameAncestorsFor(request.nextUrl.pathname),
  });

  const requestHeaders = new Headers(request.headers);
  requestHeaders.set("x-nonce", nonce);
  requestHeaders.set("Content-Security-Policy", headers["Content-Security-Policy"]);

  const response = NextResponse.next({ request: { headers: requestHeaders } });
  for (const [name, value] of Object.entries(headers)) response.headers.set(name, value);
  return response;
}

export const config = {
  // Every path but the non-page prefixes (NON_PAGE_PREFIXES in lib/security/csp.ts). Link
  // prefetches and RSC requests included: their answers carry the same headers as the page.
  matcher: ["/((?!api/|_next/).*)"],
};
