import { spawn } from "node:child_process";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { sanitizeCaption, wrapCaption } from "@/lib/engines/local/caption";
import { escapeFilterValue } from "@/lib/engines/local/filter-text";
import { promptCues } from "@/lib/engines/local/prompt-cues";
import { buildRenderPlan, RenderPlanError, type RenderPlanInput } from "@/lib/engines/local/render-plan";
import { deriveSeed, fnv1a32 } from "@/lib/engines/local/seed";
import { buildSoundPlan } from "@/lib/engines/local/sound-plan";
import { ffmpegPath, fontPath } from "@/lib/media/ffmpeg";

const FONT = "/fonts/DejaVuSans.ttf";

function plan(overrides: Partial<RenderPlanInput> = {}, params: RenderPlanInput["params"] = {}) {
  return buildRenderPlan({
    prompt: "A red fox running through fresh snow at dawn",
    styleId: "cinematic",
    params,
    outputPath: "/tmp/out.mp4",
    fontFile: FONT,
    ...overrides,
  });
}

const graphOf = (args: string[]) => args[args.indexOf("-filter_complex") + 1] ?? "";

/** Runs ffmpeg at debug level and returns the value each `text` option was set to. */
async function parsedTextOptions(graph: string): Promise<string[]> {
  const bin = await ffmpegPath();
  const stderr = await new Promise<string>((resolve, reject) => {
    const child = spawn(bin, [
      "-hide_banner",
      "-nostdin",
      "-v",
      "debug",
      "-filter_complex",
      graph,
      "-frames:v",
      "1",
      "-f",
      "null",
      "-",
    ]);
    let err = "";
    child.stderr.setEncoding("utf8").on("data", (c: string) => (err += c));
    child.on("error", reject);
    child.on("close", (code) =>
      code === 0 ? resolve(err) : reject(new Error(`ffmpeg exited ${code}: ${err.slice(-800)}`)),
    );
  });
  // Filters are initialised twice (graph check, then the real graph): keep the first set.
  const values = [...stderr.matchAll(/Setting 'text' to value '(.*)'$/gm)].map((m) => m[1] ?? "");
  return values.slice(0, values.length / 2);
}

describe("seeds", () => {
  it("FNV-1a matches the reference values", () => {
    expect(fnv1a32("")).toBe(0x811c9dc5);
    expect(fnv1a32("a")).toBe(0xe40c292c);
    expect(fnv1a32("foobar")).toBe(0xbf9cf968);
  });

  it("derives a 32-bit seed from prompt and style unless one is given", () => {
    const a = deriveSeed("a cat", "anime");
    expect(a).toBe(deriveSeed("  a   cat ", "anime"));
    expect(a).not.toBe(deriveSeed("a cat", "cinematic"));
    expect(a).not.toBe(deriveSeed("a dog", "anime"));
    expect(deriveSeed("a cat", "anime", 42)).toBe(42);
    expect(deriveSeed("a cat", "anime", 2 ** 32 + 7)).toBe(7);
    expect(Number.isInteger(a) && a >= 0 && a < 2 ** 32).toBe(true);
  });
});

