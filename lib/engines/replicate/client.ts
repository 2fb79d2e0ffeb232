import "server-only";
import Replicate, { type Prediction as ReplicatePrediction } from "replicate";
import { EngineError } from "@/lib/engines/types";
import { env } from "@/lib/env";

export const DEFAULT_REPLICATE_BASE_URL = "https://api.replicate.com/v1";

type FetchFn = (input: Request | string | URL, init?: RequestInit) => Promise<Response>;

/** One request to Replicate (connect, answer and body) may take this long before it is abandoned. */
export const REQUEST_TIMEOUT_MS = 20_000;

/**
 * The client (replicate 1.4, lib/util.js `withAutomaticRetries`) retries 429s, 5xx on GET and any
 * thrown fetch error up to five times without a real delay: its sleep only runs for integer
 * delays, which its random jitter rules out, and it ignores Retry-After. Worse, it would resend a
 * create after a network error that may already have started a paid run. It passes the same
 * `init` object to every try of one call, so this fetch answers the later tries with the outcome
 * of the first: one network request per client call, and backoff happens in createPrediction.
 * It also sets `cache: "no-store"`, without which Next.js may serve a cached prediction, and a
 * timeout: a request that hangs would otherwise hold its caller (and the job's step) forever.
 */
export function singleShotFetch(inner: FetchFn = globalThis.fetch, timeoutMs = REQUEST_TIMEOUT_MS): FetchFn {
  const outcomes = new WeakMap<RequestInit, Promise<Response>>();
  const send = (input: Request | string | URL, init: RequestInit | undefined) => {
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = init?.signal ? AbortSignal.any([init.signal, timeout]) : timeout;
    return inner(input, { ...init, cache: "no-store", signal });
  };
  return (input, init) => {
    if (!init) return send(input, init);
    let outcome = outcomes.get(init);
    if (!outcome) {
      outcome = send(input, init);
      outcomes.set(init, outcome);
    }
    return outcome;
  };
}

export type ReplicateClientConfig = { auth: string; baseUrl?: string; fetch?: FetchFn; timeoutMs?: number };

export function createReplicateClient(config: ReplicateClientConfig): Replicate {
  return new Replicate({
    auth: config.auth,
    baseUrl: config.baseUrl ?? DEFAULT_REPLICATE_BASE_URL,
    userAgent: "prompt2video",
    // Outputs stay plain URL strings: FileOutput streams start downloading and serialise to {}.
    useFileOutput: false,
    fetch: singleShotFetch(config.fetch, config.timeoutMs),
  });
}

let cached: { key: string; client: Replicate } | null = null;

/** The app's client, from REPLICATE_API_TOKEN and REPLICATE_BASE_URL. */
export function replicateClient(): Replicate {
  const { REPLICATE_API_TOKEN: auth, REPLICATE_BASE_URL: baseUrl } = env();
  if (!auth) {
    throw new EngineError("Replicate is not configured on this server (REPLICATE_API_TOKEN is not set).", "auth");
  }
  const key = `${auth}\n${baseUrl ?? ""}`;
  if (cached?.key !== key) cached = { key, client: createReplicateClient({ auth, baseUrl }) };
  return cached.client;
}

export type RetryPolicy = {
  /** Attempts in all, the first included. */
  maxTries: number;
  /** Give up instead of waiting past this many ms after the first attempt. */
  maxTotalMs: number;
  /** First delay of the exponential backoff for failed connections (and 429 without Retry-After). */
  baseDelayMs: number;
  sleep: (ms: number) => Promise<void>;
  now: () => number;
  /**
   * Whether a 429 is waited out here. The pipeline says no: its job goes back in line for the
   * Retry-After instead of holding a slot (and a function) asleep.
   */
  retryRateLimited: boolean;
};

/**
 * Replicate's 429 says "resets in ~30s": two such waits fit. Bounded, because the job's step waits
 * on it: see CREATE_DEADLINE_MS.
 */
export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxTries: 4,
  maxTotalMs: 75_000,
  baseDelayMs: 1_000,
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  now: () => Date.now(),
  retryRateLimited: true,
};

/**
 * The longest a createPrediction call can take with the default policy: its last try starts
 * within maxTotalMs and is abandoned after the request timeout. Until then a step without a
 * prediction id is still being started, not lost (reconcile.ts waits longer than this).
 */
export const CREATE_DEADLINE_MS = DEFAULT_RETRY_POLICY.maxTotalMs + REQUEST_TIMEOUT_MS;

export type CreatePredictionParams = Parameters<Replicate["predictions"]["create"]>[0];

/**
 * predictions.create, retried with backoff (bounded): after a 429 (honouring Retry-After), a
 * connection that never reached Replicate, and a 5xx, which is Replicate's own answer that the
 * create failed. A create that went unanswered (a cut connection, a timeout) may have started a
 * run: it is not sent again, and fails with the code "outcome_unknown". Should a 5xx ever come
 * after a run did start, that run is an orphan: its first delivery names a prediction the step
 * does not wait for, and it is canceled (see isOrphan and cancelOrphan).
 */
export async function createPrediction(
  client: Replicate,
  params: CreatePredictionParams,
  policy: Partial<RetryPolicy> = {},
): Promise<ReplicatePrediction> {
  const p = { ...DEFAULT_RETRY_POLICY, ...policy };
  const startedAt = p.now();
  for (let attempt = 1; ; attempt++) {
    try {
      return await client.predictions.create(params);
    } catch (err) {
      const delay =
        !p.retryRateLimited && apiErrorStatus(err) === 429 ? null : retryDelayMs(err, attempt, p.baseDelayMs);
      if (delay === null || attempt >= p.maxTries || p.now() - startedAt + delay > p.maxTotalMs) {
        throw createError(err);
      }
      await p.sleep(delay);
    }
  }
}

