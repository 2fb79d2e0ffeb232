import { expect, test, type APIResponse, type Response } from "@playwright/test";
import { generateFromHome } from "./helpers";

/**
 * The same security headers on every response of the app: pages (HTML, RSC and link
 * prefetches), API routes, event streams, video files and build assets. Only the bare player of a
 * shared video (`/v/<token>/embed`) may be framed, by HTTPS pages.
 */

type Seen = { url: string; status: number; headers: Record<string, string> };

function isEmbed(url: string): boolean {
  return /^\/v\/[A-Za-z0-9_-]+\/embed\/?$/.test(new URL(url).pathname);
}

function checkHeaders({ url, status, headers }: Seen): void {
  const where = `${status} ${url}`;
  const csp = headers["content-security-policy"] ?? "";
  expect(csp, `CSP on ${where}`).toContain("default-src 'self'");
  expect(csp, `CSP on ${where}`).toContain("object-src 'none'");
  expect(headers["x-content-type-options"], where).toBe("nosniff");
  expect(headers["referrer-policy"], where).toBe("strict-origin-when-cross-origin");
  expect(headers["permissions-policy"], where).toBe("camera=(), microphone=(), geolocation=()");
  if (isEmbed(url)) {
    expect(csp, where).toContain("frame-ancestors 'self' https:");
    expect(headers["x-frame-options"], where).toBeUndefined();
  } else {
    expect(csp, where).toContain("frame-ancestors 'none'");
    expect(headers["x-frame-options"], where).toBe("DENY");
  }
  // A script runs only where a page gave it this response's nonce; nowhere else at all.
  const scripts = /script-src ([^;]*)/.exec(csp)?.[1] ?? "";
  expect(scripts === "'none'" || /'nonce-[A-Za-z0-9+/=_-]+'/.test(scripts), `script-src on ${where}: ${scripts}`).toBe(
    true,
  );
}

const fromApi = async (url: string, res: APIResponse): Promise<Seen> => ({
  url: res.url() || url,
  status: res.status(),
  headers: res.headers(),
});
const fromBrowser = (res: Response): Seen => ({ url: res.url(), status: res.status(), headers: res.headers() });

test("every response carries the security headers, prefetches, API, streams and files included", async ({
  page,
  baseURL,
}) => {
  const seen: Seen[] = [];
  page.on("response", (res) => {
    if (res.url().startsWith(baseURL!)) seen.push(fromBrowser(res));
  });

  const id = await generateFromHome(page, "a lighthouse in the fog, headers test");
  // The page follows the job over its event stream and then loads the finished video.
  await expect(page.locator("video")).toBeVisible({ timeout: 90_000 });
  const videoUrl = await page.locator("video").getAttribute("src");
  expect(videoUrl).toBeTruthy();

  const kinds = (pred: (s: Seen) => boolean) => seen.filter(pred).length;
  const path = (s: Seen) => new URL(s.url).pathname;
  // What the browser itself fetched: the pages, their scripts, the server action, the stream.
  expect(kinds((s) => path(s) === "/")).toBeGreaterThan(0);
  expect(kinds((s) => path(s).startsWith("/_next/static/"))).toBeGreaterThan(0);
  expect(kinds((s) => path(s) === `/api/events/${id}`)).toBeGreaterThan(0);

  // Asked for directly: prefetches of every kind a browser or Next's router sends, API answers
  // (found, not found, malformed), the file, and the embed path (framing only there).
  const request = page.request;
  const prefetchHeaders: Record<string, string>[] = [
    { purpose: "prefetch" },
    { "sec-purpose": "prefetch" },
    { rsc: "1", "next-router-prefetch": "1" },
    { rsc: "1" },
  ];
  const pages = [
    "/",
    `/jobs/${id}`,
    "/history",
    "/v/abcdefghijklmnopqrstuv",
    "/v/abcdefghijklmnopqrstuv/embed",
    "/no-such-page",
  ];
  for (const url of pages) {
    seen.push(await fromApi(url, await request.get(url, { maxRedirects: 0 })));
    for (const headers of prefetchHeaders)
      seen.push(await fromApi(url, await request.get(url, { headers, maxRedirects: 0 })));
  }
  const apis = [
    `/api/status/${id}`,
    "/api/status/abcdefghijklmnopqrstuv",
    "/api/status/not-an-id",
    "/api/events/abcdefghijklmnopqrstuv",
    "/api/events/not-an-id",
    "/api/jobs",
    "/api/health",
    "/api/health/live",
    videoUrl!,
  ];
  for (const url of apis) {
    seen.push(await fromApi(url, await request.get(url)));
    seen.push(await fromApi(url, await request.get(url, { headers: { purpose: "prefetch" } })));
  }
  const video = await request.get(videoUrl!, { headers: { range: "bytes=0-99" } });
  expect(video.status()).toBe(206);
  seen.push(await fromApi(videoUrl!, video));
  const etag = (await request.get(`/api/status/${id}`)).headers().etag!;
  const notModified = await request.get(`/api/status/${id}`, { headers: { "if-none-match": etag } });
  expect(notModified.status()).toBe(304);
  seen.push(await fromApi(`/api/status/${id}`, notModified));

  expect(seen.some((s) => isEmbed(s.url))).toBe(true);
  for (const s of seen) checkHeaders(s);
});
