/** Text inside an ffmpeg filtergraph: escaped option values and numbers in expressions. */

/**
 * Escapes a value for one `key=value` option of a filter inside a filtergraph string: first
 * for the option parser (`\ ' :`), then for the graph parser (`\ ' [ ] , ;`), as the ffmpeg
 * documentation's "Notes on filtergraph escaping" describes. Leading/trailing whitespace is
 * protected too. Use drawtext with `expansion=none` so `%` stays literal.
 */
export function escapeFilterValue(value: string): string {
  const protectEdges = (s: string) =>
    s.replace(/^\s+/, (m) => m.replace(/./g, (c) => `\\${c}`)).replace(/\s+$/, (m) => m.replace(/./g, (c) => `\\${c}`));
  const level1 = protectEdges(value.replace(/[\\':]/g, (c) => `\\${c}`));
  return protectEdges(level1.replace(/[\\'[\],;]/g, (c) => `\\${c}`));
}

/** Numbers in expressions: short and locale-free. */
export function n(v: number): string {
  const r = Math.round(v * 10000) / 10000;
  return Object.is(r, -0) ? "0" : String(r);
}
