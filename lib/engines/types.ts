import type { Job, StepName } from "@/lib/core/job";

/**
 * A prediction as engines report it: the shape of Replicate's prediction object, which the
 * local preview engine also posts to /api/webhook, so that one path applies both.
 */
export const PREDICTION_STATUSES = ["starting", "processing", "succeeded", "failed", "canceled", "aborted"] as const;
export type PredictionStatus = (typeof PREDICTION_STATUSES)[number];

/** A prediction in one of these has ended: nothing about it changes any more. */
export const ENDED_PREDICTION_STATUSES: readonly PredictionStatus[] = ["succeeded", "failed", "canceled", "aborted"];

export function predictionEnded(status: string): boolean {
  return (ENDED_PREDICTION_STATUSES as readonly string[]).includes(status);
}

export type Prediction = {
  id: string;
  status: PredictionStatus;
  logs?: string | null;
  output?: unknown;
  error?: unknown;
  created_at?: string | null;
  started_at?: string | null;
  completed_at?: string | null;
  model?: string;
  version?: string;
  data_removed?: boolean;
  /** What the create sent: its input and webhook URL (Replicate returns them with a prediction). */
  input?: Record<string, unknown> | null;
  webhook?: string | null;
};

export type StartRequest = {
  /** The job the step belongs to; null for a step run on its own (the Enhance button's rewrite). */
  job: Job | null;
  step: StepName;
  /** Full URL Replicate (or the local engine) must POST prediction updates to, or null when none can reach us. */
  webhookUrl: string | null;
  /** Input of the step: the model's input for Replicate; prompt/style/params or video/style for the local engine. */
  input: Record<string, unknown>;
};

export interface Engine {
  readonly id: "local" | "replicate";
  /** Starts one step; resolves with the engine's reference (prediction id) once accepted. */
  start(req: StartRequest): Promise<{ ref: string }>;
  /** Asks the engine to stop a prediction; resolves when the request was accepted. */
  cancel(ref: string): Promise<void>;
  /**
   * The engine's current view of a prediction, for reconciliation when webhooks are lost.
   * null means the engine does not know the reference (e.g. the local render died with the
   * process that ran it).
   */
  get(ref: string): Promise<Prediction | null>;
  /**
   * Predictions created at or after `since` (ms; the engine's clock), newest first: how a run
   * whose create was answered but never recorded is found. Items may lack input and webhook
   * (then `get` has them). Absent on engines whose runs die with the process (local).
   */
  listSince?(since: number): Promise<Prediction[]>;
}

/** An error starting a step, with a message a user understands. */
/** Marks an EngineError of any copy of this module (see EngineError's `Symbol.hasInstance`). */
const ENGINE_ERROR = Symbol.for("prompt2video.EngineError");

export class EngineError extends Error {
  readonly [ENGINE_ERROR] = true;

  /**
   * `instanceof` across the server's bundles: instrumentation.ts (the sweeper, the Node server's
   * answers) and each route are separate module graphs in one process that share one set of
   * engines (lib/engines/index.ts), so an EngineError may come from another copy of this class.
   */
  static [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === "object" && value !== null && ENGINE_ERROR in value;
  }

  /** "rate_limited": how long the engine asked us to wait, when it said. */
  readonly retryAfterSeconds: number | null;

  constructor(
    message: string,
    /** "outcome_unknown": a create that may or may not have started a run (never retried blindly). */
    readonly code:
      "auth" | "billing" | "invalid_input" | "rate_limited" | "unavailable" | "outcome_unknown" | "unknown",
    options?: { cause?: unknown; retryAfterSeconds?: number | null },
  ) {
    super(message, options);
    this.retryAfterSeconds = options?.retryAfterSeconds ?? null;
    this.name = "EngineError";
  }
}
