import "server-only";
import { newOwnerCookie, ownerFromRequest } from "@/lib/auth/owner";
import { AppError, errorResponse } from "@/lib/errors";
import { clientAddress } from "@/lib/http/client-address";
import { crossSite } from "@/lib/http/cross-site";
import { publicOriginFrom } from "@/lib/http/public-origin";
import { readBytesCapped } from "@/lib/http/read-body";
import { readFrameUploads, type FrameUploadsResult } from "@/lib/jobs/pipeline/frame-images";
import { MAX_IMAGE_BYTES } from "@/lib/core/frame-image";
import { toPublicJob } from "@/lib/jobs/domain/public";
import { queuePlace } from "@/lib/jobs/pipeline/queue-place";
import { NOT_WAITING } from "@/lib/core/job";
import { formValues, jsonValues, submitJob } from "@/lib/jobs/pipeline/submit-job";
import type { Schedule } from "@/lib/core/schedule";

/**
 * The form's fields are a few kilobytes; two frame images of up to 10 MB each come on top
 * (as files, or base64 data URIs in JSON, a third larger).
 */
export const MAX_BODY_BYTES = 2 * Math.ceil((MAX_IMAGE_BYTES * 4) / 3) + 64 * 1024;

type Body = { values: Record<string, string>; frames: FrameUploadsResult };

async function readJobBody(req: Request): Promise<Body> {
  const contentType = req.headers.get("content-type") ?? "";
  const type = contentType.split(";")[0]!.trim().toLowerCase();
  if (type !== "application/json" && type !== "application/x-www-form-urlencoded" && type !== "multipart/form-data") {
    throw new AppError("bad_request", "Send the job as JSON (Content-Type: application/json) or as form data.");
  }
  const bytes = await readBytesCapped(req, MAX_BODY_BYTES);
  if (type === "application/x-www-form-urlencoded") {
    const params = new URLSearchParams(bytes.toString("utf8"));
    return { values: formValues(params), frames: await readFrameUploads((f) => params.get(f) ?? undefined) };
  }
  if (type === "multipart/form-data") {
    const form = await new Response(new Uint8Array(bytes), { headers: { "content-type": contentType } })
      .formData()
      .catch(() => {
        throw new AppError("bad_request", "The form data could not be read.");
      });
    return { values: formValues(form.entries()), frames: await readFrameUploads((f) => form.get(f) ?? undefined) };
  }
  let body: unknown;
  try {
    body = JSON.parse(bytes.toString("utf8"));
  } catch {
    throw new AppError("bad_request", "The body is not valid JSON.");
  }
  const values = jsonValues(body);
  if (!values) throw new AppError("bad_request", "Send one JSON object with the form's fields.");
  const fields = body as Record<string, unknown>;
  return { values, frames: await readFrameUploads((f) => fields[f]) };
}

/**
 * `POST /api/jobs`: the "Generate" form as an API, through the same path as its server action
 * (lib/jobs/pipeline/submit-job.ts) and with the same owner cookie, minted here when the browser has none.
 * Fields left out take the form's defaults; `defaults` lists those used.
 * 201 `{ id, url, job, defaults }` (and `group` for takes or a comparison: the first member is `job`); 400 with `fieldErrors`; 429 with `Retry-After`; 503 when the store is down.
 */
export async function createJobResponse(req: Request, schedule: Schedule): Promise<Response> {
  let setCookie: string | null = null;
  const owner = async () => {
    const existing = await ownerFromRequest(req);
    if (existing) return existing;
    const fresh = await newOwnerCookie();
    setCookie = fresh.setCookie;
    return fresh.ownerId;
  };
  let response: Response;
  try {
    if (crossSite(req)) throw new AppError("forbidden", "Jobs cannot be started from another site.");
    const { values, frames } = await readJobBody(req);
    const result = await submitJob(
      values,
      { owner, ip: clientAddress(req.headers), schedule, formDefaults: true },
      frames,
    );
    if (result.status === "invalid") {
      throw new AppError(
        "bad_request",
        "Some fields need a change; each one says what.",
        {},
        { fieldErrors: result.fieldErrors },
      );
    }
    if (result.status === "rate_limited") {
      throw new AppError("rate_limited", result.message, { "Retry-After": String(result.retryAfterSeconds) });
    }
    const { job, jobs, defaults } = result;
    const origin = publicOriginFrom(req.headers);
    const url = new URL(`/jobs/${job.id}`, origin).toString();
    // Takes or a comparison: every member, and the group's page where they play side by side.
    const placed = async (j: typeof job) => toPublicJob(j, Date.now(), await queuePlace(j).catch(() => NOT_WAITING));
    const group = job.group
      ? {
          id: job.group.id,
          kind: job.group.kind,
          url: new URL(`/groups/${job.group.id}`, origin).toString(),
          jobs: await Promise.all(jobs.map(placed)),
        }
      : undefined;
    response = Response.json(
      { id: job.id, url, job: await placed(job), defaults, ...(group ? { group } : {}) },
      { status: 201, headers: { Location: url, "Cache-Control": "no-store" } },
    );
  } catch (error) {
    response = errorResponse(error);
  }
  // Also on a 429: the browser keeps its owner, so its limits and jobs stay its own.
  if (setCookie) response.headers.append("Set-Cookie", setCookie);
  return response;
}
