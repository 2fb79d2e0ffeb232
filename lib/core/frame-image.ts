/**
 * First and last frames: which images are accepted, told by their bytes rather than their name
 * (lib/core/frame-check.ts reads them). Pure and dependency-free, so the form checks a picked file
 * with the same rule the server applies.
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
