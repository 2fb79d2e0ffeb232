import Link from "next/link";
import type { ReactNode } from "react";
import type { JobFacts } from "@/components/job/job-facts";
import type { PublicJob } from "@/lib/core/job";

function Row({ term, children }: { term: string; children: ReactNode }) {
  return (
    <div className="space-y-0.5">
      <dt className="text-xs font-medium tracking-wide text-zinc-600 uppercase dark:text-zinc-400">{term}</dt>
      <dd className="text-sm break-words whitespace-pre-wrap">{children}</dd>
    </div>
  );
}

/** What was asked for and what was sent: the prompts, the style and the settings. */
export function JobDetails({ job, facts, isOwner = false }: { job: PublicJob; facts: JobFacts; isOwner?: boolean }) {
  const style = facts.style;
  const p = job.params;
  const negativeSent = facts.negativePromptAsSent;
  const settings = [
    p.duration !== null ? `${p.duration} seconds` : null,
    p.aspectRatio,
    p.resolution,
    p.seed !== null ? `seed ${p.seed}` : null,
  ].filter((s): s is string => s !== null);

  return (
    <dl className="space-y-4">
      <Row term="Your prompt">{job.prompt}</Row>
      {job.enhancedPrompt && job.enhancedPrompt !== job.prompt && job.enhancedPrompt !== job.finalPrompt ? (
        <Row term="Enhanced prompt">{job.enhancedPrompt}</Row>
      ) : null}
      <Row term="Prompt as sent">
        {job.finalPrompt ?? (
          <span className="text-zinc-600 dark:text-zinc-400">
            {job.status === "queued" || job.stage === "enhancing"
              ? "Not ready yet: it is written once the prompt is enhanced."
              : "Nothing was sent."}
          </span>
        )}
      </Row>
      <Row term="Style">
        {style ? (
          <>
            {style.label} <span className="text-zinc-600 dark:text-zinc-400">· {style.description}</span>
          </>
        ) : (
          job.style
        )}
      </Row>
      <Row term="Model">
        {job.modelLabel}
        {job.engineLabel !== job.modelLabel ? ` · ${job.engineLabel}` : null}
      </Row>
      {settings.length > 0 ? <Row term="Settings">{settings.join(" · ")}</Row> : null}
      {p.negativePrompt && p.negativePrompt !== negativeSent ? (
        <Row term="Your negative prompt">{p.negativePrompt}</Row>
      ) : null}
      {negativeSent ? <Row term="Negative prompt as sent">{negativeSent}</Row> : null}
      <Row term="Options">
        {[
          job.options.enhance ? "Enhance prompt: on" : "Enhance prompt: off",
          job.options.sound ? "Add sound: on" : "Add sound: off",
        ].join(" · ")}
      </Row>
      {job.images.first ? (
        <Row term={job.images.last ? "First and last frames" : "First frame"}>
          {isOwner ? (
            <span className="flex flex-wrap gap-3">
              {[job.images.first, job.images.last].flatMap((image, i) =>
                image ? (
                  // eslint-disable-next-line @next/next/no-img-element -- an owner-only route: not for the image optimizer.
                  <img
                    key={image.url}
                    src={image.url}
                    alt={i === 0 ? "The first frame you gave" : "The last frame you gave"}
                    className="h-20 w-32 rounded object-cover"
                  />
                ) : (
                  []
                ),
              )}
            </span>
          ) : (
            <span className="text-zinc-600 dark:text-zinc-400">Started from an image, shown to its owner only.</span>
          )}
        </Row>
      ) : null}
      {job.continuedFrom ? (
        <Row term="Continues">
          <Link
            href={`/jobs/${job.continuedFrom}`}
            className="font-medium text-brand-700 underline underline-offset-4 dark:text-indigo-300"
          >
            the video it starts from
          </Link>
        </Row>
      ) : null}
      {job.continuations && job.continuations.length > 0 ? (
        <Row term="Continued in">
          <span className="flex flex-wrap gap-x-3">
            {job.continuations.map((id, i) => (
              <Link
                key={id}
                href={`/jobs/${id}`}
                className="font-medium text-brand-700 underline underline-offset-4 dark:text-indigo-300"
              >
                {job.continuations!.length > 1 ? `continuation ${i + 1}` : "the next video"}
              </Link>
            ))}
          </span>
        </Row>
      ) : null}
      {job.remixOf ? (
        <Row term="Remix of">
          <Link
            href={`/jobs/${job.remixOf}`}
            className="font-medium text-brand-700 underline underline-offset-4 dark:text-indigo-300"
          >
            an earlier video
          </Link>
        </Row>
      ) : null}
    </dl>
  );
}