describe("render plan", () => {
  it("is deterministic: the same input gives the same arguments", () => {
    expect(plan().args).toEqual(plan().args);
    expect(plan({}, { seed: 7 }).args).toEqual(plan({}, { seed: 7 }).args);
  });

  it("changes with the prompt, the style and the seed", () => {
    const base = graphOf(plan().args);
    const other = graphOf(plan({ prompt: "A lighthouse in a storm" }).args);
    const style = graphOf(plan({ styleId: "cyberpunk" }).args);
    const seeded = graphOf(plan({}, { seed: 1 }).args);
    const seeded2 = graphOf(plan({}, { seed: 2 }).args);
    for (const g of [other, style, seeded, seeded2]) expect(g).not.toBe(base);
    expect(seeded).not.toBe(seeded2);
    // Not just the caption: the picture itself differs (everything before the caption).
    const picture = (g: string) => g.slice(0, g.indexOf("drawtext"));
    expect(picture(other)).not.toBe(picture(base));
    expect(picture(seeded)).not.toBe(picture(seeded2));
  });

  it("reports the seed it used", () => {
    expect(plan({}, { seed: 123 }).seed).toBe(123);
    expect(plan().seed).toBe(deriveSeed("A red fox running through fresh snow at dawn", "cinematic"));
  });

  it("produces H.264 yuv420p at 24 fps with faststart, no audio, sized by localFrameSize", () => {
    const p = plan();
    expect(p).toMatchObject({ width: 640, height: 360, fps: 24, durationSeconds: 5, totalFrames: 120 });
    const a = p.args;
    const after = (flag: string) => a[a.indexOf(flag) + 1];
    expect(after("-c:v")).toBe("libx264");
    expect(after("-pix_fmt")).toBe("yuv420p");
    expect(after("-movflags")).toBe("+faststart");
    expect(after("-r")).toBe("24");
    expect(after("-frames:v")).toBe("120");
    expect(a).toContain("-an");
    expect(a.at(-1)).toBe("/tmp/out.mp4");
    expect(plan({}, { aspectRatio: "9:16" })).toMatchObject({ width: 360, height: 640 });
    expect(plan({}, { aspectRatio: "1:1", resolution: "480p" })).toMatchObject({ width: 480, height: 480 });
    expect(plan({}, { aspectRatio: "16:9", resolution: "480p", duration: 4 })).toMatchObject({
      width: 854,
      height: 480,
      totalFrames: 96,
    });
  });

  it("follows the style: palette colours and motion appear in the graph", () => {
    // Cyberpunk's magenta (ff00a0) as an RGB triple, and its scan band.
    const cyber = graphOf(plan({ styleId: "cyberpunk", prompt: "a street" }).args);
    expect(cyber).toContain("r=255:g=0:b=160");
    expect(cyber).toContain("[scan]");
    const noir = graphOf(plan({ styleId: "film-noir", prompt: "a street" }).args);
    expect(noir).not.toContain("hue=");
    expect(noir).toContain("noise=c0s=20");
    const anime = graphOf(plan({ styleId: "anime", prompt: "a street" }).args);
    expect(anime).not.toContain("noise=");
    expect(anime).toMatch(/sin\(N\*/); // pulsing shapes
  });

  it("reads colour, particle and pace cues from the prompt", () => {
    expect(promptCues("waves on the ocean at sunset")).toMatchObject({ tints: ["1f74d9", "ff7a2e"], particles: null });
    expect(promptCues("neon city in the rain").particles).toBe("rain");
    expect(promptCues("a snowy village").particles).toBe("snow");
    expect(promptCues("stars over the desert").particles).toBe("stars");
    expect(promptCues("a fast car chase").pace).toBeGreaterThan(1);
    expect(promptCues("a calm lake").pace).toBeLessThan(1);
    expect(graphOf(plan({ prompt: "rain over a harbour" }).args)).toContain("[pt]");
  });

  it("rejects what it cannot render", () => {
    expect(() => plan({ styleId: "nope" })).toThrow(RenderPlanError);
    expect(() => plan({ prompt: "   \n " })).toThrow(/empty/);
    expect(() => plan({}, { aspectRatio: "4:3" })).toThrow(/aspect ratio/);
    expect(() => plan({}, { resolution: "1080p" })).toThrow(/resolution/);
    expect(() => plan({}, { duration: 0 })).toThrow(/Duration/);
    expect(() => plan({}, { duration: 60 })).toThrow(/Duration/);
    expect(() => plan({}, { seed: -1 })).toThrow(/seed/);
    expect(() => plan({}, { seed: 1.5 })).toThrow(/seed/);
  });
});

describe("caption", () => {
  it("wraps to two lines and truncates with an ellipsis", () => {
    expect(wrapCaption("short", 20, 2)).toEqual(["short"]);
    expect(wrapCaption("one two three four", 9, 2)).toEqual(["one two", "three…"]);
    const long = wrapCaption("word ".repeat(60), 30, 2);
    expect(long).toHaveLength(2);
    expect(long[1]!.endsWith("…")).toBe(true);
    for (const l of long) expect(Array.from(l).length).toBeLessThanOrEqual(30);
    const giant = wrapCaption("x".repeat(100), 20, 2);
    expect(giant).toHaveLength(2);
    for (const l of giant) expect(Array.from(l).length).toBeLessThanOrEqual(20);
    expect(wrapCaption("line one\nline\ttwo\u0007", 40, 2)).toEqual(["line one line two"]);
  });

  it("never exceeds the line budget and keeps every word unless it truncates (property)", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme", maxLength: 300 }), fc.integer({ min: 10, max: 60 }), (text, max) => {
        const lines = wrapCaption(text, max, 2);
        expect(lines.length).toBeLessThanOrEqual(2);
        for (const l of lines) {
          expect(Array.from(l).length).toBeLessThanOrEqual(max);
          expect(l.length).toBeGreaterThan(0);
        }
        if (!lines.at(-1)?.endsWith("…")) {
          expect(lines.join("").replace(/\s+/g, "")).toBe(sanitizeCaption(text).replace(/\s+/g, ""));
        }
      }),
      { numRuns: 500 },
    );
  });

  it("puts at most two caption lines into the graph, plus the corner label", () => {
    const p = plan({ prompt: "a ".repeat(200) + "end" });
    expect(p.caption).toHaveLength(2);
    expect(graphOf(p.args).match(/drawtext=/g)).toHaveLength(3);
    expect(graphOf(p.args)).toContain("Local preview · not AI");
  });
});

