import { normalizePrompt } from "@/lib/engines/local/caption";

/** Seeds of the local preview: the same prompt and style give the same clip. */

/** 32-bit FNV-1a over the UTF-8 bytes of `text`. */
export function fnv1a32(text: string): number {
  let h = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(text)) {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** The seed of a render: the explicit one (reduced to 32 bits), or FNV-1a of prompt + style. */
export function deriveSeed(prompt: string, styleId: string, explicit?: number | null): number {
  if (explicit !== null && explicit !== undefined && Number.isFinite(explicit)) {
    return Number(BigInt.asUintN(32, BigInt(Math.trunc(Math.abs(explicit)))));
  }
  return fnv1a32(`${styleId}\u0000${normalizePrompt(prompt).toLowerCase()}`);
}

/** mulberry32: a tiny deterministic PRNG. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
