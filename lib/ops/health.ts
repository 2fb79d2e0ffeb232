import "server-only";
import { replicateConfigured } from "@/lib/engines";
import { log } from "@/lib/log";
import { ffmpegPath } from "@/lib/media/ffmpeg";
import { getStore } from "@/lib/store";
import type { JobStore } from "@/lib/store/types";
import pkg from "@/package.json";

/**
 * What /api/health reports: whether the store answers (and how fast), whether the local engine
 * can run (its ffmpeg binary), and whether Replicate is configured. Replicate is not called:
 * a monitor polling this endpoint must not spend the API's rate limit or time.
 */
export type HealthReport = {
  ok: boolean;
  store: { kind: JobStore["kind"]; ok: boolean; latencyMs: number; error?: string };
  engines: { local: { ok: boolean; ffmpeg: boolean }; replicate: { configured: boolean } };
  version: string;
};

export type HealthDeps = {
  store: JobStore;
  replicateConfigured: boolean;
  ffmpeg?: () => Promise<string>;
  version?: string;
  /** The store counts as down when it does not answer within this time. */
  timeoutMs?: number;
};

const PING_TIMEOUT_MS = 2000;

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

export async function checkHealth(deps: HealthDeps): Promise<HealthReport> {
  const started = performance.now();
  let storeError: string | undefined;
  try {
    await withTimeout(deps.store.ping(), deps.timeoutMs ?? PING_TIMEOUT_MS);
  } catch (error) {
    // The cause (host names, ports) stays in the logs; the public answer only says which part is down.
    storeError = "The job store is unreachable.";
    log.warn({ err: error instanceof Error ? error.message : String(error) }, "health check: store unreachable");
  }
  const latencyMs = Math.round(performance.now() - started);
  const ffmpeg = await (deps.ffmpeg ?? ffmpegPath)().then(
    () => true,
    () => false,
  );
  const storeOk = storeError === undefined;
  return {
    ok: storeOk,
    store: { kind: deps.store.kind, ok: storeOk, latencyMs, ...(storeError ? { error: storeError } : {}) },
    engines: { local: { ok: ffmpeg, ffmpeg }, replicate: { configured: deps.replicateConfigured } },
    version: deps.version ?? pkg.version,
  };
}

/** 200 when the store answers, 503 (same shape) when it does not; never cached. */
export async function healthResponse(): Promise<Response> {
  const report = await checkHealth({ store: getStore(), replicateConfigured: replicateConfigured() });
  return Response.json(report, {
    status: report.ok ? 200 : 503,
    headers: { "Cache-Control": "no-store", ...(report.ok ? {} : { "Retry-After": "5" }) },
  });
}
