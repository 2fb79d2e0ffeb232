import { NextRequest } from "next/server";
import { afterEach, describe, expect, it } from "vitest";
import { resetEnvCache } from "@/lib/env";
import { contentSecurityPolicy, securityHeaders } from "@/lib/security/csp";
import { config, proxy } from "@/proxy";

const directives = (csp: string) => new Map(csp.split("; ").map((d) => [d.split(" ")[0]!, d.split(" ").slice(1)]));

describe("contentSecurityPolicy", () => {
  const base = { nonce: "bm9uY2UtMTIz", isDev: false, upgradeInsecureRequests: false };

  it("allows only self-hosted scripts carrying the nonce, and what they load", () => {
    const d = directives(contentSecurityPolicy(base));
    expect(d.get("script-src")).toEqual(["'self'", "'nonce-bm9uY2UtMTIz'", "'strict-dynamic'"]);
    expect(d.get("default-src")).toEqual(["'self'"]);
    expect(d.get("style-src")).toEqual(["'self'", "'unsafe-inline'"]);
    expect(d.get("img-src")).toEqual(["'self'", "data:", "blob:", "https:"]);
    expect(d.get("media-src")).toEqual(["'self'", "blob:", "https:"]);
    expect(d.get("connect-src")).toEqual(["'self'"]);
    expect(d.get("object-src")).toEqual(["'none'"]);
    expect(d.get("base-uri")).toEqual(["'self'"]);
    expect(d.get("form-action")).toEqual(["'self'"]);
    expect(d.get("frame-ancestors")).toEqual(["'none'"]);
    expect(d.has("upgrade-insecure-requests")).toBe(false);
  });

  it("adds 'unsafe-eval' in development only, and upgrade-insecure-requests over HTTPS only", () => {
    expect(directives(contentSecurityPolicy({ ...base, isDev: true })).get("script-src")).toContain("'unsafe-eval'");
    expect(contentSecurityPolicy(base)).not.toContain("unsafe-eval");
    expect(contentSecurityPolicy({ ...base, upgradeInsecureRequests: true })).toMatch(/; upgrade-insecure-requests$/);
  });

  it("refuses a nonce that could smuggle in directives", () => {
    for (const nonce of ["", "abc'; script-src *", "a b", "a;b"]) {
      expect(() => contentSecurityPolicy({ ...base, nonce })).toThrow(/nonce/);
    }
  });

  it("can let a path be framed by named origins (e.g. a Twitter player), dropping X-Frame-Options", () => {
    const framed = securityHeaders({ ...base, frameAncestors: ["https://twitter.com", "https://x.com"] });
    expect(directives(framed["Content-Security-Policy"]).get("frame-ancestors")).toEqual(["https://twitter.com", "https://x.com"]);
    expect(framed["X-Frame-Options"]).toBeUndefined();
    expect(securityHeaders(base)["X-Frame-Options"]).toBe("DENY");
  });
});

describe("proxy", () => {
  afterEach(() => resetEnvCache());

  it("sets the headers on the response and the nonce on the request, fresh each time", () => {
    const res = proxy(new NextRequest("http://localhost:3000/jobs/abc"));
    const csp = res.headers.get("content-security-policy")!;
    const nonce = csp.match(/'nonce-([^']+)'/)?.[1];
    expect(nonce).toBeTruthy();
    // NextResponse.next({ request: { headers } }) forwards request headers this way.
    expect(res.headers.get("x-middleware-request-x-nonce")).toBe(nonce);
    expect(res.headers.get("x-middleware-request-content-security-policy")).toBe(csp);
    expect(res.headers.get("referrer-policy")).toBe("strict-origin-when-cross-origin");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(res.headers.get("x-frame-options")).toBe("DENY");
    expect(res.headers.get("permissions-policy")).toBe("camera=(), microphone=(), geolocation=()");
    expect(csp).not.toContain("upgrade-insecure-requests");

    const again = proxy(new NextRequest("http://localhost:3000/jobs/abc")).headers.get("content-security-policy");
    expect(again).not.toBe(csp);
  });

  it("lets only the embed player of a shared video be framed, by HTTPS pages", () => {
    const embed = proxy(new NextRequest("http://localhost:3000/v/abcdefghijklmnopqrstuv/embed")).headers;
    expect(directives(embed.get("content-security-policy")!).get("frame-ancestors")).toEqual(["'self'", "https:"]);
    expect(embed.get("x-frame-options")).toBeNull();
    for (const path of ["/v/abcdefghijklmnopqrstuv", "/v/abc/embed/x", "/jobs/abc/embed"]) {
      const headers = proxy(new NextRequest(`http://localhost:3000${path}`)).headers;
      expect(directives(headers.get("content-security-policy")!).get("frame-ancestors")).toEqual(["'none'"]);
      expect(headers.get("x-frame-options")).toBe("DENY");
    }
  });

  it("upgrades insecure requests behind an HTTPS proxy", () => {
    const res = proxy(new NextRequest("http://localhost:3000/", { headers: { "x-forwarded-proto": "https" } }));
    expect(res.headers.get("content-security-policy")).toContain("upgrade-insecure-requests");
  });

  it("runs on pages and API routes but not on build assets", () => {
    const source = new RegExp(`^${config.matcher[0]!.source}$`);
    for (const path of ["/", "/jobs/abc", "/api/status/abc", "/api/health", "/v/abc"]) expect(source.test(path)).toBe(true);
    for (const path of ["/_next/static/chunks/a.js", "/_next/image", "/favicon.ico"]) expect(source.test(path)).toBe(false);
  });
});
