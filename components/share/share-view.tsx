import Link from "next/link";
import { buttonClasses } from "@/components/ui/button";
import { JobVideo } from "@/components/ui/job-video";
import { asciiSlug, downloadUrl } from "@/lib/files/download-name";
import type { SharedJob } from "@/lib/core/job";
import { STYLES } from "@/lib/styles";

/**
 * The public page of a shared video: the video, what made it, and a way to make one like it.
 * Only the fields everyone may see (SharedJob): the owner's prompt as sent stays on the job page.
 */
export function ShareView({ job }: { job: SharedJob }) {
  const style = STYLES.find((s) => s.id === job.style);
  return (
    <article className="mx-auto max-w-3xl space-y-6">
      <header className="space-y-2">
        <p className="text-sm font-medium text-zinc-600 dark:text-zinc-400">A video made with Prompt2Video</p>
        <h1 className="text-2xl font-semibold tracking-tight break-words sm:text-3xl">{job.prompt}</h1>
      </header>

      <JobVideo src={job.videoUrl} poster={job.posterUrl} aspectRatio={job.params.aspectRatio} preload="metadata" />

      <p className="rounded-lg bg-zinc-100 px-3 py-2 text-sm dark:bg-zinc-900">
        Made with: <strong className="font-semibold">{job.modelLabel}</strong>
        {job.engineLabel !== job.modelLabel ? <> · {job.engineLabel}</> : null}
        {job.engine === "local" ? (
          <span className="block text-zinc-600 dark:text-zinc-400">
            The local preview is not AI: it draws shapes and colors from the prompt and style.
          </span>
        ) : null}
      </p>

      <div className="flex flex-wrap gap-3">
        <Link href={`/?remix=${job.token}`} className={buttonClasses("primary")}>
          Remix this video
        </Link>
        <a
          href={downloadUrl(job.videoUrl)}
          download={`${asciiSlug(job.prompt)}.mp4`}
          className={buttonClasses("secondary")}
        >
          Download
        </a>
        <Link href="/" className={buttonClasses("ghost")}>
          Make your own
        </Link>
      </div>

      <dl className="grid gap-4 text-sm sm:grid-cols-2">
        <div className="space-y-0.5">
          <dt className="text-xs font-medium tracking-wide text-zinc-600 uppercase dark:text-zinc-400">Style</dt>
          <dd>{style?.label ?? job.style}</dd>
        </div>
        <div className="space-y-0.5">
          <dt className="text-xs font-medium tracking-wide text-zinc-600 uppercase dark:text-zinc-400">Settings</dt>
          <dd>
            {[
              job.params.duration !== null ? `${job.params.duration} seconds` : null,
              job.params.aspectRatio,
              job.params.resolution,
              job.params.seed !== null ? `seed ${job.params.seed}` : null,
            ]
              .filter(Boolean)
              .join(" · ") || "Model defaults"}
          </dd>
        </div>
      </dl>
    </article>
  );
}
