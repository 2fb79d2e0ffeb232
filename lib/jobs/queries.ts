import "server-only";
import { currentOwner } from "@/lib/auth/owner";
import { replicateConfigured } from "@/lib/engines";
import { toPublicJob } from "@/lib/jobs/public";
import { JOB_ID_PATTERN, type PublicJob } from "@/lib/jobs/schema";
import { availableModels, type ModelDef } from "@/lib/models/registry";
import { getStore } from "@/lib/store";

/** What the form needs to know of a model: plain data a client component can receive. */
export type ModelOption = Pick<ModelDef, "id" | "engine" | "label" | "description" | "params" | "ownAudio">;

export function homePageModels(): ModelOption[] {
  return availableModels(replicateConfigured()).map(({ id, engine, label, description, params, ownAudio }) => ({
    id,
    engine,
    label,
    description,
    params,
    ownAudio,
  }));
}

export async function getPublicJob(id: string): Promise<PublicJob | null> {
  if (!JOB_ID_PATTERN.test(id)) return null;
  const job = await getStore().get(id);
  return job ? toPublicJob(job) : null;
}

/** The job and whether this browser owns it (owners may cancel, delete and share). */
export async function getJobForViewer(id: string): Promise<{ job: PublicJob; isOwner: boolean } | null> {
  if (!JOB_ID_PATTERN.test(id)) return null;
  const job = await getStore().get(id);
  if (!job) return null;
  const owner = await currentOwner();
  return { job: toPublicJob(job), isOwner: owner !== null && owner === job.ownerId };
}
