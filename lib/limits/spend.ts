import { isIP } from "node:net";
import type { Env } from "@/lib/env";
import { isTerminal } from "@/lib/core/job";
import { giveBack as giveBackOne, take, type Window } from "@/lib/limits/window-counters";
import type { JobStore } from "@/lib/store/types";

/**
 * Limits on spending money, checked before anything is created or sent to an engine: videos per
 * browser and per network per hour, videos running at once per browser, a daily budget for the
 * whole site, and uses of the "Enhance" button (an LLM prediction each) per browser and per
 * network per hour, and for the whole site per hour. The counters are fixed windows kept by the
 * store (lib/limits/window-counters.ts). The per-network and site-wide counters are taken before
 * the per-browser one, and a refusal gives back what it took (a counter back at 0 is removed):
 * a refused request from a new browser leaves nothing in the store.
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

const HOUR = 3600;
const DAY = 86_400;
const DAY_MS = DAY * 1000;
/** A running job frees its slot when it finishes; we cannot know when, so suggest a short wait. */
const RUNNING_RETRY_SECONDS = 30;
/**
 * Predictions time out after 30 minutes, so a job still open after two hours was lost (and is
 * left to reconciliation): it must not hold one of its owner's slots forever.
 */
const RUNNING_STALE_MS = 2 * 60 * 60 * 1000;
const RUNNING_SCAN = 50;
/** The per-browser lock around "count the open jobs, then create one". */
const LOCK_TTL_SECONDS = 30;
const LOCK_WAIT_MS = 5000;
const LOCK_POLL_MS = 25;

/** "12 minutes", "1 hour and 5 minutes", "less than a minute". */
export function formatWait(seconds: number): string {
  if (seconds < 60) return "less than a minute";
  const minutes = Math.ceil(seconds / 60);
  if (minutes < 60) return minutes === 1 ? "1 minute" : `${minutes} minutes`;
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  const h = hours === 1 ? "1 hour" : `${hours} hours`;
  if (rest === 0) return h;
  return `${h} and ${rest === 1 ? "1 minute" : `${rest} minutes`}`;
}

const videos = (n: number) => (n === 1 ? "1 video" : `${n} videos`);

/** Seconds from `now` to the next midnight UTC, when the daily budget starts again. */
function untilUtcMidnight(now: number): number {
  return Math.max(1, Math.ceil((DAY_MS - (now % DAY_MS)) / 1000));
}

/**
 * The counter key for an address. IPv6 is counted per /64: one home or phone usually gets a
 * whole /64, so counting single addresses would let it start videos without end.
 */
export function ipBucket(ip: string): string {
  if (isIP(ip) !== 6) return ip;
  const groups = expandIpv6(ip);
  return groups ? `${groups.slice(0, 4).join(":")}::/64` : ip;
}

function expandIpv6(ip: string): string[] | null {
  const [head = "", tail, extra] = ip.toLowerCase().split("::");
  if (extra !== undefined) return null;
  const part = (s: string) => (s ? s.split(":") : []);
  const left = part(head);
  const right = part(tail ?? "");
  // An embedded IPv4 tail (::ffff:1.2.3.4) takes two groups; only the first four matter here.
  const width = [...left, ...right].reduce((n, g) => n + (g.includes(".") ? 2 : 1), 0);
  const fill = tail === undefined ? [] : Array<string>(Math.max(0, 8 - width)).fill("0");
  return [...left, ...fill, ...right].map((g) => (g.includes(".") ? g : g.replace(/^0+(?=.)/, "")));
}

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

type Counted = Window & {
  reason: "browser" | "ip" | "budget" | "site";
  refusal: (retryAfterSeconds: number) => string;
};

/** A limit of 0 means unlimited. */
const active = (list: Counted[]) => list.filter((c) => c.limit > 0);

function createWindows({ ip, ownerId, now, env }: LimitsInput): Counted[] {
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
      refusal: (s) => `Your network has made its ${videos(perIp)} for the hour; you can make another in ${formatWait(s)}.`,
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
      refusal: (s) => `This browser has made its ${videos(perBrowser)} for the hour; you can make another in ${formatWait(s)}.`,
    },
  ]);
}

function enhanceWindows({ ip, ownerId, env }: LimitsInput): Counted[] {
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
      refusal: (s) => `Your network has used Enhance ${times(perIp)} this hour, as often as it can; you can use it again in ${formatWait(s)}.`,
    },
    {
      reason: "site",
      key: limitKeys.enhanceSite(),
      limit: perSite,
      windowSeconds: HOUR,
      refusal: (s) => `Enhance has been used ${times(perSite)} on this site this hour, as often as it can be; you can use it again in ${formatWait(s)}.`,
    },
    {
      reason: "browser",
      key: limitKeys.enhanceBrowser(ownerId),
      limit: perBrowser,
      windowSeconds: HOUR,
      refusal: (s) => `This browser has used Enhance ${times(perBrowser)} this hour, as often as it can; you can use it again in ${formatWait(s)}.`,
    },
  ]);
}

/** Undoes the takes of these windows; a counter that cannot be reached keeps its count (it expires). */
function giveBackAll(store: JobStore, taken: readonly Window[]): Promise<unknown> {
  return Promise.all(taken.map((w) => giveBackOne(store, w).catch(() => undefined)));
}

/**
 * Takes one from each counter in turn. The first refusal gives back every one taken so far (its
 * own included), so a refused request uses up no limit and only what is let through is counted.
 */
