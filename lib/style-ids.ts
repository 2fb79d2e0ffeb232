/**
 * The style presets' ids and the default one: what the browser needs to check a style, without
 * the presets themselves (their prompt templates and the preview renderer's settings, in
 * lib/styles.ts, which defines one preset per id).
 */
export const STYLE_IDS = [
  "cinematic",
  "anime",
  "photoreal",
  "3d-animation",
  "watercolor",
  "claymation",
  "film-noir",
  "cyberpunk",
] as const;

export type StyleId = (typeof STYLE_IDS)[number];

export const DEFAULT_STYLE: StyleId = "cinematic";

export function isStyleId(value: string): value is StyleId {
  return (STYLE_IDS as readonly string[]).includes(value);
}
