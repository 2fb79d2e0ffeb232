"use client";

import { useEffect, useState } from "react";
import { formatWaitEstimate } from "@/components/job/wait-text";
import type { QueueStatus } from "@/lib/core/job";

/** How often the home page asks for the line while it is open. */
const REFRESH_MS = 10_000;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const isCount = (v: unknown): boolean => Number.isSafeInteger(v) && (v as number) >= 0;

/**
 * GET /api/queue's answer in the browser (the shape of `queueStatusSchema`), or null: checked here
 * without Zod, which would add about 30 kB (gzipped) to the home page.
 */
export function asQueueStatus(value: unknown): QueueStatus | null {
  if (!isObject(value)) return null;
  const ok =
    isCount(value.waiting) && isCount(value.running) && isCount(value.maxRunning) && isCount(value.waitSeconds);
  return ok
    ? {
        waiting: value.waiting as number,
        running: value.running as number,
        maxRunning: value.maxRunning as number,
        waitSeconds: value.waitSeconds as number,
      }
    : null;
}

export function queueNoticeText(q: QueueStatus): string {
  if (q.waiting === 0 && (q.maxRunning === 0 || q.running < q.maxRunning))
    return "No wait right now: a new video starts at once.";
  const waiting = q.waiting === 1 ? "1 video is waiting" : `${q.waiting} videos are waiting`;
  const busy = q.waiting === 0 ? "Every slot is busy" : waiting;
  return `${busy}; a new one would start in ${formatWaitEstimate(q.waitSeconds)} (estimate).`;
}

/**
 * The current wait, before Generate is pressed: rendered by the server, then asked again from
 * GET /api/queue while the page is open (plain fetch: the home page's JavaScript stays small).
 */
export function QueueNotice({ initial }: { initial: QueueStatus | null }) {
  const [queue, setQueue] = useState(initial);
  useEffect(() => {
    let stopped = false;
    const refresh = async () => {
      try {
        const res = await fetch("/api/queue", { headers: { accept: "application/json" }, cache: "no-store" });
        const parsed = asQueueStatus(res.ok ? await res.json() : null);
        if (!stopped && parsed) setQueue(parsed);
      } catch {
        // Keep the last known wait; the next refresh tries again.
      }
    };
    const timer = setInterval(() => void refresh(), REFRESH_MS);
    return () => {
      stopped = true;
      clearInterval(timer);
    };
  }, []);
  if (!queue) return null;
  return (
    <p className="text-sm text-zinc-600 dark:text-zinc-400" data-testid="queue-notice" aria-live="polite">
      {queueNoticeText(queue)}
    </p>
  );
}
