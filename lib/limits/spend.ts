import { isIP } from "node:net";
import type { Env } from "@/lib/env";
import { isTerminal } from "@/lib/jobs/schema";
import type { JobStore } from "@/lib/store/types";

/**
 * Limits on starting jobs, checked before anything is created or sent to an engine: videos per
 * browser and per network per hour, videos running at once per browser, and a daily budget for
 * the whole site. Counters are fixed windows kept by `store.increment`, so they behave the same
 * on every backend (Redis INCR + EXPIRE, Upstash over REST, the embedded kv file).
 *
 * @upstash/ratelimit is not used: it talks to Upstash's REST client only, so the TCP Redis and
 * embedded backends would need this code anyway, and its fixed window is the same algorithm.
 */

export type LimitsEnv = Pick<
  Env,
  | "RATE_LIMITS"
  | "RATE_LIMIT_PER_IP_PER_HOUR"
  | "RATE_LIMIT_PER_BROWSER_PER_HOUR"
  | "MAX_RUNNING_JOBS_PER_BROWSER"
  | "DAILY_JOB_BUDGET"
>;

export type LimitReason = "ip" | "browser" | "running" | "budget";

export type LimitResult =
  | { ok: true }
  | { ok: false; reason: LimitReason; retryAfterSeconds: number; message: string };

export type CheckCreateLimitsInput = {
  /** From `clientIp(headers)`; "unknown" skips the per-network limit. */
  ip: string;
  ownerId: string;
  store: JobStore;
  now: number;
  env: LimitsEnv;
};

const HOUR = 3600;
const DAY_MS = 86_400_000;
/** A running job frees its slot when it finishes; we cannot know when, so suggest a short wait. */
const RUNNING_RETRY_SECONDS = 30;
/**
 * Predictions time out after 30 minutes, so a job still open after two hours was lost (and is
 * left to reconciliation): it must not hold one of its owner's slots forever.
 */
const RUNNING_STALE_MS = 2 * 60 * 60 * 1000;
const RUNNING_SCAN = 50;

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

/**
 * The client's address from the proxy headers: the first X-Forwarded-For entry, else X-Real-IP.
 * Only a valid IPv4/IPv6 address is accepted (ports and brackets are stripped); otherwise
 * "unknown". Trust: Vercel sets both headers itself; a self-hosted proxy must overwrite them
 * (`proxy_set_header X-Forwarded-For $remote_addr;`) or clients can choose their own address.
 */
export function clientIp(headers: Pick<Headers, "get">): string {
  const forwarded = headers.get("x-forwarded-for")?.split(",")[0];
  for (const candidate of [forwarded, headers.get("x-real-ip")]) {
    const ip = normalizeIp(candidate);
    if (ip) return ip;
  }
  return "unknown";
}

function normalizeIp(value: string | null | undefined): string | null {
  if (!value) return null;
  let v = value.trim();
  if (v.length > 64) return null;
  const bracketed = v.match(/^\[([^\]]+)\](?::\d{1,5})?$/);
  if (bracketed) v = bracketed[1]!;
  else if (/^\d{1,3}(\.\d{1,3}){3}:\d{1,5}$/.test(v)) v = v.slice(0, v.lastIndexOf(":"));
  // Zone ids (fe80::1%eth0) say nothing about the client.
  v = v.replace(/%.*$/, "");
  const version = isIP(v);
  if (version === 0) return null;
  if (version === 6) {
    const mapped = v.toLowerCase().match(/^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/);
    if (mapped && isIP(mapped[1]!) === 4) return mapped[1]!;
    return v.toLowerCase();
  }
  return v;
}

export const limitKeys = {
  browser: (ownerId: string) => `limit:browser:${ownerId}`,
  ip: (ip: string) => `limit:ip:${ipBucket(ip)}`,
  /** One counter per UTC day, so the budget starts again at midnight UTC. */
  budget: (now: number) => `limit:budget:${new Date(now).toISOString().slice(0, 10)}`,
};

