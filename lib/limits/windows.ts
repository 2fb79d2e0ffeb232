import { ipBucket } from "@/lib/limits/ip-bucket";
import type { LimitsInput } from "@/lib/limits/types";
import { formatWait, videos } from "@/lib/limits/wait";
import type { Window } from "@/lib/limits/window-counters";

const HOUR = 3600;
const DAY = 86_400;
const DAY_MS = DAY * 1000;

export const limitKeys = {
  browser: (ownerId: string) => `limit:browser:${ownerId}`,
  ip: (ip: string) => `limit:ip:${ipBucket(ip)}`,
  /** One counter per UTC day, so the budget starts again at midnight UTC. */
  budget: (now: number) => `limit:budget:${new Date(now).toISOString().slice(0, 10)}`,
  enhanceBrowser: (ownerId: string) => `limit:enhance:browser:${ownerId}`,
  enhanceIp: (ip: string) => `limit:enhance:ip:${ipBucket(ip)}`,
  enhanceSite: () => "limit:enhance:site",
  creating: (ownerId: string) => `limit:creating:${ownerId}`,
};

/** A counted window, what it limits and the message a refusal by it shows. */
export type Counted = Window & {
  reason: "browser" | "ip" | "budget" | "site";
  refusal: (retryAfterSeconds: number) => string;
};

/** Seconds from `now` to the next midnight UTC, when the daily budget starts again. */
export function untilUtcMidnight(now: number): number {
  return Math.max(1, Math.ceil((DAY_MS - (now % DAY_MS)) / 1000));
}

/** A limit of 0 means unlimited. */
const active = (list: Counted[]) => list.filter((c) => c.limit > 0);

export function createWindows({ ip, ownerId, now, env }: LimitsInput): Counted[] {
  const perBrowser = env.RATE_LIMIT_PER_BROWSER_PER_HOUR;
  const perIp = env.RATE_LIMIT_PER_IP_PER_HOUR;
  // The network and the day first: what they refuse never gets a per-browser counter.
  return active([
    {
      reason: "ip",
      key: limitKeys.ip(ip),
      // Without a known address every visitor would share one counter: skip it instead.
      limit: ip === "unknown" ? 0 : perIp,
      windowSeconds: HOUR,
      refusal: (s) =>
        `Your network has made its ${videos(perIp)} for the hour; you can make another in ${formatWait(s)}.`,
    },
    {
      reason: "budget",
      key: limitKeys.budget(now),
      limit: env.DAILY_JOB_BUDGET,
      // A day; the key is the UTC date, so the budget starts again at midnight UTC.
      windowSeconds: DAY,
      refusal: (s) =>
        `This site has made all ${videos(env.DAILY_JOB_BUDGET)} it can make today; you can make another in ${formatWait(s)} (at midnight UTC).`,
    },
    {
      reason: "browser",
      key: limitKeys.browser(ownerId),
      limit: perBrowser,
      windowSeconds: HOUR,
      refusal: (s) =>
        `This browser has made its ${videos(perBrowser)} for the hour; you can make another in ${formatWait(s)}.`,
    },
  ]);
}

export function enhanceWindows({ ip, ownerId, env }: LimitsInput): Counted[] {
  const times = (n: number) => (n === 1 ? "1 time" : `${n} times`);
  const perBrowser = env.ENHANCE_LIMIT_PER_BROWSER_PER_HOUR;
  const perIp = env.ENHANCE_LIMIT_PER_IP_PER_HOUR;
  const perSite = env.ENHANCE_LIMIT_PER_SITE_PER_HOUR;
  return active([
    {
      reason: "ip",
      key: limitKeys.enhanceIp(ip),
      limit: ip === "unknown" ? 0 : perIp,
      windowSeconds: HOUR,
      refusal: (s) =>
        `Your network has used Enhance ${times(perIp)} this hour, as often as it can; you can use it again in ${formatWait(s)}.`,
    },
    {
      reason: "site",
      key: limitKeys.enhanceSite(),
      limit: perSite,
      windowSeconds: HOUR,
      refusal: (s) =>
        `Enhance has been used ${times(perSite)} on this site this hour, as often as it can be; you can use it again in ${formatWait(s)}.`,
    },
    {
      reason: "browser",
      key: limitKeys.enhanceBrowser(ownerId),
      limit: perBrowser,
      windowSeconds: HOUR,
      refusal: (s) =>
        `This browser has used Enhance ${times(perBrowser)} this hour, as often as it can; you can use it again in ${formatWait(s)}.`,
    },
  ]);
}
