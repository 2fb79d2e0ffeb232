import "server-only";
import type { Engine, Prediction } from "@/lib/engines/types";
import type { Job, Step } from "@/lib/core/job";
import { stepInput } from "@/lib/jobs/domain/step-input";
import { replicateTarget, type ModelTarget } from "@/lib/models/registry";

/**
 * Exactly one paid run per step. Replicate has no idempotency key, so a create whose answer was
 * lost (the process died between the create and recording the prediction id, or the connection
 * broke) leaves a run nobody knows of. The step's claim is recorded before the create (state
 * running, its attempt, startedAt, no ref yet): that is its intent. Before such a step is ever
 * started again, Replicate's list of predictions since then is searched for the run, which is
 * then adopted (or, when there are several, the others canceled).
 *
 * A run is this step's when what the create sent says so: the webhook URL names the job, step
 * and attempt (with APP_URL); without a webhook, the same model and exactly the same input. Two
 * jobs with the same input started within minutes of each other, without APP_URL, may then share
 * one run: nothing is paid twice, both show the same video.
 */

/** How far Replicate's clock may be behind ours. */
const CLOCK_SKEW_MS = 2 * 60_000;

export type FoundRun = { prediction: Prediction; by: "webhook" | "input" };

/** JSON with object keys sorted, so that equal inputs compare equal whatever their key order. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
        )
      : v,
  );
}

function sameModel(p: Prediction, target: ModelTarget): boolean {
  if ("model" in target) return p.model === target.model;
  return p.version === target.version.split(":").pop();
}

/** Whether a webhook URL names this job, step and attempt. */
function webhookNames(url: string, job: Job, step: Step): boolean {
  try {
    const q = new URL(url).searchParams;
    return q.get("job") === job.id && q.get("step") === step.name && q.get("attempt") === String(step.attempt);
  } catch {
    return false;
  }
}

/** How a prediction (with its input and webhook) belongs to this attempt of the step, if it does. */
export function belongsTo(p: Prediction, job: Job, step: Step): FoundRun["by"] | null {
  if (p.webhook) return webhookNames(p.webhook, job, step) ? "webhook" : null;
  const expected = stepInput(job, step.name, "replicate");
  const target = replicateTarget(job.model, step.name);
  if (!target || !sameModel(p, target) || !p.input) return null;
  // Frame images go up as files and come back as URLs of Replicate's files API: not compared.
  const frameFields = new Set((expected.frames ?? []).map((f) => f.field));
  const sent = Object.fromEntries(Object.entries(p.input).filter(([k]) => !frameFields.has(k)));
  return canonical(sent) === canonical(expected.input) ? "input" : null;
}

/**
 * The runs created for this attempt of a Replicate step, oldest first. Throws when Replicate
 * cannot be asked: then nothing may be concluded, and the caller tries again later.
 */
export async function findCreatedRuns(engine: Engine, job: Job, step: Step): Promise<FoundRun[]> {
  if (!engine.listSince) return [];
  const since = (step.startedAt ?? job.lastEventAt) - CLOCK_SKEW_MS;
  const target = replicateTarget(job.model, step.name);
  const found: FoundRun[] = [];
  for (const item of await engine.listSince(since)) {
    // The list may leave out what the create sent; the prediction itself has it.
    if (target && item.model && !sameModel(item, target)) continue;
    const full = item.input === undefined || item.input === null ? await engine.get(item.id) : item;
    const by = full ? belongsTo(full, job, step) : null;
    if (full && by) found.push({ prediction: full, by });
  }
  // Runs named by their webhook are certain; input matches only count when there are none.
  const certain = found.filter((f) => f.by === "webhook");
  const runs = certain.length > 0 ? certain : found;
  return runs.sort((a, b) => Date.parse(a.prediction.created_at ?? "") - Date.parse(b.prediction.created_at ?? ""));
}