describe("filtergraph escaping (checked by ffmpeg itself)", () => {
  const tricky = [
    `it's 100% "fun": a\\b`,
    `[x];y,z=1:2 \\' ''`,
    `%{pts} %{n} \\n`,
    "ünïcødé · 日本",
    "a\\",
    "'",
    "\\:",
    " edges ",
  ];

  it("escapeFilterValue round-trips through ffmpeg's two parsing levels", async () => {
    const font = fontPath();
    const graph = tricky
      .map(
        (t, i) =>
          `${i === 0 ? "nullsrc=s=64x16:d=0.04," : ""}drawtext=expansion=none:fontfile=${escapeFilterValue(font)}:text=${escapeFilterValue(t)}`,
      )
      .join(",");
    expect(await parsedTextOptions(graph)).toEqual(tricky);
  });

  it("a real plan with a hostile prompt runs, and ffmpeg sees the caption verbatim", async () => {
    const prompt = `it's 100% "fun": a\\b; [out] , 'quote' %{localtime}\nnew line`;
    const p = buildRenderPlan({
      prompt,
      styleId: "cyberpunk",
      params: { duration: 1 },
      outputPath: "-",
      fontFile: fontPath(),
    });
    const texts = await parsedTextOptions(graphOf(p.args).replace(/\[v\]$/, ""));
    expect(texts).toEqual([...p.caption, "Local preview · not AI"]);
    expect(p.caption.join(" ")).toBe(`it's 100% "fun": a\\b; [out] , 'quote' %{localtime} new line`);
  });
});

describe("sound plan", () => {
  const sp = (seed: number | null, styleId = "anime") =>
    buildSoundPlan({ inputPath: "/tmp/in.mp4", outputPath: "/tmp/out.mp4", styleId, seed, durationSeconds: 5 });

  it("is deterministic and depends on seed and style", () => {
    expect(sp(1).args).toEqual(sp(1).args);
    expect(sp(1).notes).toHaveLength(4);
    expect(sp(1).args).not.toEqual(sp(99).args);
    expect(sp(1, "film-noir").args).not.toEqual(sp(1, "anime").args);
    expect(sp(null).args).toEqual(sp(null).args);
  });

  it("copies the video, encodes AAC, stops with the shortest stream and keeps faststart", () => {
    const a = sp(3).args;
    const after = (flag: string) => a[a.indexOf(flag) + 1];
    expect(after("-c:v")).toBe("copy");
    expect(after("-c:a")).toBe("aac");
    expect(a).toContain("-shortest");
    expect(after("-movflags")).toBe("+faststart");
    expect(graphOf(a)).toMatch(/^aevalsrc=/);
    expect(graphOf(a)).toContain("afade=t=in");
    expect(graphOf(a)).toContain("afade=t=out");
  });
});
