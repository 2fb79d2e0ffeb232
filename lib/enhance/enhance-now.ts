import "server-only";
import { getEngine, replicateConfigured } from "@/lib/engines";
import { predictionEnded } from "@/lib/engines/types";
import { cleanEnhancerOutput, enhancerInput, ruleEnhance } from "@/lib/enhance/rules";
import { ENHANCER_MODEL } from "@/lib/models/registry";

export type Enhanced = { enhanced: string; engine: "llm" | "rules"; note: string | null };

const WAIT_MS = 30_000;
const POLL_MS = 700;

/**
 * The "Enhance" button: rewrites a prompt now, for the person to read and edit before
 * generating. With a Replicate token an LLM does it: the enhance step of the engine interface,
 * as in a job (same model, same input, same reading of its output), followed until it ends
 * rather than through webhooks. Without one, or when the LLM fails or takes too long, the
 * rule-based enhancer does, and says so.
 */
export async function enhanceNow(prompt: string, styleId: string, signal?: AbortSignal): Promise<Enhanced> {
  const rules = (note: string | null): Enhanced => ({ enhanced: ruleEnhance(prompt, styleId), engine: "rules", note });
  if (!replicateConfigured()) return rules("Rule-based enhancer: no LLM is configured.");
  try {
    const engine = await getEngine("replicate");
    const { ref } = await engine.start({
      job: null,
      step: "enhance",
      webhookUrl: null,
      input: enhancerInput(prompt, styleId),
    });
    const deadline = Date.now() + WAIT_MS;
    let prediction = null;
    do {
      if (Date.now() > deadline || signal?.aborted) {
        await engine.cancel(ref).catch(() => undefined);
        return rules("The LLM took too long; the rule-based enhancer was used instead.");
      }
      await new Promise((r) => setTimeout(r, POLL_MS));
      prediction = await engine.get(ref);
    } while (prediction && !predictionEnded(prediction.status));
    const text = prediction?.status === "succeeded" ? ENHANCER_MODEL.readOutput(prediction.output) : null;
    if (!text) return rules("The LLM gave no answer; the rule-based enhancer was used instead.");
    return { enhanced: cleanEnhancerOutput(text), engine: "llm", note: `Rewritten by ${ENHANCER_MODEL.label}.` };
  } catch (error) {
    const reason = error instanceof Error ? error.message : "unknown error";
    return rules(`The LLM enhancer failed (${reason}); the rule-based enhancer was used instead.`);
  }
}
