"use client";

import useSWRInfinite from "swr/infinite";
import { isTerminal } from "@/lib/core/job-status";
import { asPublicJob } from "@/lib/jobs/domain/public-job-shape";
import type { PublicJob } from "@/lib/core/job";

/** One page of GET /api/jobs: this browser's jobs, newest first. */
export type JobsPage = { jobs: PublicJob[]; nextCursor: string | null };

/** The page as sent, or null when the answer is not one (checked without Zod: see asPublicJob). */
function asJobsPage(body: unknown): JobsPage | null {
  const page = body as { jobs?: unknown; nextCursor?: unknown } | null;
  if (!page || !Array.isArray(page.jobs) || !(page.nextCursor === null || typeof page.nextCursor === "string"))
    return null;
  const jobs = page.jobs.map(asPublicJob);
  return jobs.every((j) => j !== null) ? { jobs: jobs as PublicJob[], nextCursor: page.nextCursor } : null;
}

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
  const parsed = asJobsPage(body);
  if (!parsed) throw new Error("The server sent a list this page does not understand.");
  return parsed;
}

function pageKey(index: number, previous: JobsPage | null): string | null {
  if (index === 0) return "/api/jobs";
  return previous?.nextCursor ? `/api/jobs?cursor=${encodeURIComponent(previous.nextCursor)}` : null;
}

/** This browser's jobs, a page at a time ("Load more" asks for the next one). */
export function useJobs() {
  const { data, error, size, setSize, isLoading, isValidating, mutate } = useSWRInfinite<JobsPage, Error>(
    pageKey,
    fetchPage,
    {
      refreshInterval: (pages) =>
        pages?.some((p) => p.jobs.some((j) => !isTerminal(j.status))) ? RUNNING_REFRESH_MS : 0,
      revalidateOnFocus: true,
    },
  );
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
