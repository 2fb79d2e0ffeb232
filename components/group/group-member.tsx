"use client";

import Link from "next/link";
import { SharePanel } from "@/components/job/share-panel";
import { buttonClasses } from "@/components/ui/button";
import { DownloadIcon, RemixIcon } from "@/components/ui/icons";
import { JobVideo } from "@/components/ui/job-video";
import { ProgressBar } from "@/components/ui/progress-bar";
import { StatusBadge } from "@/components/ui/status-badge";
import { asciiSlug, downloadUrl } from "@/lib/files/download-name";
import type { PublicJob } from "@/lib/core/job";
import { useJob } from "@/lib/swr/use-job";

/**
 * One member of a group: its own live progress (the same stream as its job page), then its
 * video, and what can be done with it on its own: open, download, remix, share.
 */
export function GroupMember({ initialJob, label }: { initialJob: PublicJob; label: string }) {
  const { job: live, mutate } = useJob(initialJob.id, initialJob);
  const job = live ?? initialJob;
  const headingId = `member-${job.id}`;
  const settings = [
    job.params.seed !== null ? `seed ${job.params.seed}` : null,
    job.params.duration !== null ? `${job.params.duration} s` : null,
  ]
    .filter(Boolean)
    .join(" · ");

  return (
    <li
      aria-labelledby={headingId}
      className="space-y-3 rounded-xl border border-zinc-200 p-4 dark:border-zinc-800"
      data-testid="group-member"
    >
      <div className="flex flex-wrap items-center justify-between gap-2">
        <h2 id={headingId} className="font-semibold">
          {label}
        </h2>
        <StatusBadge status={job.status} progress={job.progress} />
      </div>
      <p className="text-sm text-zinc-600 dark:text-zinc-400">
        {job.modelLabel}
        {settings ? ` · ${settings}` : ""}
      </p>

      {job.status === "succeeded" && job.videoUrl ? (
        <JobVideo
          key={job.videoUrl}
          src={job.videoUrl}
          poster={job.posterUrl}
          aspectRatio={job.params.aspectRatio}
          preload="auto"
        />
      ) : job.status === "failed" || job.status === "canceled" ? (
        <p className="text-sm text-red-700 dark:text-red-300">{job.error ?? job.message}</p>
      ) : (
        <div className="space-y-2">
          <p className="text-sm font-medium" data-testid="member-message">
            {job.message}
          </p>
          <ProgressBar value={job.progress} estimated={job.progressEstimated} label={`Progress of ${label}`} />
        </div>
      )}

      <div className="flex flex-wrap gap-2">
        <Link href={`/jobs/${job.id}`} className={buttonClasses("secondary")}>
          Open<span className="sr-only"> {label}</span>
        </Link>
        {job.status === "succeeded" && job.videoUrl ? (
          <a
            href={downloadUrl(job.videoUrl)}
            download={`${asciiSlug(job.prompt)}.mp4`}
            className={buttonClasses("secondary")}
          >
            <DownloadIcon className="size-4" />
            Download<span className="sr-only"> {label}</span>
          </a>
        ) : null}
        <Link href={`/?remix=${job.id}`} className={buttonClasses("secondary")}>
          <RemixIcon className="size-4" />
          Remix<span className="sr-only"> {label}</span>
        </Link>
      </div>
      {job.status === "succeeded" ? (
        <SharePanel jobId={job.id} sharePath={job.sharePath} onChanged={() => void mutate()} />
      ) : null}
    </li>
  );
}
