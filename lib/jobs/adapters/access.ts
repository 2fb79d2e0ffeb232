import "server-only";
import { currentOwner, ownerFromRequest } from "@/lib/auth/owner";
import { JOB_ID_PATTERN, type Job } from "@/lib/core/job";
import { getStore } from "@/lib/store";

/**
 * Who may see a job: its owner, the browser whose signed cookie made it, and nobody else. Every
 * place that shows a job or acts on one (the job page, status, events, files, the owner's
 * actions) asks here, and answers anyone else exactly as it answers for a job that does not
 * exist: the same 404 and the same sentence, so a job id says nothing to whoever holds it.
 * A shared video is reached only through its share token (lib/jobs/pipeline/sharing.ts), never its id.
 */

/** What access needs of a request: its headers (a `Request`, or the Node server's own request). */
export type WithHeaders = { headers: Pick<Headers, "get"> };

/** The one sentence for "no such job" and "not yours". */
export const NO_SUCH_JOB = "There is no job with that id. It may have been deleted.";

/**
 * The owner id of whoever asks: from the request's Cookie header when there is a request (route
 * handlers), else from Next's cookies() (pages and server actions). Null without a valid cookie.
 */
export function viewerOf(request?: WithHeaders): Promise<string | null> {
  return request ? ownerFromRequest(request) : currentOwner();
}

/** Whether `owner` (a verified owner id, or null) owns the job. */
export function ownsJob(job: Pick<Job, "ownerId">, owner: string | null): boolean {
  return owner !== null && job.ownerId === owner;
}

/** Whether the browser behind `request` (or this page's or action's cookies) owns the job. */
export async function ownerAccess(job: Pick<Job, "ownerId">, request?: WithHeaders): Promise<boolean> {
  return ownsJob(job, await viewerOf(request));
}

/**
 * The job when the asking browser owns it; null when the id is malformed, the job does not exist,
 * or it is someone else's, alike. A browser without an owner cookie costs no store read.
 */
export async function loadVisibleJob(id: string, request?: WithHeaders): Promise<Job | null> {
  if (!JOB_ID_PATTERN.test(id)) return null;
  const owner = await viewerOf(request);
  if (!owner) return null;
  const job = await getStore().get(id);
  return job && ownsJob(job, owner) ? job : null;
}
