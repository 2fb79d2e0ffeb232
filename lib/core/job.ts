import { z } from "zod";
import { IMAGE_TYPES } from "@/lib/core/frame-image";
import {
  JOB_ID_PATTERN,
  JOB_STATUSES,
  MAX_COMPARED_MODELS,
  MAX_TAKES,
  SHARE_TOKEN_PATTERN,
  type JobStatus,
} from "@/lib/core/job-status";

export {
  isTerminal,
  JOB_ID_PATTERN,
  JOB_STATUSES,
  MAX_COMPARED_MODELS,
  MAX_TAKES,
  TERMINAL_STATUSES,
  type JobStatus,
} from "@/lib/core/job-status";

/**
 * The job record: one schema for the store, the API and the UI.
 * The store keeps `Job`; the API and the browser only ever see `PublicJob`.
 */

export const jobIdSchema = z.string().regex(JOB_ID_PATTERN, "Malformed job id");

export { SHARE_TOKEN_PATTERN };

export const jobStatusSchema = z.enum(JOB_STATUSES) satisfies z.ZodType<JobStatus>;

/** The pipeline: enhance → generate → sound → save. Every step really runs or is marked skipped. */
export const STEP_NAMES = ["enhance", "generate", "sound", "save"] as const;
export const stepNameSchema = z.enum(STEP_NAMES);
export type StepName = z.infer<typeof stepNameSchema>;

export const STEP_STATES = ["waiting", "running", "done", "skipped", "failed", "canceled"] as const;
export const stepStateSchema = z.enum(STEP_STATES);
export type StepState = z.infer<typeof stepStateSchema>;

export const ENGINE_IDS = ["local", "replicate"] as const;
export const engineIdSchema = z.enum(ENGINE_IDS);
export type EngineId = z.infer<typeof engineIdSchema>;

/**
 * Who runs a step: an engine, or the app itself ("rules": the rule-based enhancer; "app": saving
 * the video into our storage); "you": the person wrote the step's output (an enhanced prompt
 * edited before generating); "none": nobody (a skipped step).
 */
export const STEP_RUNNERS = [...ENGINE_IDS, "rules", "app", "you", "none"] as const;
export const stepRunnerSchema = z.enum(STEP_RUNNERS);
export type StepRunner = z.infer<typeof stepRunnerSchema>;

export const stepSchema = z.object({
  name: stepNameSchema,
  state: stepStateSchema,
  /** Who runs this step. */
  engine: stepRunnerSchema,
  /** The engine's reference for the current attempt (prediction id); events for another ref are stale. */
  ref: z.string().nullable(),
  attempt: z.number().int().nonnegative(),
  startedAt: z.number().nullable(),
  completedAt: z.number().nullable(),
  /** Upstream started (GPU allocated); before that the step is waiting for a GPU. */
  runningAt: z.number().nullable(),
  progress: z.number().min(0).max(100).nullable(),
  progressEstimated: z.boolean(),
  /** Number of log characters already applied: a delivery with fewer is older. */
  logsLength: z.number().int().nonnegative(),
  /** Provider output of this step (a URL or text); never shown to users as a lasting link. */
  output: z.string().nullable(),
  error: z.string().nullable(),
  note: z.string().nullable(),
  /**
   * A step the app runs itself (saving) renews this while it works; until then reconciliation
   * does not presume it lost. Absent in records written before it existed.
   */
  leaseUntil: z.number().nullable().optional(),
});
export type Step = z.infer<typeof stepSchema>;

export const STAGES = [
  "queued",
  "enhancing",
  "waiting_gpu",
  "generating",
  "adding_sound",
  "saving",
  "done",
  "failed",
  "canceled",
] as const;
export const stageSchema = z.enum(STAGES);
export type Stage = z.infer<typeof stageSchema>;

export const paramsSchema = z.object({
  duration: z.number().nullable(),
  aspectRatio: z.string().nullable(),
  resolution: z.string().nullable(),
  seed: z.number().int().nonnegative().nullable(),
  negativePrompt: z.string().nullable(),
});
export type JobParams = z.infer<typeof paramsSchema>;