type Counter = {
  reason: "browser" | "ip" | "budget";
  key: string;
  limit: number;
  windowSeconds: number;
  refusal: (retryAfterSeconds: number) => string;
};

function counters({ ip, ownerId, now, env }: CheckCreateLimitsInput): Counter[] {
  const list: Counter[] = [
    {
      reason: "browser",
      key: limitKeys.browser(ownerId),
      limit: env.RATE_LIMIT_PER_BROWSER_PER_HOUR,
      windowSeconds: HOUR,
      refusal: (s) =>
        `You have made ${videos(env.RATE_LIMIT_PER_BROWSER_PER_HOUR)} in the last hour; you can make another in ${formatWait(s)}.`,
    },
    {
      reason: "ip",
      key: limitKeys.ip(ip),
      // Without a known address every visitor would share one counter: skip it instead.
      limit: ip === "unknown" ? 0 : env.RATE_LIMIT_PER_IP_PER_HOUR,
      windowSeconds: HOUR,
      refusal: (s) =>
        `Your network has made ${videos(env.RATE_LIMIT_PER_IP_PER_HOUR)} in the last hour; you can make another in ${formatWait(s)}.`,
    },
    {
      reason: "budget",
      key: limitKeys.budget(now),
      limit: env.DAILY_JOB_BUDGET,
      // A little past midnight, so the counter never outlives its day's key by less than a tick.
      windowSeconds: untilUtcMidnight(now) + 60,
      refusal: (s) =>
        `This site has made all ${videos(env.DAILY_JOB_BUDGET)} it can make today; you can make another in ${formatWait(s)} (at midnight UTC).`,
    },
  ];
  // A limit of 0 means unlimited.
  return list.filter((c) => c.limit > 0);
}

/**
 * Whether this browser may start a job now. Cheapest checks first: the three counters (one
 * command each), then the owner's open jobs (a page of records). A refused or failed check
 * gives back every counter it took, so only jobs that are allowed to start are counted.
 * Call it right before creating the job; `releaseCreateLimits` undoes it if the job then
 * could not be created.
 */
export async function checkCreateLimits(input: CheckCreateLimitsInput): Promise<LimitResult> {
  const { ownerId, store, now, env } = input;
  if (!env.RATE_LIMITS) return { ok: true };

  const taken: string[] = [];
  const giveBack = () => Promise.all(taken.map((key) => store.decrement(key).catch(() => undefined)));
  try {
    for (const counter of counters(input)) {
      const { count, resetInSeconds } = await store.increment(counter.key, counter.windowSeconds);
      taken.push(counter.key);
      if (count > counter.limit) {
        const retryAfterSeconds =
          counter.reason === "budget" ? untilUtcMidnight(now) : Math.max(1, resetInSeconds);
        await giveBack();
        return { ok: false, reason: counter.reason, retryAfterSeconds, message: counter.refusal(retryAfterSeconds) };
      }
    }

    const maxRunning = env.MAX_RUNNING_JOBS_PER_BROWSER;
    if (maxRunning > 0) {
      const { jobs } = await store.listByOwner(ownerId, { limit: RUNNING_SCAN });
      const running = jobs.filter((j) => !isTerminal(j.status) && now - j.createdAt < RUNNING_STALE_MS).length;
      if (running >= maxRunning) {
        await giveBack();
        return {
          ok: false,
          reason: "running",
          retryAfterSeconds: RUNNING_RETRY_SECONDS,
          message:
            running === 1
              ? "Your video is still being made; you can start another as soon as it finishes."
              : `You already have ${videos(running)} being made; you can start another as soon as one of them finishes.`,
        };
      }
    }
    return { ok: true };
  } catch (error) {
    await giveBack();
    throw error;
  }
}

/** Gives back the counters an allowed `checkCreateLimits` took, when the job could not be created after all. */
export async function releaseCreateLimits(input: CheckCreateLimitsInput): Promise<void> {
  if (!input.env.RATE_LIMITS) return;
  await Promise.all(counters(input).map((c) => input.store.decrement(c.key).catch(() => undefined)));
}
