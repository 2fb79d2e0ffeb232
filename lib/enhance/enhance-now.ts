import "server-only";
import { replicateConfigured } from "@/lib/engines";
import { startPrediction, toPrediction } from "@/lib/engines/replicate/replicate-engine";
import { replicateClient } from "@/lib/engines/replicate/client";
import { cleanEnhancerOutput, enhancerSystemPrompt, ruleEnhance } from "@/lib/enhance/rules";
import { ENHANCER_MODEL } from "@/lib/models/registry";

export type Enhanced = { enhanced: string; engine: "llm" | "rules"; note: string | null };

const WAIT_MS = 30_000;
const POLL_MS = 700;

/**
 * The "Enhance" button: rewrites a prompt now, for the person to read and edit before
 * generating. With a Replicate token an LLM does it (a prediction followed until it ends);
 * without one, or when the LLM fails or takes too long, the rule-based enhancer does, and says so.
 */
export async function enhanceNow(prompt: string, styleId: string, signal?: AbortSignal): Promise<Enhanced> {
  const rules = (note: string | null): Enhanced => ({ enhanced: ruleEnhance(prompt, styleId), engine: "rules", note });
  if (!replicateConfigured()) return rules("Rule-based enhancer: no LLM is configured.");
  try {
    const client = replicateClient();
    const created = await startPrediction(ENHANCER_MODEL.ref, ENHANCER_MODEL.toInput(prompt, enhancerSystemPrompt(styleId)), null);
    const deadline = Date.now() + WAIT_MS;
    let prediction = toPrediction(created);
    while (prediction.status === "starting" || prediction.status === "processing") {
      if (Date.now() > deadline || signal?.aborted) {
        await client.predictions.cancel(prediction.id).catch(() => undefined);
        return rules("The LLM took too long; the rule-based enhancer was used instead.");
      }
      await new Promise((r) => setTimeout(r, POLL_MS));
      prediction = toPrediction(await client.predictions.get(prediction.id));
    }
    const text = prediction.status === "succeeded" ? ENHANCER_MODEL.readOutput(prediction.output) : null;
    if (!text) return rules("The LLM gave no answer; the rule-based enhancer was used instead.");
    return { enhanced: cleanEnhancerOutput(text), engine: "llm", note: `Rewritten by ${ENHANCER_MODEL.label}.` };
  } catch (error) {
    const reason = error instanceof Error ? error.message : "unknown error";
    return rules(`The LLM enhancer failed (${reason}); the rule-based enhancer was used instead.`);
  }
}
