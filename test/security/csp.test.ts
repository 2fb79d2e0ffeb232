import { NextRequest } from "next/server";
import { afterEach, describe, expect, it } from "vitest";
import { resetEnvCache } from "@/lib/env";
import {
  COMMON_HEADERS,
  contentSecurityPolicy,
  framingHeaders,
  NON_PAGE_PREFIXES,
  staticHeaderRules,
} from "@/lib/security/csp";
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
    const framed = framingHeaders({ ...base, frameAncestors: ["https://twitter.com", "https://x.com"] });
    expect(directives(framed["Content-Security-Policy"]).get("frame-ancestors")).toEqual([
      "https://twitter.com",
      "https://x.com",
    ]);
    expect(framed["X-Frame-Options"]).toBeUndefined();
    expect(framingHeaders(base)["X-Frame-Options"]).toBe("DENY");
  });

  it("without a nonce (not a page) lets no script run", () => {
    const d = directives(contentSecurityPolicy({ ...base, nonce: null }));
    expect(d.get("script-src")).toEqual(["'none'"]);
    expect(d.get("frame-ancestors")).toEqual(["'none'"]);
    expect(d.get("object-src")).toEqual(["'none'"]);
  });
});

describe("staticHeaderRules (the Next config's headers())", () => {
  const rules = staticHeaderRules();
  const headersOn = (path: string) => {
    const found = new Map<string, string>();
    for (const rule of rules) {
      // Next's `/:path*` sources: a prefix and anything below it.
      const prefix = rule.source.replace(/:path\*$/, "");
      if (path.startsWith(prefix)) for (const h of rule.headers) found.set(h.key, h.value);
    }
    return found;
  };

  it("gives every path the common headers, and non-page paths a policy without scripts and framing", () => {
    for (const path of ["/", "/jobs/abc", "/api/status/abc", "/api/files/abc/video.mp4", "/_next/static/chunks/a.js"]) {
      const headers = headersOn(path);
      for (const [key, value] of Object.entries(COMMON_HEADERS))
        expect(headers.get(key), `${key} on ${path}`).toBe(value);
    }
    for (const path of [
      "/api/status/abc",
      "/api/events/abc",
      "/api/files/abc/video.mp4",
      "/_next/static/chunks/a.js",
    ]) {
      const headers = headersOn(path);
      expect(directives(headers.get("Content-Security-Policy")!).get("script-src")).toEqual(["'none'"]);
      expect(directives(headers.get("Content-Security-Policy")!).get("frame-ancestors")).toEqual(["'none'"]);
      expect(headers.get("X-Frame-Options")).toBe("DENY");
    }
    // Pages get theirs from the proxy, per request: the config sets neither, so neither has to win.
    for (const path of ["/", "/jobs/abc", "/v/abc/embed"]) {
      expect(headersOn(path).has("Content-Security-Policy")).toBe(false);
      expect(headersOn(path).has("X-Frame-Options")).toBe(false);
    }
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
    expect(res.headers.get("x-frame-options")).toBe("DENY");
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

  it("runs on every page, prefetches included, and on nothing the Next config's static headers cover", () => {
    expect(config.matcher).toHaveLength(1);
    // A matcher with `has`/`missing` conditions would skip some requests (it once skipped prefetches).
    expect(typeof config.matcher[0]).toBe("string");
    const source = new RegExp(`^${config.matcher[0]!}$`);
    for (const path of ["/", "/jobs/abc", "/history", "/v/abc", "/v/abc/embed", "/favicon.ico", "/robots.txt", "/api"])
      expect(source.test(path), path).toBe(true);
    for (const path of [
      "/api/status/abc",
      "/api/health",
      "/api/files/abc/video.mp4",
      "/_next/static/chunks/a.js",
      "/_next/image",
    ]) {
      expect(source.test(path), path).toBe(false);
      expect(NON_PAGE_PREFIXES.some((prefix) => path.startsWith(prefix))).toBe(true);
    }
  });
});
