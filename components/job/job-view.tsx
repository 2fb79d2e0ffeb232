"use client";

import { MakeAnotherLink } from "@/components/ui/make-another-link";
import { lazy, Suspense, useEffect, useState } from "react";
import { CancelButton } from "@/components/job/cancel-button";
import { JobActions } from "@/components/job/job-actions";
import { JobDetails } from "@/components/job/job-details";
import type { JobFacts } from "@/components/job/job-facts";
import { JobSteps } from "@/components/job/job-steps";
import { formatDuration, jobTitle, queueText } from "@/components/job/job-text";
import { JobTiming } from "@/components/job/job-timing";
import { useNow } from "@/components/job/use-now";
import { buttonClasses } from "@/components/ui/button";
import { ProgressBar } from "@/components/ui/progress-bar";
import { asciiSlug, downloadUrl } from "@/lib/files/download-name";
import { isTerminal } from "@/lib/core/job-status";
import type { PublicJob } from "@/lib/core/job";
import { useJob } from "@/lib/swr/use-job";
import { JobVideo } from "@/components/ui/job-video";
import { DownloadIcon } from "@/components/ui/icons";
import { useHydrated } from "@/components/ui/use-hydrated";

const APP_NAME = "Prompt2Video";

// Shown only after hydration (the server cannot know whether notifications are allowed): its
// code is fetched then, not before the first paint. React.lazy rather than next/dynamic, whose
// loader would add about 1.4 kB (gzipped) to the page.
const NotifyButton = lazy(() => import("@/components/job/notify-button").then((m) => ({ default: m.NotifyButton })));

