import Image from "next/image";
import Link from "next/link";
import { RelativeTime } from "@/components/ui/relative-time";
import { StatusBadge } from "@/components/ui/status-badge";
import { isTerminal } from "@/lib/core/job-status";
import type { JobStatus, PublicJob } from "@/lib/core/job";
import { queueText } from "@/components/job/job-text";
import { STYLES } from "@/lib/styles";
import { VideoOutlineIcon } from "@/components/ui/icons";

/** A group's status on its card: running while any member runs (with their mean progress), else the first member's end. */
function groupStatus(members: PublicJob[]): { status: JobStatus; progress: number | null } {
  const running = members.filter((m) => !isTerminal(m.status));
  if (running.length > 0) {
    const status = running.some((m) => m.status === "processing") ? "processing" : (running[0]?.status ?? "queued");
    return {
      status,
      progress: members.reduce((sum, m) => sum + (isTerminal(m.status) ? 100 : (m.progress ?? 0)), 0) / members.length,
    };
  }
  const ok = members.find((m) => m.status === "succeeded");
  return { status: ok ? "succeeded" : (members[0]?.status ?? "failed"), progress: null };
}

/**
 * One video in the history: its poster (or a neutral frame), prompt, status and age. A group
 * (takes or a comparison) is one card that opens its side-by-side page.
 */
export function JobCard({ job, members }: { job: PublicJob; members?: PublicJob[] }) {
  const style = STYLES.find((s) => s.id === job.style)?.label ?? job.style;
  const group = members && job.group ? job.group : null;
  const shown = group && members ? groupStatus(members) : { status: job.status, progress: job.progress };
  const poster = group && members ? (members.find((m) => m.posterUrl)?.posterUrl ?? null) : job.posterUrl;
  const models = members ? [...new Set(members.map((m) => m.modelLabel))].join(" vs ") : job.modelLabel;
  return (
    <li className="group relative flex flex-col overflow-hidden rounded-xl border border-zinc-200 bg-white hover:border-zinc-300 has-focus-visible:outline-2 has-focus-visible:outline-offset-2 has-focus-visible:outline-(--focus-ring) dark:border-zinc-800 dark:bg-zinc-900 dark:hover:border-zinc-700">
      <div className="relative aspect-video w-full bg-zinc-100 dark:bg-zinc-800">
        {poster ? (
          // Posters are our own small JPEGs (or Blob URLs): no resizing service in between.
          <Image
            src={poster}
            alt=""
            fill
            unoptimized
            sizes="(min-width: 1024px) 33vw, (min-width: 640px) 50vw, 100vw"
            className="object-cover"
          />
        ) : (
          <div
            className="flex size-full items-center justify-center text-zinc-400 dark:text-zinc-500"
            data-testid="poster-placeholder"
          >
            <VideoOutlineIcon className="size-10" />
          </div>
        )}
      </div>
      <div className="flex flex-1 flex-col gap-2 p-3">
        <div className="flex flex-wrap items-center justify-between gap-2">
          <StatusBadge status={shown.status} progress={shown.progress} />
          <RelativeTime at={job.createdAt} className="text-xs text-zinc-600 dark:text-zinc-400" />
        </div>
        <h2 className="line-clamp-2 text-sm font-medium break-words">
          {/* The whole card is the link (an overlay), so it is one tab stop named by the prompt. */}
          <Link
            href={group ? `/groups/${group.id}` : `/jobs/${job.id}`}
            className="outline-none after:absolute after:inset-0"
          >
            {job.prompt}
          </Link>
        </h2>
        {group && members ? (
          <p className="text-xs font-medium text-brand-700 dark:text-indigo-300">
            {group.kind === "takes" ? `${members.length} takes` : `${members.length} models`}, side by side
          </p>
        ) : null}
        {!group && job.queuePosition !== null ? (
          <p className="text-xs text-zinc-700 dark:text-zinc-300" data-testid="queue-place">
            {queueText(job)}
          </p>
        ) : null}
        <p className="mt-auto text-xs text-zinc-600 dark:text-zinc-400">
          {style} · {group && group.kind === "models" ? models : job.modelLabel}
        </p>
      </div>
    </li>
  );
}