/** An image the job's video starts (or ends) on, kept in our video storage with the job. */
export const frameImageSchema = z.object({
  /** File name in the job's storage folder, e.g. `frame-first.png`. */
  file: z.string(),
  contentType: z.enum(IMAGE_TYPES),
  bytes: z.number().int().positive(),
  /** Where the storage keeps it (an app path, or a Blob URL): never given to the browser. */
  url: z.string(),
});
export type FrameImage = z.infer<typeof frameImageSchema>;

export const jobImagesSchema = z.object({ first: frameImageSchema.nullable(), last: frameImageSchema.nullable() });
export type JobImages = z.infer<typeof jobImagesSchema>;

/**
 * Several jobs from one submission: takes of one prompt (different seeds) or one prompt on
 * several models. The group's id is its first member's job id; every member lists them all.
 */
export const GROUP_KINDS = ["takes", "models"] as const;
export const jobGroupSchema = z.object({
  id: jobIdSchema,
  kind: z.enum(GROUP_KINDS),
  members: z.array(jobIdSchema).min(2).max(Math.max(MAX_TAKES, MAX_COMPARED_MODELS)),
});
export type JobGroup = z.infer<typeof jobGroupSchema>;

/** A job's public share: made by its owner, deleted (token and copies) when it is turned off. */
export const shareSchema = z.object({
  token: z.string().regex(SHARE_TOKEN_PATTERN),
  sharedAt: z.number(),
  /** The video and poster as the public gets them: through the token, never the job's own files. */
  videoUrl: z.string(),
  posterUrl: z.string().nullable(),
});
export type Share = z.infer<typeof shareSchema>;

export const jobSchema = z.object({
  id: jobIdSchema,
  /** Incremented on every applied change; clients and streams use it as a version. */
  seq: z.number().int().nonnegative(),
  status: jobStatusSchema,
  stage: stageSchema,
  message: z.string(),
  progress: z.number().min(0).max(100).nullable(),
  progressEstimated: z.boolean(),
  prompt: z.string(),
  /** The prompt as sent to the video model (after style and enhancement). */
  finalPrompt: z.string().nullable(),
  enhancedPrompt: z.string().nullable(),
  style: z.string(),
  engine: engineIdSchema,
  model: z.string(),
  params: paramsSchema,
  options: z.object({ enhance: z.boolean(), sound: z.boolean() }),
  steps: z.array(stepSchema),
  videoUrl: z.string().nullable(),
  posterUrl: z.string().nullable(),
  error: z.string().nullable(),
  notice: z.string().nullable(),
  /** The engine's reference of the step running now (prediction id). */
  engineRef: z.string().nullable(),
  ownerId: z.string().nullable(),
  /** Null while private. (Records from before share tokens had `shared: true`: they read as private.) */
  share: shareSchema.nullable().default(null),
  remixOf: z.string().nullable(),
  /** Images the video starts and ends on; absent in records written before they existed. */
  images: jobImagesSchema.optional(),
  /** The job whose last frame this one starts from ("Continue from the last frame"). */
  continuedFrom: z.string().nullable().optional(),
  /** Jobs that continue this one from its last frame. */
  continuations: z.array(z.string()).optional(),
  /** The group this job was made in (takes or a model comparison); absent for a single job. */
  group: jobGroupSchema.nullable().optional(),
  createdAt: z.number(),
  /**
   * When the job got one of the site's slots (lib/jobs/pipeline/dispatch.ts); null while it waits in line.
   * Absent in records written before the queue existed: those count as admitted.
   */
  admittedAt: z.number().nullable().optional(),
  startedAt: z.number().nullable(),
  completedAt: z.number().nullable(),
  updatedAt: z.number(),
  /** Last time anything was heard from the engine; drives reconciliation of lost webhooks. */
  lastEventAt: z.number(),
});
export type Job = z.infer<typeof jobSchema>;

/**
 * What never leaves the server, in one list each: the public schema and toPublicJob both derive
 * from these, so they cannot disagree. A step keeps its provider output (a URL to the engine's
 * copy) and references; a job keeps its owner and engine bookkeeping. `steps` and `images` have
 * public forms of their own.
 */
