import { applyStyle, getStyle } from "@/lib/styles";
import { ENHANCER_MODEL } from "@/lib/models/registry";

/**
 * The rule-based prompt enhancer: deterministic and style-aware. It runs when no LLM is
 * configured, and takes over when the LLM step fails. It only adds what a video model needs
 * and a short prompt lacks: motion, camera and lighting, in the style's words.
 */

const MOTION_WORDS =
  /\b(moves?|moving|runs?|running|walks?|walking|flies|flying|flows?|flowing|dances?|dancing|spins?|spinning|falls?|falling|drifts?|drifting|rises?|rising|swims?|swimming|jumps?|jumping|waves?|waving|rolls?|rolling)\b/i;

export function ruleEnhance(prompt: string, styleId: string): string {
  // The styled prompt already carries the style's camera and lighting hints.
  const parts = [applyStyle(prompt, styleId)];
  if (!MOTION_WORDS.test(prompt)) parts.push("Subtle natural motion throughout the shot.");
  parts.push("Coherent subject, smooth temporal consistency.");
  return parts.join(" ");
}

/** The system prompt the LLM enhancer runs under: short, visual, one paragraph. */
export function enhancerSystemPrompt(styleId: string): string {
  const style = getStyle(styleId);
  return [
    "You rewrite short ideas into prompts for a text-to-video model.",
    "Describe, in one paragraph of at most 80 words: the subject, the action, the setting, the camera movement and the lighting.",
    `The visual style is ${style.label.toLowerCase()}: ${style.description.toLowerCase()}; camera: ${style.camera}; lighting: ${style.lighting}.`,
    "Keep every element of the original idea. No lists, no quotes, no preamble: answer with the prompt only.",
  ].join(" ");
}

/** Strips what chat models wrap answers in ("Here is…", quotes), and caps the length. */
export function cleanEnhancerOutput(text: string, maxChars = 2000): string {
  let out = text.trim().replace(/^(here('s| is)[^:]*:)\s*/i, "");
  out = out
    .replace(/^["'“”]+|["'“”]+$/g, "")
    .replace(/\s+/g, " ")
    .trim();
  return out.slice(0, maxChars);
}

/** What the LLM enhancer gets for a prompt in a style: for a job's enhance step and the Enhance button alike. */
export function enhancerInput(prompt: string, styleId: string): Record<string, unknown> {
  return ENHANCER_MODEL.toInput(prompt, enhancerSystemPrompt(styleId));
}
