import "server-only";
import { constants as fsConstants } from "node:fs";
import { access } from "node:fs/promises";
import { replicateConfigured } from "@/lib/engines";
import { apiErrorStatus, replicateClient } from "@/lib/engines/replicate/client";
import { env } from "@/lib/env";
import { log } from "@/lib/log";
import { ffmpegPath } from "@/lib/media/ffmpeg";
import { getStore } from "@/lib/store";
import { STORE_RETRY_SECONDS, type JobStore } from "@/lib/store/types";
import pkg from "@/package.json";

/**
 * What /api/health reports: whether the store answers (and how fast), whether the local engine
 * can run (its ffmpeg binary is there and executable), and whether Replicate accepts the token.
 *
 * - `status: "down"` (HTTP 503): this instance cannot work. The store does not answer, or ffmpeg
 *   is missing, so every local job would fail. A load balancer should take it out of rotation.
 * - `status: "degraded"` (HTTP 200): Replicate is configured but does not accept the token or
 *   does not answer, or the store holds records it cannot read (set aside: `store.unreadable`
 *   counts them, the logs name the files). Taking the instance out would not help, and pages,
 *   files and the local engine still work.
 * - `status: "ok"` (HTTP 200), and `ok: true`: everything configured is ready.
 *
 * Replicate is asked at most once a minute per instance (GET /v1/account, a bounded wait), so a
 * monitor polling this endpoint does not spend the API's rate limit.
 */
export type HealthStatus = "ok" | "degraded" | "down";

export type ReplicateHealth = { configured: false } | { configured: true; ok: boolean; error?: string };

export type HealthReport = {
  ok: boolean;
  status: HealthStatus;
  store: { kind: JobStore["kind"]; ok: boolean; latencyMs: number; error?: string; unreadable?: number };
  engines: { local: { ok: boolean; ffmpeg: boolean }; replicate: ReplicateHealth };
  version: string;
};

export type HealthDeps = {
  store: JobStore;
  /** Null when Replicate is not configured; otherwise resolves when it accepts the token. */
  replicate: (() => Promise<void>) | null;
  ffmpeg?: () => Promise<string>;
  version?: string;
  /** The store, and Replicate, count as down when they do not answer within this time. */
  timeoutMs?: number;
};

const PING_TIMEOUT_MS = 2000;
/** How long a Replicate answer is reused. */
export const REPLICATE_CHECK_TTL_MS = 60_000;

async function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

const message = (error: unknown) => (error instanceof Error ? error.message : String(error));

async function checkReplicate(check: () => Promise<void>, timeoutMs: number): Promise<ReplicateHealth> {
  try {
    await withTimeout(check(), timeoutMs);
    return { configured: true, ok: true };
  } catch (error) {
    const status = apiErrorStatus(error);
    log.warn({ err: message(error), status }, "health check: Replicate is not ready");
    // The public answer says what is wrong, not where (no URLs, no token).
    if (status === 401 || status === 403)
      return { configured: true, ok: false, error: "Replicate refused the API token." };
    if (status !== null) return { configured: true, ok: false, error: `Replicate answered ${status}.` };
    return { configured: true, ok: false, error: "Replicate did not answer." };
  }
}

/** The binary's path, checked again each time: ffmpegPath() remembers it once found. */
async function ffmpegExecutable(): Promise<string> {
  const binary = await ffmpegPath();
  await access(binary, fsConstants.X_OK);
  return binary;
}

export async function checkHealth(deps: HealthDeps): Promise<HealthReport> {
  const timeoutMs = deps.timeoutMs ?? PING_TIMEOUT_MS;
  const storeCheck = (async () => {
    const started = performance.now();
    try {
      await withTimeout(deps.store.ping(), timeoutMs);
      const latencyMs = Math.round(performance.now() - started);
      const unreadable = deps.store.unreadableRecords
        ? await withTimeout(deps.store.unreadableRecords(), timeoutMs)
        : 0;
      if (unreadable === 0) return { ok: true, latencyMs };
      log.warn({ unreadable }, "health check: the store holds unreadable records (set aside in quarantine)");
      return {
        ok: true,
        latencyMs,
        unreadable,
        error: `${unreadable} stored record${unreadable === 1 ? "" : "s"} cannot be read; set aside, nothing deleted.`,
      };
    } catch (error) {
      // The cause (host names, ports) stays in the logs; the public answer only says which part is down.
      log.warn({ err: message(error) }, "health check: store unreachable");
      return { ok: false, latencyMs: Math.round(performance.now() - started), error: "The job store is unreachable." };
    }
  })();
  const ffmpegCheck = (deps.ffmpeg ?? ffmpegExecutable)().then(
    () => true,
    (error: unknown) => {
      log.warn({ err: message(error) }, "health check: ffmpeg is not usable");
      return false;
    },
  );
  const replicateCheck: Promise<ReplicateHealth> = deps.replicate
    ? checkReplicate(deps.replicate, timeoutMs)
    : Promise.resolve({ configured: false });
  const [store, ffmpeg, replicate] = await Promise.all([storeCheck, ffmpegCheck, replicateCheck]);

  const degraded = (replicate.configured && !replicate.ok) || (store.unreadable ?? 0) > 0;
  const status: HealthStatus = !store.ok || !ffmpeg ? "down" : degraded ? "degraded" : "ok";
  return {
    ok: status === "ok",
    status,
    store: { kind: deps.store.kind, ...store },
    engines: { local: { ok: ffmpeg, ffmpeg }, replicate },
    version: deps.version ?? pkg.version,
  };
}

/**
 * One Replicate check shared by every health request for a minute (per token and API URL):
 * the answer, good or bad, is reused; a check in flight is awaited, not repeated.
 */
export function cachedCheck(
  check: () => Promise<void>,
  ttlMs = REPLICATE_CHECK_TTL_MS,
  now = () => Date.now(),
): () => Promise<void> {
  let last: { at: number; result: Promise<void> } | null = null;
  return () => {
    if (!last || now() - last.at >= ttlMs) {
      const result = check();
      result.catch(() => undefined);
      last = { at: now(), result };
    }
    return last.result;
  };
}

let replicateCheck: { key: string; check: () => Promise<void> } | null = null;

function defaultReplicateCheck(): (() => Promise<void>) | null {
  if (!replicateConfigured()) return null;
  const { REPLICATE_API_TOKEN, REPLICATE_BASE_URL } = env();
  const key = `${REPLICATE_API_TOKEN}\n${REPLICATE_BASE_URL ?? ""}`;
  if (replicateCheck?.key !== key) {
    const check = cachedCheck(async () => {
      await replicateClient().accounts.current({ signal: AbortSignal.timeout(PING_TIMEOUT_MS) });
    });
    replicateCheck = { key, check };
  }
  return replicateCheck.check;
}

/** 200 when this instance can work (status ok or degraded), 503 (same shape) when it cannot; never cached. */
export async function healthResponse(overrides: Partial<HealthDeps> = {}): Promise<Response> {
  const report = await checkHealth({ store: getStore(), replicate: defaultReplicateCheck(), ...overrides });
  const down = report.status === "down";
  return Response.json(report, {
    status: down ? 503 : 200,
    headers: { "Cache-Control": "no-store", ...(down ? { "Retry-After": String(STORE_RETRY_SECONDS) } : {}) },
  });
}
