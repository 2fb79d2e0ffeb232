/**
 * HTTP Range header (RFC 9110 §14) for one representation of `size` bytes. Only a single byte
 * range is honoured: for anything else (other units, several ranges, malformed specs) the RFC
 * lets a server ignore the header and send the whole file.
 */

export type RangeResult =
  { kind: "full" } | { kind: "partial"; start: number; end: number } | { kind: "unsatisfiable" };

const FULL: RangeResult = { kind: "full" };
const UNSATISFIABLE: RangeResult = { kind: "unsatisfiable" };

export function parseRange(header: string | null | undefined, size: number): RangeResult {
  if (!header) return FULL;
  const unit = /^\s*bytes\s*=(.*)$/i.exec(header);
  if (!unit) return FULL;
  const specs = (unit[1] ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  if (specs.length !== 1) return FULL;
  const spec = /^(\d*)\s*-\s*(\d*)$/.exec(specs[0] ?? "");
  const [first = "", last = ""] = spec ? [spec[1], spec[2]] : [];
  if (!spec || (first === "" && last === "")) return FULL;

  if (first === "") {
    // Suffix range: the last N bytes.
    const suffix = Number(last);
    if (suffix === 0 || size === 0) return UNSATISFIABLE;
    return { kind: "partial", start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(first);
  if (last !== "" && Number(last) < start) return FULL;
  if (start >= size) return UNSATISFIABLE;
  const end = last === "" ? size - 1 : Math.min(Number(last), size - 1);
  return { kind: "partial", start, end };
}

/** Value of Content-Range for a partial answer. */
export function contentRange(start: number, end: number, size: number): string {
  return `bytes ${start}-${end}/${size}`;
}
