import { takeAll } from "@/lib/limits/take-all";
import type { LimitResult, LimitsInput } from "@/lib/limits/types";
import { enhanceWindows } from "@/lib/limits/windows";

/**
 * Whether this browser may use "Enhance" now: per network, for the whole site and per browser,
 * each per hour. An allowed use is counted (it may start an LLM prediction).
 */
export async function checkEnhanceLimits(input: LimitsInput): Promise<LimitResult> {
  if (!input.env.RATE_LIMITS) return { ok: true };
  const counted = await takeAll(input.store, enhanceWindows(input), input.now);
  return counted.ok ? { ok: true } : counted;
}
