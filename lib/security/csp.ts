/**
 * The security headers of every response, built in pure functions so a path can vary them (the
 * embed player of a shared video may be framed: see `frameAncestorsFor`). Two sources apply them:
 * - pages (HTML, and their RSC and prefetch requests) through `proxy.ts`, with a fresh nonce per
 *   request: the policy follows Next's CSP guide, `'strict-dynamic'` so the scripts Next loads
 *   with that nonce may load their chunks, `'unsafe-eval'` in development only (React rebuilds
 *   server error stacks with eval there);
 * - everything else (API routes, video files, build assets) through the Next config's static
 *   `headers()` (`staticHeaderRules`): no script of ours runs in a JSON answer or a video, so no
 *   nonce, and no proxy on those paths (it halved an empty route's throughput).
 */

export type SecurityHeaderOptions = {
  /**
   * Base64 nonce of this request; Next reads it back from the request's CSP header. Null for a
   * response that is not a page: no script may run in it (`script-src 'none'`).
   */
  nonce: string | null;
  isDev: boolean;
  /**
   * Only over HTTPS: on a plain-HTTP origin (a self-hosted `next start` on a LAN, the e2e run)
   * the directive would rewrite the app's own script URLs to https and break the page.
   */
  upgradeInsecureRequests: boolean;
  /** Who may frame the page; default nobody. Anything else also drops `X-Frame-Options: DENY`. */
  frameAncestors?: readonly string[];
};

export const NONCE_PATTERN = /^[A-Za-z0-9+/_-]+={0,2}$/;

export function contentSecurityPolicy(opts: SecurityHeaderOptions): string {
  // A nonce with a quote, space or semicolon would let a caller write its own directives.
  if (opts.nonce !== null && !NONCE_PATTERN.test(opts.nonce)) throw new Error("The CSP nonce must be base64.");
  const frameAncestors = opts.frameAncestors ?? ["'none'"];
  const scripts =
    opts.nonce === null
      ? ["'none'"]
      : ["'self'", `'nonce-${opts.nonce}'`, "'strict-dynamic'", ...(opts.isDev ? ["'unsafe-eval'"] : [])];
  const directives: [string, ...string[]][] = [
    ["default-src", "'self'"],
    ["script-src", ...scripts],
    // Tailwind and React set style attributes (progress bars); nonces cannot cover attributes.
    ["style-src", "'self'", "'unsafe-inline'"],
    ["img-src", "'self'", "data:", "blob:", "https:"],
    // Finished videos may be served from Vercel Blob (or another HTTPS store).
    ["media-src", "'self'", "blob:", "https:"],
    ["font-src", "'self'"],
    ["connect-src", "'self'"],
    ["object-src", "'none'"],
    ["base-uri", "'self'"],
    ["form-action", "'self'"],
    ["frame-ancestors", ...(frameAncestors.length ? frameAncestors : ["'none'"])],
  ];
  if (opts.upgradeInsecureRequests) directives.push(["upgrade-insecure-requests"]);
  return directives.map((d) => d.join(" ")).join("; ");
}

/** The headers that are the same on every response, page or not. */
export const COMMON_HEADERS = {
  "Referrer-Policy": "strict-origin-when-cross-origin",
  "X-Content-Type-Options": "nosniff",
  "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
} as const;

/** The headers that depend on the response: the policy (nonce, framing) and X-Frame-Options. */
export function framingHeaders(
  opts: SecurityHeaderOptions,
): { "Content-Security-Policy": string } & Record<string, string> {
  const deny = (opts.frameAncestors ?? ["'none'"]).every((a) => a === "'none'");
  return { "Content-Security-Policy": contentSecurityPolicy(opts), ...(deny ? { "X-Frame-Options": "DENY" } : {}) };
}

/**
 * Paths that are not pages: served without the proxy, with static headers from the Next config.
 * `proxy.ts`'s matcher is the complement (keep both in step: test/security/csp.test.ts checks it).
 */
export const NON_PAGE_PREFIXES = ["/api/", "/_next/"] as const;

const nonPageFraming = () => framingHeaders({ nonce: null, isDev: false, upgradeInsecureRequests: false });

/**
 * Every security header of a non-page response, for the answers the Node server sends itself,
 * outside Next (the event stream and status routes: lib/jobs/adapters/node-routes.ts); the same as
 * `staticHeaderRules` gives those paths.
 */
export function nonPageHeaders(): Readonly<Record<string, string>> {
  // The same for every answer (no nonce): built once, not on each status answer.
  return (nonPage ??= Object.freeze({ ...COMMON_HEADERS, ...nonPageFraming() }));
}
let nonPage: Readonly<Record<string, string>> | undefined;

type HeaderRule = { source: string; headers: { key: string; value: string }[] };
const asList = (headers: Record<string, string>) => Object.entries(headers).map(([key, value]) => ({ key, value }));

/**
 * The Next config's `headers()`: the common headers on every path, and on the non-page paths the
 * static policy (no nonce, nobody may frame them) and X-Frame-Options. On pages the proxy sets
 * those two per request; no header is set by both, so neither has to win.
 */
export function staticHeaderRules(): HeaderRule[] {
  const framing = asList(nonPageFraming());
  return [
    { source: "/:path*", headers: asList(COMMON_HEADERS) },
    ...NON_PAGE_PREFIXES.map((prefix) => ({ source: `${prefix}:path*`, headers: framing })),
  ];
}

const EMBED_PATH = /^\/v\/[A-Za-z0-9_-]+\/embed\/?$/;

/**
 * Who may frame a path. Only the bare player of a shared video (`/v/[id]/embed`, the Twitter/X
 * player card, or any site embedding it) may be framed, by HTTPS pages; it has no actions to
 * click-jack. Everything else: nobody.
 */
export function frameAncestorsFor(pathname: string): readonly string[] | undefined {
  return EMBED_PATH.test(pathname) ? ["'self'", "https:"] : undefined;
}
