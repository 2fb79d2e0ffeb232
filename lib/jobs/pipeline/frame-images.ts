import "server-only";
import { Readable } from "node:stream";
import { getVideoStore, localVideoStore } from "@/lib/files";
import { videoKey } from "@/lib/files/types";
import type { FrameImage, Job, JobImages } from "@/lib/core/job";
import { checkFrameImage } from "@/lib/core/frame-check";
import {
  FRAME_FIELDS,
  FRAMES,
  IMAGE_EXTENSIONS,
  MAX_IMAGE_BYTES,
  SNIFF_BYTES,
  type Frame,
  type ImageType,
} from "@/lib/core/frame-image";
import type { ModelDef } from "@/lib/models/registry";

/**
 * A job's first and last frames: read from a request (files, or data URIs in JSON), checked by
 * their bytes, kept in our video storage beside the job's video, and read back for the engine.
 */

export type FrameUpload = { bytes: Buffer; type: ImageType; name: string };
export type FrameUploads = Partial<Record<Frame, FrameUpload>>;

export type FrameUploadsResult =
  { ok: true; uploads: FrameUploads } | { ok: false; fieldErrors: Record<string, string> };

const DATA_URI = /^data:([a-z]+\/[a-z0-9.+-]+)?(;[a-z0-9-]+=[^;,]*)*;base64,/i;

/** One frame's value as sent: a File from form data, or a `data:` URI string from JSON. */
async function readOne(frame: Frame, value: unknown): Promise<{ upload?: FrameUpload; error?: string }> {
  let bytes: Buffer;
  let name = "";
  if (typeof value === "string") {
    if (value === "") return {};
    const match = DATA_URI.exec(value);
    if (!match) return { error: `The ${frame} frame must be sent as a file, or in JSON as a base64 data: URI.` };
    // Base64 is 4/3 of the bytes: refuse an oversized one before decoding it.
    if ((value.length - match[0].length) * 0.75 > MAX_IMAGE_BYTES + 3) {
      return { error: message(frame, "", MAX_IMAGE_BYTES + 1) };
    }
    bytes = Buffer.from(value.slice(match[0].length), "base64");
  } else if (value instanceof Blob) {
    if (value.size === 0 && !("name" in value && value.name)) return {};
    name = "name" in value && typeof value.name === "string" ? value.name : "";
    if (value.size > MAX_IMAGE_BYTES) return { error: message(frame, name, value.size) };
    bytes = Buffer.from(await value.arrayBuffer());
  } else {
    return {};
  }
  const check = checkFrameImage(frame, name, bytes.length, bytes.subarray(0, SNIFF_BYTES));
  return check.ok ? { upload: { bytes, type: check.type, name } } : { error: check.message };
}

/** The refusal of a file too large to read. */
function message(frame: Frame, name: string, size: number): string {
  const check = checkFrameImage(frame, name, size, new Uint8Array());
  return check.ok ? "" : check.message;
}

/** The frames of a request: `firstFrame` / `lastFrame` as files (form data) or data URIs (JSON). */
export async function readFrameUploads(get: (field: string) => unknown): Promise<FrameUploadsResult> {
  const uploads: FrameUploads = {};
  const fieldErrors: Record<string, string> = {};
  for (const frame of FRAMES) {
    const { upload, error } = await readOne(frame, get(FRAME_FIELDS[frame]));
    if (error) fieldErrors[FRAME_FIELDS[frame]] = error;
    else if (upload) uploads[frame] = upload;
  }
  return Object.keys(fieldErrors).length > 0 ? { ok: false, fieldErrors } : { ok: true, uploads };
}

/** What a model refuses among the frames given, per field; empty when it takes them all. */
export function framesRefusedBy(model: ModelDef, uploads: FrameUploads): Record<string, string> {
  const errors: Record<string, string> = {};
  if (uploads.first && !model.images)
    errors[FRAME_FIELDS.first] = `${model.label} takes no images; pick a model that does, or remove the image.`;
  if (uploads.last) {
    if (!model.images)
      errors[FRAME_FIELDS.last] = `${model.label} takes no images; pick a model that does, or remove the image.`;
    else if (!model.images.last)
      errors[FRAME_FIELDS.last] = `${model.label} takes no last frame; pick a model that does, or remove it.`;
    else if (!uploads.first) errors[FRAME_FIELDS.first] = "A last frame needs a first frame too.";
  }
  return errors;
}

export function frameFileName(frame: Frame, type: ImageType): string {
  return `frame-${frame}.${IMAGE_EXTENSIONS[type]}`;
}

/** Stores the frames under the job's id in our video storage (local files or Blob). */
export async function storeFrameImages(jobId: string, uploads: FrameUploads): Promise<JobImages | undefined> {
  if (!uploads.first && !uploads.last) return undefined;
  const images: JobImages = { first: null, last: null };
  for (const frame of FRAMES) {
    const upload = uploads[frame];
    if (!upload) continue;
    const file = frameFileName(frame, upload.type);
    const stored = await getVideoStore().put(videoKey(jobId, file), Readable.from([upload.bytes]), {
      contentType: upload.type,
      maxBytes: MAX_IMAGE_BYTES,
    });
    images[frame] = { file, contentType: upload.type, bytes: stored.bytes, url: stored.url };
  }
  return images;
}

/** The bytes of a stored frame: from the local files, or from its Blob URL. */
export async function loadFrameImage(jobId: string, image: FrameImage): Promise<Buffer> {
  if (image.url.startsWith("/")) {
    const opened = await localVideoStore().open(videoKey(jobId, image.file));
    if (!opened) throw new Error(`The ${image.file} of job ${jobId} is missing.`);
    return Buffer.from(await new Response(opened.stream).arrayBuffer());
  }
  const res = await fetch(image.url, { cache: "no-store" });
  if (!res.ok) throw new Error(`The ${image.file} of job ${jobId} could not be read (HTTP ${res.status}).`);
  return Buffer.from(await res.arrayBuffer());
}

/** A job's stored frames as uploads again (to retry it, or run it once more). */
export async function jobFrameUploads(job: Job): Promise<FrameUploads> {
  const uploads: FrameUploads = {};
  for (const frame of FRAMES) {
    const image = job.images?.[frame];
    if (image)
      uploads[frame] = { bytes: await loadFrameImage(job.id, image), type: image.contentType, name: image.file };
  }
  return uploads;
}
