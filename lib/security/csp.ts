/**
 * The security headers of every page and API response, built in one pure function so a path can
 * vary them (the embed player of a shared video may be framed: see `frameAncestorsFor`).
 * The policy follows Next's CSP guide: a fresh nonce per request, `'strict-dynamic'` so the
 * scripts Next loads with that nonce may load their chunks, `'unsafe-eval'` in development only
 * (React rebuilds server error stacks with eval there).
 */

export type SecurityHeaderOptions = {
  /** Base64 nonce of this request; Next reads it back from the request's CSP header. */
  nonce: string;
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
  if (!NONCE_PATTERN.test(opts.nonce)) throw new Error("The CSP nonce must be base64.");
  const frameAncestors = opts.frameAncestors ?? ["'none'"];
  const directives: [string, ...string[]][] = [
    ["default-src", "'self'"],
    ["script-src", "'self'", `'nonce-${opts.nonce}'`, "'strict-dynamic'", ...(opts.isDev ? ["'unsafe-eval'"] : [])],
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

export function securityHeaders(opts: SecurityHeaderOptions): { "Content-Security-Policy": string } & Record<string, string> {
  const deny = (opts.frameAncestors ?? ["'none'"]).every((a) => a === "'none'");
  return {
    "Content-Security-Policy": contentSecurityPolicy(opts),
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "X-Content-Type-Options": "nosniff",
    ...(deny ? { "X-Frame-Options": "DENY" } : {}),
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
  };
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
