import { JOB_ID_PATTERN } from "@/lib/core/job";

/** Opaque page cursor shared by all backends: the last returned job's createdAt and id. */
export function encodeCursor(createdAt: number | string, id: string): string {
  return Buffer.from(`${createdAt}\n${id}`).toString("base64url");
}

export function decodeCursor(cursor: string): { createdAt: number; id: string } | null {
  const [score, id, extra] = Buffer.from(cursor, "base64url").toString().split("\n");
  const createdAt = Number(score);
  if (extra !== undefined || !id || !JOB_ID_PATTERN.test(id) || !score || !Number.isFinite(createdAt)) return null;
  return { createdAt, id };
}