/** A job as it runs: pushed over SSE (polled only as a fallback) until it ends, then the video or what went wrong. */
export function JobView({
  initialJob,
  facts,
  canCancel = true,
}: {
  initialJob: PublicJob;
  /** What is fixed when the job is made, worked out on the server (`jobFacts`). */
  facts: JobFacts;
  /** Only the browser that made the job may cancel it. */
  canCancel?: boolean;
}) {
  const { job: polled, error, mutate } = useJob(initialJob.id, initialJob);
  const job = polled ?? initialJob;
  const terminal = isTerminal(job.status);
  const now = useNow(!terminal);
  const hydrated = useHydrated();

  const title = jobTitle(job);
  useEffect(() => {
    document.title = `${title} · ${APP_NAME}`;
  }, [title, job.seq]);

  // Announce stage changes (not every progress tick) to screen readers.
  const [announced, setAnnounced] = useState({ stage: job.stage, text: "" });
  if (announced.stage !== job.stage) setAnnounced({ stage: job.stage, text: job.message });

  // The player's source is chosen once, when there is first something to play, and kept: the
  // playback URL while saving; for a job that had ended, its saved copy.
  const [videoSrc, setVideoSrc] = useState<string | null>(() => firstVideoSrc(initialJob));
  const offered = firstVideoSrc(job);
  if (videoSrc === null && offered !== null) setVideoSrc(offered);

  const startedFrom = job.startedAt ?? job.createdAt;
  const elapsed = job.completedAt !== null ? job.completedAt - startedFrom : now !== null ? now - startedFrom : null;

  return (
    <div className="space-y-8">
      <div className="flex flex-wrap items-center justify-between gap-3">
        <h1 className="text-2xl font-semibold tracking-tight">Your video</h1>
        <MakeAnotherLink />
      </div>

      <p className="rounded-lg bg-zinc-100 px-3 py-2 text-sm dark:bg-zinc-900">
        Made with: <strong className="font-semibold">{job.modelLabel}</strong>
        {job.engineLabel !== job.modelLabel ? <> · {job.engineLabel}</> : null}
      </p>

      <div aria-live="polite" className="sr-only">
        {announced.text}
      </div>

      <div className="grid gap-8 lg:grid-cols-[minmax(0,3fr)_minmax(0,2fr)]">
        <section aria-labelledby="job-status-heading" className="space-y-5">
          <h2 id="job-status-heading" className="sr-only">
            Status
          </h2>

          {videoSrc && job.status !== "failed" && job.status !== "canceled" ? (
            <div className="space-y-3">
              {/* One player from the first moment there is a video: its source never changes, so it is never reloaded. */}
              <JobVideo
                key={videoSrc}
                src={videoSrc}
                poster={job.posterUrl}
                aspectRatio={job.params.aspectRatio}
                preload="auto"
              />
              {job.status === "succeeded" && job.videoUrl ? (
                <div className="flex flex-wrap items-center gap-3">
                  <a
                    href={downloadUrl(job.videoUrl)}
                    download={`${asciiSlug(job.prompt)}.mp4`}
                    className={buttonClasses("primary")}
                  >
                    <DownloadIcon className="size-4" />
                    Download
                  </a>
                  <p className="text-sm text-zinc-600 dark:text-zinc-400">{job.message}</p>
                </div>
              ) : (
                <p className="text-sm text-zinc-600 dark:text-zinc-400" data-testid="saving-note">
                  Saving your video… You can watch it already; the download is ready once it is saved.
                </p>
              )}
            </div>
          ) : null}

          {job.status === "failed" ? (
            <div
              role="alert"
              className="space-y-1 rounded-xl border border-red-300 bg-red-50 p-4 dark:border-red-800 dark:bg-red-950/40"
            >
              <p className="font-medium text-red-800 dark:text-red-200">The video could not be made.</p>
              <p className="text-sm text-red-800 dark:text-red-200">{job.error ?? job.message}</p>
            </div>
          ) : null}

          {job.status === "canceled" ? (
            <div className="space-y-1 rounded-xl border border-zinc-300 bg-zinc-50 p-4 dark:border-zinc-700 dark:bg-zinc-900">
              <p className="font-medium">Canceled</p>
              <p className="text-sm text-zinc-600 dark:text-zinc-400">{job.message}</p>
            </div>
          ) : null}

          {!terminal ? (
            <div className="space-y-3 rounded-xl border border-zinc-200 p-4 dark:border-zinc-800">
              <p className="font-medium" data-testid="job-message">
                {job.message}
              </p>
              {job.queuePosition !== null ? (
                <p className="text-sm text-zinc-700 dark:text-zinc-300" data-testid="queue-place">
                  {queueText(job)}
                </p>
              ) : null}
              <ProgressBar value={job.progress} estimated={job.progressEstimated} label="Video progress" />
              <p className="flex flex-wrap justify-between gap-x-4 text-sm text-zinc-600 dark:text-zinc-400">
                <span>
                  {job.progress === null
                    ? "Overall progress not known yet"
                    : `Overall: ${Math.round(job.progress)}%${job.progressEstimated ? " (estimated from typical run time)" : ""}`}
                </span>
                {elapsed !== null ? <span>Elapsed: {formatDuration(elapsed)}</span> : null}
              </p>
              <JobTiming job={job} now={now} facts={facts} />
              {canCancel ? <CancelButton jobId={job.id} onRequested={() => void mutate()} /> : null}
            </div>
          ) : elapsed !== null ? (
            <div className="space-y-1">
              <p className="text-sm text-zinc-600 dark:text-zinc-400">Took {formatDuration(elapsed)}.</p>
              <JobTiming job={job} now={now} facts={facts} />
            </div>
          ) : null}

          {/* Outside the running box: it must stay mounted to notify when the job ends. */}
          {hydrated ? (
            <Suspense fallback={null}>
              <NotifyButton job={job} />
            </Suspense>
          ) : null}
          <JobActions job={job} isOwner={canCancel} onChanged={() => void mutate()} />

          {job.notice ? (
            <p className="rounded-lg border border-amber-300 bg-amber-50 px-3 py-2 text-sm text-amber-900 dark:border-amber-800 dark:bg-amber-950/40 dark:text-amber-100">
              {job.notice}
            </p>
          ) : null}

          {error ? (
            <p role="status" className="text-sm text-red-700 dark:text-red-300">
              {error.status === 404
                ? "This video is no longer on the server."
                : `Could not refresh the status: ${error.message} Retrying…`}
            </p>
          ) : null}

          <section aria-labelledby="job-steps-heading" className="space-y-3">
            <h2 id="job-steps-heading" className="text-lg font-semibold">
              Steps
            </h2>
            <JobSteps steps={job.steps} jobRunning={!terminal} />
          </section>
        </section>

        <section aria-labelledby="job-details-heading" className="space-y-3">
          <h2 id="job-details-heading" className="text-lg font-semibold">
            Details
          </h2>
          <JobDetails job={job} facts={facts} isOwner={canCancel} />
        </section>
      </div>
    </div>
  );
}

function firstVideoSrc(job: PublicJob): string | null {
  if (job.status === "succeeded") return job.videoUrl;
  if (job.status === "failed" || job.status === "canceled") return null;
  return job.playbackUrl;
}
