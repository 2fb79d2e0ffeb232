import "server-only";
import { randomBytes } from "node:crypto";
import { getVideoStore } from "@/lib/files";
import type { Job, Share } from "@/lib/core/job";
import { jobLog } from "@/lib/log";
import { getStore } from "@/lib/store";

/**
 * Sharing: a finished job's owner turns on a public page. Each share gets a token of its own
 * (192 random bits), unrelated to the job id, and public files reached through it alone; turning
 * it off deletes the token and those files at once, and sharing again makes a new token. The
 * public side never sees the job id (lib/jobs/domain/public.ts: toSharedJob).
 */

export function newShareToken(): string {
  return randomBytes(24).toString("base64url");
}

/** Why a share could not be turned off completely. */
export class ShareFilesNotRemovedError extends Error {
  constructor(cause: unknown) {
    super("The share's public files could not be removed.", { cause });
    this.name = "ShareFilesNotRemovedError";
  }
}

/**
 * Shares a finished job (its owner checked by the caller): makes the public files, then stores
 * the share. Returns the job's share (an earlier one when it was shared meanwhile), or null when
 * the job is gone or no longer finished; files made for nothing are removed.
 */
export async function startShare(job: Job): Promise<Share | null> {
  if (job.share) return job.share;
  if (job.status !== "succeeded" || !job.videoUrl) return null;
  const token = newShareToken();
  const files = await getVideoStore().share(
    { id: job.id, prompt: job.prompt, videoUrl: job.videoUrl, posterUrl: job.posterUrl },
    token,
  );
  const share: Share = { token, sharedAt: Date.now(), ...files };
  const result = await getStore().update(job.id, (j) => (j.share || j.status !== "succeeded" ? null : { ...j, share }));
  if (result?.changed) {
    jobLog(job.id).info("job shared");
    return share;
  }
  await removeFiles(job.id, token);
  return result?.job.share ?? null;
}

/** Turns a job's share off: the token goes from the record (and its index) first, then its files. */
export async function endShare(jobId: string): Promise<void> {
  let removed: Share | null = null;
  await getStore().update(jobId, (j) => {
    removed = j.share;
    return j.share ? { ...j, share: null } : null;
  });
  const share = removed as Share | null;
  if (!share) return;
  jobLog(jobId).info("job unshared");
  await removeFiles(jobId, share.token);
}

/** Removes a share's public files (Blob copies); after a job's record is deleted too. */
export async function removeShareFiles(jobId: string, share: Share | null): Promise<void> {
  if (share) await removeFiles(jobId, share.token);
}

async function removeFiles(jobId: string, token: string): Promise<void> {
  try {
    await getVideoStore().unshare(token);
  } catch (error) {
    // The token is already gone from the store, so no page links to the files any more; but
    // whoever kept their URL could still fetch them until they are removed.
    jobLog(jobId).error(
      { err: error instanceof Error ? error.message : String(error), sharePrefix: `shares/${token.slice(0, 6)}…` },
      "share files not removed",
    );
    throw new ShareFilesNotRemovedError(error);
  }
}
