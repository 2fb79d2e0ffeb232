import { FRAME_LABELS, MAX_IMAGE_BYTES, type Frame, type ImageType } from "@/lib/core/frame-image";

/**
 * A frame's image checked by its size and leading bytes, with the rules of lib/core/frame-image.ts:
 * on the server for every upload, and in the form (loaded once an image is picked).
 */

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