type ApiErrorLike = Error & { response: Response };

export function isApiError(err: unknown): err is ApiErrorLike {
  return err instanceof Error && err.name === "ApiError" && (err as Partial<ApiErrorLike>).response instanceof Response;
}

/** HTTP status of a failed client call, or null when no answer came (network error). */
export function apiErrorStatus(err: unknown): number | null {
  return isApiError(err) ? err.response.status : null;
}

/** Replicate's error text; the client consumes the body and keeps it only inside its message. */
export function apiErrorDetail(err: ApiErrorLike): string | null {
  const body = /failed with status \d+[^:]*: ([\s\S]*)\.$/.exec(err.message)?.[1];
  if (!body) return null;
  try {
    const parsed = JSON.parse(body) as { detail?: unknown; title?: unknown };
    const text = [parsed.detail, parsed.title].find((v) => typeof v === "string" && v.trim() !== "");
    return typeof text === "string" ? text.trim() : null;
  } catch {
    return body.trim().slice(0, 300) || null;
  }
}

/** Seconds to wait after a 429: Retry-After (seconds or HTTP date), else "resets in ~Ns" in the detail. */
export function retryAfterSeconds(err: ApiErrorLike): number | null {
  const header = err.response.headers.get("retry-after");
  if (header) {
    const seconds = /^\d+$/.test(header.trim()) ? Number(header) : (Date.parse(header) - Date.now()) / 1000;
    if (Number.isFinite(seconds)) return Math.max(0, Math.ceil(seconds));
  }
  const fromDetail = /resets in ~?(\d+)\s*s/.exec(apiErrorDetail(err) ?? "")?.[1];
  return fromDetail ? Number(fromDetail) : null;
}

// Errors raised before the request reached Replicate: a retry cannot start a second paid run.
const CONNECT_ERRORS = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "UND_ERR_CONNECT_TIMEOUT", "ENETUNREACH"]);

function networkErrorCode(err: unknown): string | null {
  let cause: unknown = err instanceof Error ? err.cause : null;
  if (cause instanceof AggregateError) cause = cause.errors[0];
  const code = (cause as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : null;
}

function isConnectError(err: unknown): boolean {
  return !isApiError(err) && CONNECT_ERRORS.has(networkErrorCode(err) ?? "");
}

/** Failures Replicate answered (429, 5xx) or that never reached it are retried; nothing else is. */
function retryDelayMs(err: unknown, attempt: number, baseDelayMs: number): number | null {
  const backoff = baseDelayMs * 2 ** (attempt - 1);
  const status = apiErrorStatus(err);
  if (status === 429) {
    const seconds = retryAfterSeconds(err as ApiErrorLike);
    return seconds === null ? backoff : seconds * 1000;
  }
  if (status !== null && status >= 500) return backoff;
  return isConnectError(err) ? backoff : null;
}

/** A failed create: like toEngineError, but a request that may have reached Replicate is "outcome_unknown". */
function createError(err: unknown): EngineError {
  const error = toEngineError(err);
  const mayHaveArrived = error.code === "unavailable" && !isConnectError(err) && !isApiError(err);
  if (!mayHaveArrived) return error;
  return new EngineError(
    "Replicate did not confirm that the video started (the connection failed before it answered). It was not sent again, so that you are not charged twice. Please try again in a few minutes.",
    "outcome_unknown",
    { cause: err },
  );
}

/** Maps a client failure to an EngineError whose message a user understands. */
export function toEngineError(err: unknown): EngineError {
  if (err instanceof EngineError) return err;
  if (!isApiError(err)) {
    if (err instanceof Error && err.message === "Invalid webhook URL") {
      return new EngineError("The webhook URL of this server is invalid; check APP_URL.", "unknown", { cause: err });
    }
    return new EngineError("Replicate is not reachable right now. Please try again in a few minutes.", "unavailable", {
      cause: err,
    });
  }
  const status = err.response.status;
  const detail = apiErrorDetail(err);
  if (status === 401 || status === 403) {
    return new EngineError(
      "The Replicate API token was rejected, so videos cannot be made right now. The site owner needs to check REPLICATE_API_TOKEN.",
      "auth",
      { cause: err },
    );
  }
  if (status === 402) {
    return new EngineError(
      "The Replicate account has no credit left, so videos cannot be made right now. The site owner needs to add credit at replicate.com/account/billing.",
      "billing",
      { cause: err },
    );
  }
  if (status === 400 || status === 422) {
    return new EngineError(
      `Replicate refused the input for this model: ${detail ?? "invalid input"}`,
      "invalid_input",
      { cause: err },
    );
  }
  if (status === 429) {
    const said = retryAfterSeconds(err);
    const seconds = said ?? 30;
    return new EngineError(
      `Replicate is rate-limiting requests right now. Please try again in ${seconds} s.`,
      "rate_limited",
      { cause: err, retryAfterSeconds: said },
    );
  }
  if (status >= 500) {
    return new EngineError(
      `Replicate is having trouble right now (it answered HTTP ${status}). Please try again in a few minutes.`,
      "unavailable",
      { cause: err },
    );
  }
  return new EngineError(
    `Replicate answered with an error (HTTP ${status})${detail ? `: ${detail}` : "."}`,
    "unknown",
    { cause: err },
  );
}
