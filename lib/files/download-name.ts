/**
 * The file name a downloaded video gets, made from its prompt: "a-paper-boat-drifting.mp4".
 * `Content-Disposition` carries an ASCII `filename` for every browser and an RFC 5987
 * `filename*` (UTF-8, percent-encoded) that modern browsers prefer, so a prompt in another
 * script keeps its words.
 */

export const SLUG_MAX = 60;
const FALLBACK = "prompt2video";

/** Cuts at the last dash before `max` when there is one, so words are not split. */
function cut(slug: string, max: number): string {
  const chars = Array.from(slug);
  if (chars.length <= max) return slug;
  const head = chars.slice(0, max).join("");
  const dash = head.lastIndexOf("-");
  return (dash >= max / 2 ? head.slice(0, dash) : head).replace(/-+$/, "");
}

/** Lowercase ASCII letters, digits and dashes; accents are dropped ("Café" → "cafe"). */
export function asciiSlug(text: string, max = SLUG_MAX): string {
  const slug = text
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "");
  return cut(slug, max) || FALLBACK;
}

/** Letters and digits of any script, joined by dashes. */
export function unicodeSlug(text: string, max = SLUG_MAX): string {
  const slug = text
    .normalize("NFC")
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, "-")
    .replace(/^-+|-+$/g, "");
  return cut(slug, max) || FALLBACK;
}

/** RFC 5987 value-chars: encodeURIComponent leaves ' ( ) * alone, which attr-char does not allow. */
function encodeRfc5987(value: string): string {
  return encodeURIComponent(value).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** `attachment; filename="…mp4"; filename*=UTF-8''…mp4` for a job's prompt. */
export function attachmentDisposition(prompt: string, extension = "mp4"): string {
  const ascii = `${asciiSlug(prompt)}.${extension}`;
  const utf8 = `${unicodeSlug(prompt)}.${extension}`;
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeRfc5987(utf8)}`;
}

/** The link that downloads a stored video rather than playing it (Vercel Blob understands it too). */
export function downloadUrl(videoUrl: string): string {
  return `${videoUrl}${videoUrl.includes("?") ? "&" : "?"}download=1`;
}
