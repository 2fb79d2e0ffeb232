import { describe, expect, it } from "vitest";
import { contentRange, parseRange } from "@/lib/files/range";

describe("parseRange", () => {
  it.each([
    ["bytes=0-99", 1000, { kind: "partial", start: 0, end: 99 }],
    ["bytes=500-", 1000, { kind: "partial", start: 500, end: 999 }],
    ["bytes=-100", 1000, { kind: "partial", start: 900, end: 999 }],
    ["bytes=-5000", 1000, { kind: "partial", start: 0, end: 999 }],
    ["bytes=900-5000", 1000, { kind: "partial", start: 900, end: 999 }],
    ["bytes=0-0", 1, { kind: "partial", start: 0, end: 0 }],
    ["BYTES = 10 - 20", 1000, { kind: "partial", start: 10, end: 20 }],
  ] as const)("%s of %i bytes", (header, size, expected) => {
    expect(parseRange(header, size)).toEqual(expected);
  });

  it.each([
    ["bytes=1000-", 1000],
    ["bytes=5000-6000", 1000],
    ["bytes=-0", 1000],
    ["bytes=0-", 0],
    ["bytes=-10", 0],
  ])("%s of %i bytes is unsatisfiable", (header, size) => {
    expect(parseRange(header, size)).toEqual({ kind: "unsatisfiable" });
  });

  it.each([
    null,
    undefined,
    "",
    "items=0-10",
    "bytes=",
    "bytes=-",
    "bytes=abc",
    "bytes=20-10",
    "bytes=0-1,5-9",
    "bytes=1.5-3",
  ])("ignores %j and serves the whole file", (header) => {
    expect(parseRange(header, 1000)).toEqual({ kind: "full" });
  });

  it("formats Content-Range", () => {
    expect(contentRange(0, 99, 1000)).toBe("bytes 0-99/1000");
  });
});
