/**
 * Whether a browser sent this request for another site: its Origin names another host. Refused on
 * the job API's writes, as Next refuses such server-action calls. Clients that send no Origin
 * (scripts, curl) are not browsers acting for someone else.
 */
export function crossSite(req: Request): boolean {
  const origin = req.headers.get("origin");
  if (origin === null) return false;
  const host = req.headers.get("x-forwarded-host")?.split(",")[0]?.trim() || req.headers.get("host");
  try {
    return new URL(origin).host !== host;
  } catch {
    return true;
  }
}
