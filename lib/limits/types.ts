import type { Env } from "@/lib/env";
import type { JobStore } from "@/lib/store/types";

/**
 * Limits on spending money, checked before anything is created or sent to an engine: videos per
 * browser and per network per hour, videos running at once per browser, a daily budget for the
 * whole site, and uses of the "Enhance" button (an LLM prediction each) per browser and per
 * network per hour, and for the whole site per hour. The counters are fixed windows kept by the
 * store (lib/limits/window-counters.ts). The per-network and site-wide counters are taken before
 * the per-browser one, and a refusal gives back what it took (a counter back at 0 is removed):
 * a refused request from a new browser leaves nothing in the store.
 *
 * Where: create-limits.ts and enhance-limits.ts (the checks), windows.ts (the hourly and daily
 * windows and their refusals), take-all.ts (taking and giving back), running.ts (open jobs per
 * browser), browser-lock.ts, ip-bucket.ts, wait.ts (how waits and counts read).
 */

export type LimitsEnv = Pick<
  Env,
  | "RATE_LIMITS"
  | "RATE_LIMIT_PER_IP_PER_HOUR"
  | "RATE_LIMIT_PER_BROWSER_PER_HOUR"
  | "MAX_RUNNING_JOBS_PER_BROWSER"
  | "MAX_QUEUED_JOBS_PER_BROWSER"
  | "DAILY_JOB_BUDGET"
  | "ENHANCE_LIMIT_PER_BROWSER_PER_HOUR"
  | "ENHANCE_LIMIT_PER_IP_PER_HOUR"
  | "ENHANCE_LIMIT_PER_SITE_PER_HOUR"
>;

export type LimitReason = "ip" | "browser" | "running" | "budget" | "site";

export type LimitRefusal = { ok: false; reason: LimitReason; retryAfterSeconds: number; message: string };

export type LimitResult = { ok: true } | LimitRefusal;

export type LimitsInput = {
  /** From `clientAddress(headers)`; "unknown" skips the per-network limit. */
  ip: string;
  ownerId: string;
  store: JobStore;
  now: number;
  env: LimitsEnv;
};
