import { describeEta, estimateRemaining, generateTimes } from "@/components/job/eta";
import type { JobFacts } from "@/components/job/job-facts";
import { formatDuration } from "@/components/job/job-text";
import type { PublicJob } from "@/lib/core/job";

/** What is left (a range, while it runs), and the video step's wait apart from its work. */
export function JobTiming({ job, now, facts }: { job: PublicJob; now: number | null; facts: JobFacts }) {
  const eta = estimateRemaining(job, now, facts.typicalSeconds);
  const { waitMs, generateMs } = generateTimes(job, now);
  // The local engine runs on this server: there is no GPU to wait for, only a queue to start.
  const waitLabel = job.engine === "local" ? "Waiting to start" : "Waiting for a GPU";
  if (!eta && waitMs === null && generateMs === null) return null;
  return (
    <div className="space-y-1 text-sm text-zinc-600 dark:text-zinc-400" data-testid="job-timing">
      {eta ? <p>{describeEta(eta)}</p> : null}
      {waitMs !== null || generateMs !== null ? (
        <p className="flex flex-wrap gap-x-4">
          {waitMs !== null ? (
            <span>
              {waitLabel}: {formatDuration(waitMs)}
            </span>
          ) : null}
          {generateMs !== null ? <span>Generating: {formatDuration(generateMs)}</span> : null}
        </p>
      ) : null}
    </div>
  );
}
