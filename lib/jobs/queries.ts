import "server-only";
import { currentOwner } from "@/lib/auth/owner";
import { replicateConfigured } from "@/lib/engines";
import { loadVisibleJob, ownsJob } from "@/lib/jobs/access";
import { jobFormValues } from "@/lib/jobs/form-values";
import { toPublicJob } from "@/lib/jobs/public";
import { env } from "@/lib/env";
import { JOB_ID_PATTERN, MAX_TAKES, type PublicJob } from "@/lib/jobs/schema";
import { availableModels, type ModelDef } from "@/lib/models/registry";
import { getStore } from "@/lib/store";

/** What the form needs to know of a model: plain data a client component can receive. */
export type ModelOption = Pick<ModelDef, "id" | "engine" | "label" | "description" | "params" | "ownAudio" | "images">;

export function homePageModels(): ModelOption[] {
  return availableModels(replicateConfigured()).map(({ id, engine, label, description, params, ownAudio, images }) => ({
    id,
    engine,
    label,
    description,
    params,
    ownAudio,
    images,
  }));
}

/**
 * How many videos one submission may make (takes, or models compared): MAX_TAKES, but no more
 * than one browser may have running at once, since the limits count every member.
 */
export function maxGroupMembers(): number {
  const e = env();
  const running = e.RATE_LIMITS && e.MAX_RUNNING_JOBS_PER_BROWSER > 0 ? e.MAX_RUNNING_JOBS_PER_BROWSER : MAX_TAKES;
  return Math.min(MAX_TAKES, running);
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

export const HISTORY_PAGE_SIZE = 12;

/** This browser's jobs, newest first, a page at a time. No owner cookie: an empty history. */
export async function listOwnerJobs(cursor: string | null): Promise<{ jobs: PublicJob[]; nextCursor: string | null }> {
  const owner = await currentOwner();
  if (!owner) return { jobs: [], nextCursor: null };
  const page = await getStore().listByOwner(owner, { limit: HISTORY_PAGE_SIZE, cursor });
  const now = Date.now();
  return { jobs: page.jobs.map((j) => toPublicJob(j, now)), nextCursor: page.nextCursor };
}

/** A job for its public share page: only when its owner shared it and it finished. */
export async function getSharedJob(id: string): Promise<PublicJob | null> {
  if (!JOB_ID_PATTERN.test(id)) return null;
  const job = await getStore().get(id);
  return job && job.shared && job.status === "succeeded" ? toPublicJob(job) : null;
}

/** The form values that recreate a job (seed included), for remixing a job this browser owns or that is shared. */
export async function getRemixValues(id: string): Promise<Record<string, string> | null> {
  if (!JOB_ID_PATTERN.test(id)) return null;
  const job = await getStore().get(id);
  if (!job) return null;
  const owner = await currentOwner();
  if (!job.shared && (!owner || owner !== job.ownerId)) return null;
  return { ...jobFormValues(job), remixOf: job.id };
}

export type GroupForOwner = { id: string; kind: "takes" | "models"; jobs: PublicJob[] };

/**
 * A group of jobs (takes or a comparison) for its owner: its members that still exist, in the
 * order they were made. null when there is no such group or it is someone else's, alike
 * (lib/jobs/access.ts).
 */
export async function getGroupForOwner(id: string): Promise<GroupForOwner | null> {
  const lead = await loadVisibleJob(id);
  const group = lead?.group;
  if (!lead || !group || group.id !== id) return null;
  const members = await Promise.all(group.members.map((m) => (m === id ? lead : getStore().get(m))));
  const now = Date.now();
  return { id, kind: group.kind, jobs: members.flatMap((j) => (j && ownsJob(j, lead.ownerId) ? [toPublicJob(j, now)] : [])) };
}
