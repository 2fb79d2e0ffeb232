/** The prompt as caption text: cleaned for drawtext and word-wrapped. */

export function normalizePrompt(prompt: string): string {
  return prompt.normalize("NFC").replace(/\s+/g, " ").trim();
}

/** Removes what drawtext should never see: control characters, line breaks, bidi overrides. */
export function sanitizeCaption(text: string): string {
  return normalizePrompt(
    text.replace(/[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/g, " "),
  );
}

/** Word-wraps `text` to at most `maxLines` lines of `maxChars`, ending with … when cut. */
export function wrapCaption(text: string, maxChars: number, maxLines: number): string[] {
  const clean = sanitizeCaption(text);
  if (!clean) return [];
  const len = (s: string) => Array.from(s).length;
  // Words, with overlong ones cut into pieces that fit a line.
  const tokens: string[] = [];
  for (const word of clean.split(" ")) {
    const chars = Array.from(word);
    for (let i = 0; i < chars.length; i += maxChars) tokens.push(chars.slice(i, i + maxChars).join(""));
  }
  const lines: string[] = [];
  let line = "";
  for (const token of tokens) {
    const candidate = line ? `${line} ${token}` : token;
    if (len(candidate) <= maxChars) {
      line = candidate;
      continue;
    }
    lines.push(line);
    line = token;
  }
  if (line) lines.push(line);
  if (lines.length <= maxLines) return lines;
  const kept = lines.slice(0, maxLines);
  let last = kept[maxLines - 1] ?? "";
  while (len(last) > maxChars - 1) last = Array.from(last).slice(0, -1).join("");
  kept[maxLines - 1] = `${last.replace(/[\s.,;:!?-]+$/, "")}…`;
  return kept;
}
