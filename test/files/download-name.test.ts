import { describe, expect, it } from "vitest";
import { asciiSlug, attachmentDisposition, downloadUrl, SLUG_MAX, unicodeSlug } from "@/lib/files/download-name";

describe("download file names", () => {
  it("makes an ASCII slug of the prompt, without accents or punctuation", () => {
    expect(asciiSlug("A paper boat, drifting down a rainy city gutter at night!")).toBe(
      "a-paper-boat-drifting-down-a-rainy-city-gutter-at-night",
    );
    expect(asciiSlug("Café crème — à l'aube")).toBe("cafe-creme-a-l-aube");
    expect(asciiSlug("  ***  ")).toBe("prompt2video");
    expect(asciiSlug("東京の夜")).toBe("prompt2video");
  });

  it("keeps slugs short, cut between words", () => {
    const slug = asciiSlug("word ".repeat(40));
    expect(slug.length).toBeLessThanOrEqual(SLUG_MAX);
    expect(slug.endsWith("word")).toBe(true);
    expect(asciiSlug("x".repeat(200)).length).toBe(SLUG_MAX);
  });

  it("sends an ASCII filename and an RFC 5987 filename* for other scripts", () => {
    const value = attachmentDisposition("東京の夜 (neon)");
    expect(value).toBe(`attachment; filename="neon.mp4"; filename*=UTF-8''${encodeURIComponent("東京の夜-neon.mp4")}`);
    expect(unicodeSlug("It's *big*")).toBe("it-s-big");
    // Characters that must not appear raw in filename* are encoded, and nothing can close the quotes.
    expect(attachmentDisposition(`say "hi"; filename=x`)).toBe(
      `attachment; filename="say-hi-filename-x.mp4"; filename*=UTF-8''say-hi-filename-x.mp4`,
    );
  });

  it("adds download=1 to app paths and absolute URLs", () => {
    expect(downloadUrl("/api/files/abc/video.mp4")).toBe("/api/files/abc/video.mp4?download=1");
    expect(downloadUrl("https://blob.example/v.mp4?x=1")).toBe("https://blob.example/v.mp4?x=1&download=1");
  });
});
