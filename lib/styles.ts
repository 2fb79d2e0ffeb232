import { DEFAULT_STYLE, STYLE_IDS, type StyleId } from "@/lib/style-ids";

export { DEFAULT_STYLE, STYLE_IDS, type StyleId };

/**
 * Style presets, each defined once: the prompt template, the negative prompt, camera and
 * lighting hints for the models, and the palette/motion/sound the local preview renderer uses.
 */
export type Style = {
  id: StyleId;
  label: string;
  description: string;
  /** `{prompt}` is replaced by the user's (or the enhanced) prompt. */
  template: string;
  negativePrompt: string;
  camera: string;
  lighting: string;
  /** Local preview renderer: background colours (hex, no #), motion and soundtrack. */
  preview: {
    palette: [string, string, string];
    motion: "drift" | "pulse" | "orbit" | "scan";
    grain: number;
    /** Base frequency (Hz) and timbre for the local soundtrack. */
    sound: { baseHz: number; wave: "sine" | "square" | "saw"; tempo: number };
  };
};

/** Every preset by its id: the type asks for one per id in STYLE_IDS, and no other. */
const PRESETS: Record<StyleId, Omit<Style, "id">> = {
  cinematic: {
    label: "Cinematic",
    description: "Widescreen film look, shallow depth of field",
    template:
      "Cinematic film still in motion: {prompt}. Anamorphic widescreen framing, shallow depth of field, rich color grading.",
    negativePrompt: "cartoon, flat lighting, low resolution, watermark, text artifacts",
    camera: "slow dolly-in, 35mm anamorphic lens",
    lighting: "golden-hour key light with soft rim light",
    preview: {
      palette: ["1b1f3b", "b5651d", "f2c57c"],
      motion: "drift",
      grain: 8,
      sound: { baseHz: 110, wave: "sine", tempo: 0.5 },
    },
  },
  anime: {
    label: "Anime",
    description: "Hand-drawn Japanese animation",
    template: "Anime scene: {prompt}. Clean line art, cel shading, expressive characters, vibrant colors.",
    negativePrompt: "photorealistic, 3d render, blurry, deformed faces",
    camera: "dynamic pan with parallax layers",
    lighting: "bright daylight with soft bloom",
    preview: {
      palette: ["ff6fa5", "7ad7f0", "fff3b0"],
      motion: "pulse",
      grain: 0,
      sound: { baseHz: 330, wave: "square", tempo: 2 },
    },
  },
  photoreal: {
    label: "Photoreal",
    description: "Looks filmed with a real camera",
    template: "Photorealistic footage: {prompt}. Natural textures, true-to-life colors, 4K detail.",
    negativePrompt: "cartoon, illustration, painting, oversaturated, distorted",
    camera: "handheld documentary camera, natural motion",
    lighting: "natural ambient light",
    preview: {
      palette: ["2e4a3b", "8aa39b", "e8e4d9"],
      motion: "drift",
      grain: 12,
      sound: { baseHz: 146.83, wave: "sine", tempo: 0.8 },
    },
  },
  "3d-animation": {
    label: "3D animation",
    description: "Feature-film CGI, soft and colorful",
    template: "3D animated film scene: {prompt}. Stylized characters, soft global illumination, Pixar-like materials.",
    negativePrompt: "2d, sketch, live action, low poly artifacts",
    camera: "smooth crane shot",
    lighting: "soft global illumination, warm bounce light",
    preview: {
      palette: ["3a86ff", "ffbe0b", "fb5607"],
      motion: "orbit",
      grain: 0,
      sound: { baseHz: 261.63, wave: "sine", tempo: 1.5 },
    },
  },
  watercolor: {
    label: "Watercolor",
    description: "Painted on paper, soft bleeding color",
    template: "Animated watercolor painting: {prompt}. Soft washes, bleeding pigments, visible paper texture.",
    negativePrompt: "hard edges, photorealistic, neon, 3d render",
    camera: "gentle slow pan",
    lighting: "diffuse daylight",
    preview: {
      palette: ["a3c4f3", "cfbaf0", "f1c0e8"],
      motion: "drift",
      grain: 4,
      sound: { baseHz: 196, wave: "sine", tempo: 0.6 },
    },
  },
  claymation: {
    label: "Claymation",
    description: "Stop-motion clay figures",
    template: "Stop-motion claymation: {prompt}. Handmade plasticine figures, visible fingerprints, miniature set.",
    negativePrompt: "smooth cgi, photorealistic humans, motion blur",
    camera: "static tabletop camera, slight stop-motion jitter",
    lighting: "warm practical studio lights",
    preview: {
      palette: ["e76f51", "f4a261", "2a9d8f"],
      motion: "pulse",
      grain: 6,
      sound: { baseHz: 220, wave: "saw", tempo: 1.2 },
    },
  },
  "film-noir": {
    label: "Film noir",
    description: "Black and white, hard shadows",
    template: "1940s film noir scene: {prompt}. High-contrast black and white, dramatic shadows, rain-slick streets.",
    negativePrompt: "color, bright cheerful lighting, cartoon",
    camera: "low-angle static shot with slow push-in",
    lighting: "hard venetian-blind key light, deep shadows",
    preview: {
      palette: ["0d0d0d", "595959", "e6e6e6"],
      motion: "scan",
      grain: 20,
      sound: { baseHz: 98, wave: "saw", tempo: 0.4 },
    },
  },
  cyberpunk: {
    label: "Cyberpunk",
    description: "Neon city at night",
    template:
      "Cyberpunk scene: {prompt}. Neon-lit megacity at night, holograms, rain reflections, magenta and cyan glow.",
    negativePrompt: "daylight, pastoral, washed out colors",
    camera: "fast tracking shot through the crowd",
    lighting: "neon magenta and cyan rim lights, volumetric haze",
    preview: {
      palette: ["0b0033", "ff00a0", "00f0ff"],
      motion: "scan",
      grain: 10,
      sound: { baseHz: 82.41, wave: "square", tempo: 2.5 },
    },
  },
};