async function takeAll(
  store: JobStore,
  windows: Counted[],
  now: number,
): Promise<{ ok: true; taken: Counted[] } | LimitRefusal> {
  const taken: Counted[] = [];
  const giveBack = () => giveBackAll(store, taken);
  try {
    for (const w of windows) {
      const result = await take(store, w);
      taken.push(w);
      if (!result.ok) {
        await giveBack();
        const retryAfterSeconds = w.reason === "budget" ? untilUtcMidnight(now) : result.retryAfterSeconds;
        return { ok: false, reason: w.reason, retryAfterSeconds, message: w.refusal(retryAfterSeconds) };
      }
    }
    return { ok: true, taken };
  } catch (error) {
    await giveBack();
    throw error;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits a little for the per-browser lock; false when another request keeps holding it. */
async function lock(store: JobStore, key: string): Promise<boolean> {
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    if (await store.setOnce(key, LOCK_TTL_SECONDS)) return true;
    if (Date.now() >= deadline) return false;
    await sleep(LOCK_POLL_MS);
  }
}

async function openJobs(store: JobStore, ownerId: string, now: number): Promise<number> {
  const { jobs } = await store.listByOwner(ownerId, { limit: RUNNING_SCAN });
  return jobs.filter((j) => !isTerminal(j.status) && now - j.createdAt < RUNNING_STALE_MS).length;
}

function runningRefusal(open: number): LimitRefusal {
  return {
    ok: false,
    reason: "running",
    retryAfterSeconds: RUNNING_RETRY_SECONDS,
    message:
      open === 1
        ? "Your video is still being made; you can start another as soon as it finishes."
        : `You already have ${videos(open)} being made or waiting in line; you can start another as soon as one of them finishes.`,
  };
}

/** A group whose members do not all fit among the running jobs allowed; all are refused together. */
function groupRefusal(count: number, maxRunning: number, running: number): LimitRefusal {
  return {
    ok: false,
    reason: "running",
    retryAfterSeconds: RUNNING_RETRY_SECONDS,
    message:
      count > maxRunning
        ? `This site takes at most ${videos(maxRunning)} per browser at once (running or waiting in line), so ${count} at once cannot start; make fewer.`
        : `These ${count} videos need ${count} free places of the ${maxRunning} this browser has, and ${running} ${running === 1 ? "is" : "are"} taken; start them when ${running === 1 ? "that video finishes" : "those videos finish"}.`,
  };
}

/**
 * Unfinished jobs one browser may have: its share of the running slots plus its place in line
 * (MAX_QUEUED_JOBS_PER_BROWSER). 0: no cap (a share of 0 means the browser's jobs are not capped).
 */
export function openJobsCap(env: Pick<LimitsEnv, "MAX_RUNNING_JOBS_PER_BROWSER" | "MAX_QUEUED_JOBS_PER_BROWSER">): number {
  return env.MAX_RUNNING_JOBS_PER_BROWSER > 0 ? env.MAX_RUNNING_JOBS_PER_BROWSER + env.MAX_QUEUED_JOBS_PER_BROWSER : 0;
}

/**
 * Creates a job only if this browser may start one now: the hourly and daily counters first (one
 * command each), then the browser's open jobs. `create` must store the job (and nothing else
 * that costs money: the engine starts after). Counting the open jobs and creating the new one
 * happen under a per-browser lock, so two requests at once cannot both see a free slot. When
 * `create` throws, the counters are given back and the error passes through.
 */
export async function withinCreateLimits<T>(
  input: LimitsInput,
  create: () => Promise<T>,
  /** Jobs `create` stores at once (the members of a group): each is counted, and all are refused together. */
  count = 1,
): Promise<{ ok: true; value: T } | LimitRefusal> {
  const { ownerId, store, now, env } = input;
  if (!env.RATE_LIMITS) return { ok: true, value: await create() };

  // One take per job from every counter; the first refusal gives back all taken so far.
  const windows = createWindows(input).flatMap((w) => Array.from({ length: count }, () => w));
  const counted = await takeAll(store, windows, now);
  if (!counted.ok) return counted;
  const giveBack = () => giveBackAll(store, counted.taken);

  try {
    const maxRunning = openJobsCap(env);
    if (maxRunning <= 0) return { ok: true, value: await create() };
    const key = limitKeys.creating(ownerId);
    if (!(await lock(store, key))) {
      await giveBack();
      return { ok: false, reason: "running", retryAfterSeconds: 5, message: "Another video from this browser is being started; try again in a moment." };
    }
    try {
      const running = await openJobs(store, ownerId, now);
      if (running + count > maxRunning) {
        await giveBack();
        return count > 1 ? groupRefusal(count, maxRunning, running) : runningRefusal(running);
      }
      return { ok: true, value: await create() };
    } finally {
      await store.forget(key).catch(() => undefined);
    }
  } catch (error) {
    await giveBack();
    throw error;
  }
}

/**
 * Whether this browser may use "Enhance" now: per network, for the whole site and per browser,
 * each per hour. An allowed use is counted (it may start an LLM prediction).
 */
export async function checkEnhanceLimits(input: LimitsInput): Promise<LimitResult> {
  if (!input.env.RATE_LIMITS) return { ok: true };
  const counted = await takeAll(input.store, enhanceWindows(input), input.now);
  return counted.ok ? { ok: true } : counted;
}
