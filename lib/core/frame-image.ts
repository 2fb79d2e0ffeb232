/**
 * First and last frames: which images are accepted, told by their bytes rather than their name.
 * Pure and dependency-free, so the form checks a picked file with the same rule the server applies.
 */

export const FRAMES = ["first", "last"] as const;
export type Frame = (typeof FRAMES)[number];

export const IMAGE_TYPES = ["image/png", "image/jpeg", "image/webp"] as const;
export type ImageType = (typeof IMAGE_TYPES)[number];

export const MAX_IMAGE_BYTES = 10 * 1024 * 1024;

/** The form and API field of each frame's image. */
export const FRAME_FIELDS = { first: "firstFrame", last: "lastFrame" } as const satisfies Record<Frame, string>;

export const FRAME_LABELS = { first: "first frame", last: "last frame" } as const satisfies Record<Frame, string>;

export const IMAGE_EXTENSIONS = {
  "image/png": "png",
  "image/jpeg": "jpg",
  "image/webp": "webp",
} as const satisfies Record<ImageType, string>;

/** Bytes needed to tell the types apart. */
export const SNIFF_BYTES = 12;

const startsWith = (bytes: Uint8Array, signature: readonly number[], at = 0) =>
  bytes.length >= at + signature.length && signature.every((b, i) => bytes[at + i] === b);

/** The image type the leading bytes show (PNG signature, JPEG SOI marker, RIFF…WEBP), or null. */
export function sniffImageType(bytes: Uint8Array): ImageType | null {
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return "image/png";
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return "image/jpeg";
  if (startsWith(bytes, [0x52, 0x49, 0x46, 0x46]) && startsWith(bytes, [0x57, 0x45, 0x42, 0x50], 8))
    return "image/webp";
  return null;
}

export type ImageCheck = { ok: true; type: ImageType } | { ok: false; message: string };

/** Checks a frame's image from its size and leading bytes; the message names the frame and the file. */
export function checkFrameImage(frame: Frame, name: string, size: number, head: Uint8Array): ImageCheck {
  const what = `The ${FRAME_LABELS[frame]}`;
  const file = name ? `“${name.slice(0, 80)}”` : "This file";
  if (size === 0) return { ok: false, message: `${what}: ${file} is empty.` };
  if (size > MAX_IMAGE_BYTES) {
    const mb = (size / 1024 / 1024).toFixed(1);
    return {
      ok: false,
      message: `${what}: ${file} is ${mb} MB; images can be at most ${MAX_IMAGE_BYTES / 1024 / 1024} MB.`,
    };
  }
  const type = sniffImageType(head);
  if (!type)
    return {
      ok: false,
      message: `${what}: ${file} is not a PNG, JPEG or WebP image (its contents say so, whatever its name).`,
    };
  return { ok: true, type };
}