/** The presets in the order the form shows them. */
export const STYLES: readonly Style[] = STYLE_IDS.map((id) => ({ id, ...PRESETS[id] }));

/** What the form's style picker shows of a style: plain data for a client component. */
export type StyleOption = Pick<Style, "id" | "label" | "description"> & { palette: Style["preview"]["palette"] };

/** The picker's view of every style, without the templates and hints only the server uses. */
export function styleOptions(): StyleOption[] {
  return STYLES.map(({ id, label, description, preview }) => ({ id, label, description, palette: preview.palette }));
}

export function getStyle(id: string): Style {
  const style = STYLES.find((s) => s.id === id);
  if (!style) throw new Error(`Unknown style: ${id}`);
  return style;
}

/** Words that mean the prompt already sets the camera, or the light (a time of day, a light source). */
const CAMERA_WORDS =
  /\b(camera|close-?ups?|wide shot|aerial|drone|dolly|tracking|crane shot|handheld|pov|pans?|panning|zooms?|zooming|tilts?|tilting|overhead|bird'?s[- ]eye)\b/i;
const LIGHT_WORDS =
  /\b(dawn|sunrise|morning|noon|afternoon|sunset|dusk|evening|night|midnight|lighting|lit|backlit|moonlight|moonlit|sunlight|sunlit|candlelight|candlelit|neon)\b/i;

/**
 * The style's camera and lighting hints for a prompt, as short sentences. A hint the prompt
 * already covers is left out, so "at night" never meets "golden-hour key light".
 */
export function styleHints(prompt: string, styleId: string): string[] {
  const style = getStyle(styleId);
  const hints: string[] = [];
  if (!CAMERA_WORDS.test(prompt)) hints.push(`Camera: ${style.camera}.`);
  if (!LIGHT_WORDS.test(prompt)) hints.push(`Lighting: ${style.lighting}.`);
  return hints;
}

/**
 * The prompt as sent to a video model when it is not enhanced: the style's template around the
 * user's words, then the style's camera and lighting hints.
 */
export function applyStyle(prompt: string, styleId: string): string {
  const style = getStyle(styleId);
  const styled = style.template.replace("{prompt}", prompt.trim().replace(/[.\s]+$/, ""));
  return [styled, ...styleHints(prompt, styleId)].join(" ");
}

/**
 * The negative prompt for a model that takes one: the person's terms first, then the style's,
 * each term once (compared without case).
 */
export function mergeNegativePrompts(userNegative: string | null, styleId: string): string {
  const seen = new Set<string>();
  const terms: string[] = [];
  for (const term of `${userNegative ?? ""},${getStyle(styleId).negativePrompt}`.split(",")) {
    const t = term.trim().replace(/\s+/g, " ");
    if (t === "" || seen.has(t.toLowerCase())) continue;
    seen.add(t.toLowerCase());
    terms.push(t);
  }
  return terms.join(", ");
}
