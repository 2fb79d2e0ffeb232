"use client";

import useSWRInfinite from "swr/infinite";
import { isTerminal, publicJobSchema, type PublicJob } from "@/lib/jobs/schema";
import { z } from "zod";

/** One page of GET /api/jobs: this browser's jobs, newest first. */
export const jobsPageSchema = z.object({ jobs: z.array(publicJobSchema), nextCursor: z.string().nullable() });
export type JobsPage = z.infer<typeof jobsPageSchema>;

/** While a listed job still runs, the list is asked again this often so its badge moves on. */
const RUNNING_REFRESH_MS = 5000;

async function fetchPage(url: string): Promise<JobsPage> {
  let res: Response;
  try {
    res = await fetch(url, { headers: { accept: "application/json" }, cache: "no-store" });
  } catch (cause) {
    throw new Error("Could not reach the server. Check your connection.", { cause });
  }
  const body: unknown = await res.json().catch(() => null);
  if (!res.ok) {
    const message = (body as { error?: { message?: unknown } } | null)?.error?.message;
    throw new Error(typeof message === "string" ? message : `The server answered ${res.status}.`);
  }
  const parsed = jobsPageSchema.safeParse(body);
  if (!parsed.success) throw new Error("The server sent a list this page does not understand.");
  return parsed.data;
}

function pageKey(index: number, previous: JobsPage | null): string | null {
  if (index === 0) return "/api/jobs";
  return previous?.nextCursor ? `/api/jobs?cursor=${encodeURIComponent(previous.nextCursor)}` : null;
}

/** This browser's jobs, a page at a time ("Load more" asks for the next one). */
export function useJobs() {
  const { data, error, size, setSize, isLoading, isValidating, mutate } = useSWRInfinite<JobsPage, Error>(pageKey, fetchPage, {
    refreshInterval: (pages) => (pages?.some((p) => p.jobs.some((j) => !isTerminal(j.status))) ? RUNNING_REFRESH_MS : 0),
    revalidateOnFocus: true,
  });
  const jobs: PublicJob[] = data?.flatMap((p) => p.jobs) ?? [];
  const last = data?.[data.length - 1];
  const hasMore = Boolean(last?.nextCursor);
  // Asked for more pages than have arrived: the next one is on its way.
  const loadingMore = isValidating && data !== undefined && size > data.length;
  return {
    jobs,
    error,
    isLoading,
    hasMore,
    /** Pages shown: more than one means "Load more" was used. */
    pages: data?.length ?? 0,
    loadingMore,
    loadMore: () => void setSize(size + 1),
    retry: () => void mutate(),
  };
}
