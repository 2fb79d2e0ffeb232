import type { Metadata } from "next";
import Link from "next/link";
import { notFound } from "next/navigation";
import { cache } from "react";
import { jobFacts } from "@/components/job/job-facts";
import { jobTitle } from "@/components/job/job-text";
import { JobView } from "@/components/job/job-view";
import { buttonClasses } from "@/components/ui/button";
import { getOwnJob } from "@/lib/jobs/adapters/queries";
import { jobIdSchema } from "@/lib/core/job";

type Props = { params: Promise<{ id: string }> };

// generateMetadata and the page both need the job: load it once per request.
const loadJob = cache(getOwnJob);

export async function generateMetadata({ params }: Props): Promise<Metadata> {
  const { id } = await params;
  // A job page is its owner's alone: never indexed (shared videos live at /v/[token]). Anyone
  // else gets "Not found", as for a job that does not exist.
  const robots = { index: false, follow: false };
  if (!jobIdSchema.safeParse(id).success) return { title: "Malformed link", robots };
  const found = await loadJob(id);
  // The same title the page keeps up to date while the job runs, so nothing flickers.
  return { title: found ? jobTitle(found) : "Not found", robots };
}

export default async function JobPage({ params }: Props) {
  const { id } = await params;
  if (!jobIdSchema.safeParse(id).success) {
    return (
      <div className="mx-auto max-w-xl space-y-4 py-12 text-center">
        <h1 className="text-2xl font-semibold tracking-tight">This link is not a video address.</h1>
        <p className="text-zinc-600 dark:text-zinc-400">
          Video links end in a 22-character code, and this one does not. Check that the whole link was copied.
        </p>
        <Link href="/" className={buttonClasses("primary")}>
          Make a video
        </Link>
      </div>
    );
  }
  const job = await loadJob(id);
  if (!job) notFound();
  return <JobView initialJob={job} facts={jobFacts(job)} canCancel />;
}
