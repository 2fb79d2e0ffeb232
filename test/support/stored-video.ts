import path from "node:path";

/** Where the local video store keeps a finished job's video: its file is named after the prompt. */
export function storedVideoPath(dataDir: string, job: { id: string; videoUrl: string | null }): string {
  if (!job.videoUrl) throw new Error(`Job ${job.id} has no video.`);
  return path.join(dataDir, "videos", job.id, path.basename(job.videoUrl));
}
