import { NextResponse, type NextRequest } from "next/server";
import { env } from "@/lib/env";
import { frameAncestorsFor, securityHeaders } from "@/lib/security/csp";

/**
 * Security headers on every page and API response, with a fresh CSP nonce per request (Next 16
 * calls this file `proxy.ts`; it was `middleware.ts`). As Next's CSP guide prescribes, the
 * policy also goes on the request: Next reads the nonce from it while rendering and puts it on
 * its own scripts, and `x-nonce` lets the root layout give it to the inline theme script.
 * Pages must be rendered per request for this to work; the root layout's `headers()` call does that.
 */
export function proxy(request: NextRequest) {
  const nonce = Buffer.from(crypto.randomUUID()).toString("base64");
  const https =
    request.nextUrl.protocol === "https:" || request.headers.get("x-forwarded-proto")?.split(",")[0]?.trim() === "https";
  const headers = securityHeaders({
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
  matcher: [
    {
      // Everything but build assets and the favicon (API routes included), and not link prefetches.
      source: "/((?!_next/static|_next/image|favicon.ico).*)",
      missing: [
        { type: "header", key: "next-router-prefetch" },
        { type: "header", key: "purpose", value: "prefetch" },
      ],
    },
  ],
};
