import { sanitizeCaption } from "@/lib/engines/local/caption";

/** Prompt cues: a few words of the prompt steer colour, particles and pace. */

export type Rgb = [number, number, number];

const TINTS: { words: RegExp; hex: string }[] = [
  { words: /\b(ocean|sea|water|waves?|river|lake|underwater|blue|ice|icy|glacier)\b/, hex: "1f74d9" },
  { words: /\b(sunset|sunrise|fire|flames?|desert|autumn|orange|ember|warm)\b/, hex: "ff7a2e" },
  { words: /\b(forest|jungle|grass|trees?|garden|green|leaf|leaves|meadow)\b/, hex: "2f9e44" },
  { words: /\b(roses?|flowers?|pink|love|cherry|blossoms?|candy)\b/, hex: "ff5fa2" },
  { words: /\b(gold|golden|sun|sunny|sand|yellow|honey|wheat)\b/, hex: "f5c542" },
  { words: /\b(purple|violet|magic|magical|dreams?|lavender|fairy)\b/, hex: "8e5cf7" },
  { words: /\b(red|blood|lava|dragon|volcano)\b/, hex: "d62828" },
  { words: /\b(snow|snowy|winter|clouds?|white|ghost|fog|mist)\b/, hex: "eef3f8" },
  { words: /\b(night|space|stars?|galaxy|moon|dark|cosmic|midnight)\b/, hex: "141c4a" },
];

export type PromptCues = {
  tints: string[];
  particles: "stars" | "rain" | "snow" | null;
  pace: number;
};

export function promptCues(prompt: string): PromptCues {
  const p = sanitizeCaption(prompt).toLowerCase();
  const hits = TINTS.map((t) => ({ hex: t.hex, at: p.search(t.words) }))
    .filter((t) => t.at >= 0)
    .sort((a, b) => a.at - b.at)
    .slice(0, 2)
    .map((t) => t.hex);
  const particles = /\b(rain|raining|rainy|storm|stormy|downpour|drizzle)\b/.test(p)
    ? "rain"
    : /\b(snow|snowing|snowy|snowflakes?|blizzard)\b/.test(p)
      ? "snow"
      : /\b(night|space|stars?|starry|galaxy|cosmic|sky|fireflies|sparkl\w*)\b/.test(p)
        ? "stars"
        : null;
  const pace = /\b(fast|racing|race|chase|running|storm|dance|dancing|explosion|speed|rush|chaos)\b/.test(p)
    ? 1.6
    : /\b(calm|slow|gentle|peaceful|quiet|serene|still|sleepy|lazy)\b/.test(p)
      ? 0.6
      : 1;
  return { tints: hits, particles, pace };
}

export function hexToRgb(hex: string): Rgb {
  const n = Number.parseInt(hex.replace(/^#/, ""), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

export function mix(a: Rgb, b: Rgb, t: number): Rgb {
  return [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t].map((v) =>
    Math.round(v),
  ) as Rgb;
}

export function isGray(c: Rgb): boolean {
  return Math.max(...c) - Math.min(...c) < 12;
}
