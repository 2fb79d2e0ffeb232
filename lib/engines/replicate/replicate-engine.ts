import "server-only";
import type Replicate from "replicate";
import type { Prediction as ReplicatePrediction } from "replicate";
import {
  apiErrorStatus,
  createPrediction,
  replicateClient,
  toEngineError,
  type RetryPolicy,
} from "@/lib/engines/replicate/client";
import { EngineError, PREDICTION_STATUSES, type Engine, type Prediction, type StartRequest } from "@/lib/engines/types";
import type { Job, StepName } from "@/lib/core/job";
import { replicateTarget, type ModelTarget } from "@/lib/models/registry";

/** Always sent explicitly: Replicate's documented default differs between pages. */
export const WEBHOOK_EVENTS = ["start", "output", "logs", "completed"] as const;

export type ReplicateEngineDeps = { client?: Replicate; retry?: Partial<RetryPolicy> };

// Prediction ids are lowercase base32; anything else must not reach a URL path of the API.
const PREDICTION_ID = /^[a-z0-9]{1,64}$/;

/** The model a step runs on Replicate (the registry decides): the enhancer, the job's video model, or the sound model. */
export function modelTargetForStep(job: Pick<Job, "model"> | null, step: StepName): ModelTarget {
  const target = replicateTarget(job?.model ?? null, step);
  if (target) return target;
  if (step === "generate")
    throw new EngineError(`The model ${job?.model ?? "(none)"} does not run on Replicate.`, "invalid_input");
  throw new EngineError(`The ${step} step does not run on Replicate.`, "unknown");
}

/** Creates a prediction, with updates POSTed to webhookUrl when one is given. */
export async function startPrediction(
  ref: ModelTarget,
  input: Record<string, unknown>,
  webhookUrl: string | null,
  deps: ReplicateEngineDeps = {},
): Promise<ReplicatePrediction> {
  const client = deps.client ?? replicateClient();
  const webhook = webhookUrl ? { webhook: webhookUrl, webhook_events_filter: [...WEBHOOK_EVENTS] } : {};
  const params = "model" in ref ? { model: ref.model, input, ...webhook } : { version: ref.version, input, ...webhook };
  return createPrediction(client, params, deps.retry);
}

export function toPrediction(p: ReplicatePrediction): Prediction {
  const status = PREDICTION_STATUSES.find((s) => s === p.status);
  if (!status) throw new EngineError(`Replicate reported an unknown status: ${String(p.status)}`, "unknown");
  return {
    id: p.id,
    status,
    logs: p.logs ?? null,
    output: p.output ?? null,
    error: p.error ?? null,
    created_at: p.created_at ?? null,
    started_at: p.started_at ?? null,
    completed_at: p.completed_at ?? null,
    model: p.model,
    version: p.version,
    data_removed: p.data_removed ?? false,
    input: p.input && typeof p.input === "object" ? (p.input as Record<string, unknown>) : null,
    webhook: typeof (p as { webhook?: unknown }).webhook === "string" ? (p as { webhook: string }).webhook : null,
  };
}

/** Pages of `GET /v1/predictions` (100 each) looked through at most, newest first, per search. */
const MAX_LIST_PAGES = 50;

export class ReplicateEngine implements Engine {
  readonly id = "replicate" as const;

  constructor(private readonly deps: ReplicateEngineDeps = {}) {}

  private client(): Replicate {
    return this.deps.client ?? replicateClient();
  }

  /**
   * `input` is the model's ready input (step-input.ts); the step's model is the registry's choice.
   * A 429 is not waited out here: it fails with "rate_limited" and the job goes back in line.
   */
  async start({ job, step, webhookUrl, input }: StartRequest): Promise<{ ref: string }> {
    const prediction = await startPrediction(modelTargetForStep(job, step), input, webhookUrl, {
      ...this.deps,
      retry: { retryRateLimited: false, ...this.deps.retry },
      client: this.client(),
    });
    return { ref: prediction.id };
  }

  /** A prediction Replicate does not know (404) has nothing left to stop. */
  async cancel(ref: string): Promise<void> {
    if (!PREDICTION_ID.test(ref)) return;
    try {
      await this.client().predictions.cancel(ref);
    } catch (err) {
      if (apiErrorStatus(err) === 404) return;
      throw toEngineError(err);
    }
  }

  /** Follows `next` until the predictions are older than `since`; fails rather than answer from a partial list. */
  async listSince(since: number): Promise<Prediction[]> {
    const client = this.client();
    const found: Prediction[] = [];
    let pages = 0;
    try {
      for await (const page of client.paginate(client.predictions.list)) {
        for (const item of page) {
          const created = Date.parse(item.created_at ?? "");
          if (Number.isFinite(created) && created < since) return found;
          const status = PREDICTION_STATUSES.find((s) => s === item.status);
          if (status) found.push(toPrediction(item));
        }
        if (++pages >= MAX_LIST_PAGES) {
          throw new EngineError(
            `More than ${MAX_LIST_PAGES} pages of predictions since the step started; not searched further.`,
            "unknown",
          );
        }
      }
    } catch (err) {
      throw toEngineError(err);
    }
    return found;
  }

  async get(ref: string): Promise<Prediction | null> {
    if (!PREDICTION_ID.test(ref)) return null;
    try {
      return toPrediction(await this.client().predictions.get(ref));
    } catch (err) {
      if (apiErrorStatus(err) === 404) return null;
      throw toEngineError(err);
    }
  }
}