export const PRIVATE_STEP_FIELDS = ["output", "logsLength", "ref", "leaseUntil"] as const;
export const PRIVATE_JOB_FIELDS = ["ownerId", "lastEventAt", "engineRef"] as const;

function fieldMask<K extends string>(keys: readonly K[]): { [P in K]: true } {
  return Object.fromEntries(keys.map((k) => [k, true])) as { [P in K]: true };
}

/** `value` without `keys`: how a record becomes its public form. */
export function withoutFields<T extends object, K extends keyof T>(value: T, keys: readonly K[]): Omit<T, K> {
  const copy: Partial<T> = { ...value };
  for (const key of keys) delete copy[key];
  return copy as Omit<T, K>;
}

/**
 * What the owner's browser sees of its job (the job page, the status and event APIs, the
 * history): no owner id, no provider output URLs; the share as its page's path.
 */
export const publicStepSchema = stepSchema.omit(fieldMask(PRIVATE_STEP_FIELDS));
/** A frame image as the browser sees it: the owner-only route that serves it, not where it is stored. */
export const publicFrameImageSchema = z.object({ url: z.string(), contentType: z.enum(IMAGE_TYPES) });
export const publicJobSchema = jobSchema.omit(fieldMask([...PRIVATE_JOB_FIELDS, "steps", "images", "share"])).extend({
  steps: z.array(publicStepSchema),
  engineLabel: z.string(),
  modelLabel: z.string(),
  images: z.object({ first: publicFrameImageSchema.nullable(), last: publicFrameImageSchema.nullable() }),
  /**
   * Where the page plays the video, as soon as the model's video exists: an app URL that streams
   * the engine's output while our copy is being made and serves the copy after, without changing.
   * null while there is nothing to play.
   */
  playbackUrl: z.string().nullable(),
  shared: z.boolean(),
  /** `/v/<token>` while shared. */
  sharePath: z.string().nullable(),
  /** Place in line while the job waits for a slot: 1 is next; null when it is not waiting. */
  queuePosition: z.number().int().positive().nullable(),
  /** An estimate of the seconds until it starts, while it waits; null otherwise or when unknown. */
  queueWaitSeconds: z.number().int().nonnegative().nullable(),
});
export type PublicJob = z.infer<typeof publicJobSchema>;

/** GET /api/queue: the line as someone about to press Generate sees it. */
export const queueStatusSchema = z.object({
  waiting: z.number().int().nonnegative(),
  running: z.number().int().nonnegative(),
  /** The site's cap on jobs running at once; 0: none. */
  maxRunning: z.number().int().nonnegative(),
  /** Estimated seconds before a job made now would start. */
  waitSeconds: z.number().int().nonnegative(),
});
export type QueueStatus = z.infer<typeof queueStatusSchema>;

/** Where a waiting job stands in line (lib/jobs/pipeline/queue-place.ts): the two PublicJob fields. */
export type QueuePlace = Pick<PublicJob, "queuePosition" | "queueWaitSeconds">;
export const NOT_WAITING: QueuePlace = { queuePosition: null, queueWaitSeconds: null };
export type PublicStep = z.infer<typeof publicStepSchema>;

/**
 * What everyone else sees of a shared video (its page, embed, Open Graph tags and
 * /api/shared/[token]): only these fields. Everything else stays the owner's: the job id, the
 * prompt as sent and the enhanced prompt, the negative prompt, the steps, errors and notices,
 * what it was remixed from, the timings.
 */
export const sharedJobSchema = z.object({
  token: z.string(),
  prompt: z.string(),
  style: z.string(),
  engine: engineIdSchema,
  model: z.string(),
  modelLabel: z.string(),
  engineLabel: z.string(),
  params: paramsSchema.pick({ duration: true, aspectRatio: true, resolution: true, seed: true }),
  options: z.object({ enhance: z.boolean(), sound: z.boolean() }),
  videoUrl: z.string(),
  posterUrl: z.string().nullable(),
  completedAt: z.number().nullable(),
});
export type SharedJob = z.infer<typeof sharedJobSchema>;
