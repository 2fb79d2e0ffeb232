import { gzipSync } from "node:zlib";

/**
 * The JavaScript a browser downloads to load a page: every external <script src> in the served
 * HTML (not `nomodule` polyfills, which modern browsers skip), fetched and gzipped with zlib
 * (level 9, about what a CDN sends). Inline scripts (the RSC payload) are part of the HTML.
 * `cookie`: as the owner of a job sees its page (with its Cancel, Delete and Remix buttons).
 */
export type PageJs = { path: string; files: number; rawKb: number; gzipKb: number; htmlGzipKb: number };

export async function pageJs(origin: string, path: string, cookie?: string): Promise<PageJs> {
  const html = await (await fetch(`${origin}${path}`, { headers: cookie ? { cookie } : {} })).text();
  const srcs = new Set<string>();
  for (const tag of html.match(/<script\b[^>]*>/gi) ?? []) {
    if (/\bnomodule\b/i.test(tag)) continue;
    const src = /\bsrc="([^"]+)"/i.exec(tag)?.[1];
    if (src) srcs.add(src.replace(/&amp;/g, "&"));
  }
  let raw = 0;
  let gzip = 0;
  for (const src of srcs) {
    const body = Buffer.from(await (await fetch(new URL(src, origin))).arrayBuffer());
    raw += body.length;
    gzip += gzipSync(body, { level: 9 }).length;
  }
  return {
    path,
    files: srcs.size,
    rawKb: raw / 1024,
    gzipKb: gzip / 1024,
    htmlGzipKb: gzipSync(Buffer.from(html), { level: 9 }).length / 1024,
  };
}
