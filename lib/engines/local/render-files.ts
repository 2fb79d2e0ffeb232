import "server-only";

import { mkdir, readFile, stat, writeFile } from "node:fs/promises";
import path from "node:path";

import { isLocalOutput, LOCAL_OUTPUT_PREFIX, RENDERS_DIR } from "@/lib/engines/local/local-output";
import type { LocalPrediction } from "@/lib/engines/local/render-run";
import { EngineError, predictionEnded } from "@/lib/engines/types";
import { sniffImageType } from "@/lib/core/frame-check";
import { IMAGE_EXTENSIONS, SNIFF_BYTES } from "@/lib/core/frame-image";

/**
 * The local engine's files under `<dataDir>/renders`: the `local:` outputs turned back into
 * paths, the frame images a render animates, and the sidecar a finished render leaves.
 */

export const LOCAL_REF_PATTERN = /^lp_[A-Za-z0-9_-]{20}$/;

/**
 * The absolute path a `local:` output names (e.g. `local:renders/lp_….mp4`), or null when the
 * reference is malformed or would leave `<dataDir>/renders` (traversal, absolute paths).
 */
export function resolveLocalOutput(dataDir: string, ref: string): string | null {
  if (!isLocalOutput(ref)) return null;
  const rel = ref.slice(LOCAL_OUTPUT_PREFIX.length);
  if (!rel || rel.includes("\0") || rel.includes("\\") || path.isAbsolute(rel) || /^[a-zA-Z]:/.test(rel)) return null;
  const root = path.resolve(dataDir, RENDERS_DIR);
  const abs = path.resolve(dataDir, rel);
  return abs.startsWith(root + path.sep) ? abs : null;
}

/** Writes the `image` / `last_image` files of an input under the renders directory. */
export async function writeFrames(
  rendersDir: string,
  id: string,
  input: Record<string, unknown>,
): Promise<{ paths?: { first: string; last: string | null }; described: Record<string, string> }> {
  const file = async (field: string, name: string): Promise<string | null> => {
    const value = input[field];
    if (!(value instanceof Blob)) return null;
    const bytes = new Uint8Array(await value.arrayBuffer());
    const type = sniffImageType(bytes.subarray(0, SNIFF_BYTES));
    if (!type) throw new EngineError(`The ${field} input is not a PNG, JPEG or WebP image`, "invalid_input");
    await mkdir(rendersDir, { recursive: true });
    const target = path.join(rendersDir, `${id}.${name}.${IMAGE_EXTENSIONS[type]}`);
    await writeFile(target, bytes);
    return target;
  };
  const first = await file("image", "first");
  if (!first) return { described: {} };
  const last = await file("last_image", "last");
  // The prediction's input names the files as Replicate would show an uploaded file.
  const described: Record<string, string> = { image: `local:renders/${path.basename(first)}` };
  if (last) described.last_image = `local:renders/${path.basename(last)}`;
  return { paths: { first, last }, described };
}

/** Leaves the finished prediction next to its file, so `get` still knows it after a restart. */
export async function writeSidecar(rendersDir: string, prediction: LocalPrediction): Promise<void> {
  await writeFile(path.join(rendersDir, `${prediction.id}.json`), JSON.stringify(prediction)).catch(() => undefined);
}

/** The finished prediction a render left (its file still there when it succeeded), or null. */
export async function readSidecar(dataDir: string, rendersDir: string, ref: string): Promise<LocalPrediction | null> {
  if (!LOCAL_REF_PATTERN.test(ref)) return null;
  try {
    const saved = JSON.parse(await readFile(path.join(rendersDir, `${ref}.json`), "utf8")) as LocalPrediction;
    if (saved?.id !== ref || !predictionEnded(saved.status)) return null;
    if (saved.status === "succeeded") {
      if (typeof saved.output !== "string") return null;
      const file = resolveLocalOutput(dataDir, saved.output);
      if (!file) return null;
      const ok = await stat(/*turbopackIgnore: true*/ file).then(
        (s) => s.isFile() && s.size > 0,
        () => false,
      );
      if (!ok) return null;
    }
    return saved;
  } catch {
    return null;
  }
}
