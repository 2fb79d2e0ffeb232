/**
 * A job's status list, what "ended" means and the other small constants the browser needs,
 * without Zod: the schema module would bring Zod (about 30 kB gzipped) into every page that
 * imports them. `lib/core/job.ts` builds its schemas from these and re-exports them.
 */
export const JOB_STATUSES = ["queued", "starting", "processing", "succeeded", "failed", "canceled"] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

export const TERMINAL_STATUSES: readonly JobStatus[] = ["succeeded", "failed", "canceled"];
export function isTerminal(status: JobStatus): boolean {
  return TERMINAL_STATUSES.includes(status);
}

/** 128 random bits, base64url without padding: 22 characters. */
export const JOB_ID_PATTERN = /^[A-Za-z0-9_-]{22}$/;

/**
 * A share's token: 192 random bits, base64url (32 characters), so it never reads as a job id.
 * The public page, its embed and its files are reached through it alone.
 */
export const SHARE_TOKEN_PATTERN = /^[A-Za-z0-9_-]{32}$/;

/** How many videos one submission may make: takes of one prompt, or one prompt on several models. */
export const MAX_TAKES = 4;
export const MAX_COMPARED_MODELS = 3;
