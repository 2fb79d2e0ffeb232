"use client";

import useSWR from "swr";
import { formatWaitEstimate } from "@/components/job/job-text";
import { queueStatusSchema, type QueueStatus } from "@/lib/jobs/schema";

/** How often the home page asks for the line while it is open. */
const REFRESH_MS = 10_000;

async function fetchQueue(url: string): Promise<QueueStatus> {
  const res = await fetch(url, { headers: { accept: "application/json" }, cache: "no-store" });
  if (!res.ok) throw new Error(`The server answered ${res.status}.`);
  return queueStatusSchema.parse(await res.json());
}

export function queueNoticeText(q: QueueStatus): string {
  if (q.waiting === 0 && (q.maxRunning === 0 || q.running < q.maxRunning)) return "No wait right now: a new video starts at once.";
  const waiting = q.waiting === 1 ? "1 video is waiting" : `${q.waiting} videos are waiting`;
  const busy = q.waiting === 0 ? "Every slot is busy" : waiting;
  return `${busy}; a new one would start in ${formatWaitEstimate(q.waitSeconds)} (estimate).`;
}

/** The current wait, before Generate is pressed; refreshed while the page is open. */
export function QueueNotice({ initial }: { initial: QueueStatus | null }) {
  const { data } = useSWR("/api/queue", fetchQueue, { fallbackData: initial ?? undefined, refreshInterval: REFRESH_MS });
  if (!data) return null;
  return (
    <p className="text-sm text-zinc-600 dark:text-zinc-400" data-testid="queue-notice" aria-live="polite">
      {queueNoticeText(data)}
    </p>
  );
}
