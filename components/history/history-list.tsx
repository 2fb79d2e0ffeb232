"use client";

import Link from "next/link";
import { JobCard } from "@/components/history/job-card";
import { Button, buttonClasses } from "@/components/ui/button";
import type { PublicJob } from "@/lib/core/job";
import { useJobs } from "@/lib/swr/use-jobs";
import { VideoPlayIcon } from "@/components/ui/icons";

function Skeleton({ count }: { count: number }) {
  return (
    <>
      {Array.from({ length: count }, (_, i) => (
        <li
          key={i}
          aria-hidden="true"
          className="overflow-hidden rounded-xl border border-zinc-200 dark:border-zinc-800"
        >
          <div className="aspect-video bg-zinc-100 motion-safe:animate-pulse dark:bg-zinc-800" />
          <div className="space-y-2 p-3">
            <div className="h-4 w-16 rounded-full bg-zinc-100 motion-safe:animate-pulse dark:bg-zinc-800" />
            <div className="h-4 w-4/5 rounded bg-zinc-100 motion-safe:animate-pulse dark:bg-zinc-800" />
          </div>
        </li>
      ))}
    </>
  );
}

const GRID = "grid gap-4 sm:grid-cols-2 lg:grid-cols-3";

/** One card per job, and one per group (at its newest member's place) holding all its members listed so far. */
function cards(jobs: PublicJob[]): { job: PublicJob; members?: PublicJob[] }[] {
  const groups = new Map<string, PublicJob[]>();
  for (const job of jobs) if (job.group) groups.set(job.group.id, [...(groups.get(job.group.id) ?? []), job]);
  const seen = new Set<string>();
  return jobs.flatMap((job) => {
    if (!job.group) return [{ job }];
    if (seen.has(job.group.id)) return [];
    seen.add(job.group.id);
    const order = job.group.members;
    const members = (groups.get(job.group.id) ?? []).sort((a, b) => order.indexOf(a.id) - order.indexOf(b.id));
    return [{ job: members[0] ?? job, members }];
  });
}

/** This browser's videos, newest first, with "Load more"; designed empty, loading and error states. */
export function HistoryList() {
  const { jobs, error, isLoading, hasMore, pages, loadingMore, loadMore, retry } = useJobs();

  if (isLoading) {
    return (
      <div role="status" aria-live="polite">
        <p className="sr-only">Loading your videos…</p>
        <ul className={GRID}>
          <Skeleton count={6} />
        </ul>
      </div>
    );
  }

  if (error && jobs.length === 0) {
    return (
      <div
        role="alert"
        className="space-y-3 rounded-xl border border-red-300 bg-red-50 p-6 dark:border-red-800 dark:bg-red-950/40"
      >
        <p className="font-medium text-red-800 dark:text-red-200">Your videos could not be loaded.</p>
        <p className="text-sm text-red-800 dark:text-red-200">
          {error.message} They are still on the server; try again.
        </p>
        <Button variant="secondary" onClick={retry}>
          Try again
        </Button>
      </div>
    );
  }

  if (jobs.length === 0) {
    return (
      <div className="flex flex-col items-center gap-4 rounded-2xl border border-dashed border-zinc-300 px-6 py-14 text-center dark:border-zinc-700">
        <VideoPlayIcon className="size-14 text-brand-600 dark:text-indigo-400" />
        <div className="space-y-1">
          <h2 className="text-lg font-semibold">No videos yet</h2>
          <p className="max-w-md text-sm text-zinc-600 dark:text-zinc-400">
            Videos you make in this browser appear here, newest first. They are tied to this browser, not to an account.
          </p>
        </div>
        <Link href="/" className={buttonClasses("primary")}>
          Make your first video
        </Link>
      </div>
    );
  }

  return (
    <div className="space-y-6">
      <ul className={GRID}>
        {cards(jobs).map(({ job, members }) => (
          <JobCard key={job.id} job={job} members={members} />
        ))}
        {loadingMore ? <Skeleton count={3} /> : null}
      </ul>
      <div className="flex flex-col items-center gap-2">
        {hasMore ? (
          <Button variant="secondary" onClick={loadMore} disabled={loadingMore}>
            {loadingMore ? "Loading…" : "Load more"}
          </Button>
        ) : pages > 1 ? (
          <p className="text-sm text-zinc-600 dark:text-zinc-400">That is all of them.</p>
        ) : null}
        <p role="status" className="text-sm text-red-700 dark:text-red-300">
          {error ? `${error.message} ` : null}
          {error ? (
            <button type="button" onClick={retry} className="font-medium underline underline-offset-4">
              Try again
            </button>
          ) : null}
        </p>
      </div>
    </div>
  );
}
