import "server-only";
import { currentOwner } from "@/lib/auth/owner";
import { replicateConfigured } from "@/lib/engines";
import { loadVisibleJob, ownsJob } from "@/lib/jobs/adapters/access";
import { env } from "@/lib/env";
import { jobFormValues, sharedFormValues } from "@/lib/jobs/domain/form-values";
import { toPublicJob, toSharedJob } from "@/lib/jobs/domain/public";
import { MAX_TAKES, SHARE_TOKEN_PATTERN, type PublicJob, type SharedJob } from "@/lib/core/job";
import { queuePlace } from "@/lib/jobs/pipeline/queue-place";
import { openJobsCap } from "@/lib/limits/running";
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
 * than one browser may have open at once (its running share plus its place in line), since the
 * limits count every member; members past the running share wait in line.
 */
export function maxGroupMembers(): number {
  const e = env();
  const open = e.RATE_LIMITS ? openJobsCap(e) : 0;
  return open > 0 ? Math.min(MAX_TAKES, open) : MAX_TAKES;
}

/** A job of this browser, as its page shows it; null for a job that does not exist or is someone else's alike. */
export async function getOwnJob(id: string): Promise<PublicJob | null> {
  const job = await loadVisibleJob(id);
  return job ? toPublicJob(job, Date.now(), await queuePlace(job)) : null;
}

export const HISTORY_PAGE_SIZE = 12;

/** This browser's jobs, newest first, a page at a time. No owner cookie: an empty history. */
export async function listOwnerJobs(cursor: string | null): Promise<{ jobs: PublicJob[]; nextCursor: string | null }> {
  const owner = await currentOwner();
  if (!owner) return { jobs: [], nextCursor: null };
  const page = await getStore().listByOwner(owner, { limit: HISTORY_PAGE_SIZE, cursor });
  const now = Date.now();
  const places = await Promise.all(page.jobs.map((j) => queuePlace(j)));
  return { jobs: page.jobs.map((j, i) => toPublicJob(j, now, places[i])), nextCursor: page.nextCursor };
}

/** A shared video as everyone sees it, by its share token: null once the share is off (or never was). */
export async function getSharedJob(token: string): Promise<SharedJob | null> {
  if (!SHARE_TOKEN_PATTERN.test(token)) return null;
  const job = await getStore().findShared(token);
  return job?.share && job.status === "succeeded" ? toSharedJob(job, job.share) : null;
}

/**
 * The form values that recreate a video, for `/?remix=`: every field (seed included) of a job this
 * browser owns, by its id; or, by a share token, the settings a shared video shows everyone
 * (without its owner's enhanced or negative prompt, and without the job's id).
 */
export async function getRemixValues(idOrToken: string): Promise<Record<string, string> | null> {
  if (SHARE_TOKEN_PATTERN.test(idOrToken)) {
    const shared = await getSharedJob(idOrToken);
    return shared ? sharedFormValues(shared) : null;
  }
  const job = await loadVisibleJob(idOrToken);
  return job ? { ...jobFormValues(job), remixOf: job.id } : null;
}

export type GroupForOwner = { id: string; kind: "takes" | "models"; jobs: PublicJob[] };

/**
 * A group of jobs (takes or a comparison) for its owner: its members that still exist, in the
 * order they were made. null when there is no such group or it is someone else's, alike
 * (lib/jobs/adapters/access.ts).
 */
export async function getGroupForOwner(id: string): Promise<GroupForOwner | null> {
  const lead = await loadVisibleJob(id);
  const group = lead?.group;
  if (!lead || !group || group.id !== id) return null;
  const members = await Promise.all(group.members.map((m) => (m === id ? lead : getStore().get(m))));
  const now = Date.now();
  return {
    id,
    kind: group.kind,
    jobs: members.flatMap((j) => (j && ownsJob(j, lead.ownerId) ? [toPublicJob(j, now)] : [])),
  };
}
