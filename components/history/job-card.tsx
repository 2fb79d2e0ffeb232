import Image from "next/image";
import Link from "next/link";
import { RelativeTime } from "@/components/ui/relative-time";
import { StatusBadge } from "@/components/ui/status-badge";
import type { PublicJob } from "@/lib/jobs/schema";
import { STYLES } from "@/lib/styles";
import { VideoOutlineIcon } from "@/components/ui/icons";

/** One video in the history: its poster (or a neutral frame), prompt, status and age. */
export function JobCard({ job }: { job: PublicJob }) {
  const style = STYLES.find((s) => s.id === job.style)?.label ?? job.style;
  return (
    <li className="group relative flex flex-col overflow-hidden rounded-xl border border-zinc-200 bg-white has-focus-visible:outline-2 has-focus-visible:outline-offset-2 has-focus-visible:outline-(--focus-ring) hover:border-zinc-300 dark:border-zinc-800 dark:bg-zinc-900 dark:hover:border-zinc-700">
      <div className="relative aspect-video w-full bg-zinc-100 dark:bg-zinc-800">
        {job.posterUrl ? (
          // Posters are our own small JPEGs (or Blob URLs): no resizing service in between.
          <Image src={job.posterUrl} alt="" fill unoptimized sizes="(min-width: 1024px) 33vw, (min-width: 640px) 50vw, 100vw" className="object-cover" />
        ) : (
          <div className="flex size-full items-center justify-center text-zinc-400 dark:text-zinc-500" data-testid="poster-placeholder">
            <VideoOutlineIcon className="size-10" />
          </div>
        )}
      </div>
      <div className="flex flex-1 flex-col gap-2 p-3">
        <div className="flex flex-wrap items-center justify-between gap-2">
          <StatusBadge status={job.status} progress={job.progress} />
          <RelativeTime at={job.createdAt} className="text-xs text-zinc-600 dark:text-zinc-400" />
        </div>
        <h2 className="line-clamp-2 text-sm font-medium break-words">
          {/* The whole card is the link (an overlay), so it is one tab stop named by the prompt. */}
          <Link href={`/jobs/${job.id}`} className="outline-none after:absolute after:inset-0">
            {job.prompt}
          </Link>
        </h2>
        <p className="mt-auto text-xs text-zinc-600 dark:text-zinc-400">
          {style} · {job.modelLabel}
        </p>
      </div>
    </li>
  );
}
