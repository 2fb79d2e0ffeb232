"use client";

import Link from "next/link";
import { useRouter } from "next/navigation";
import { lazy, Suspense, useState, useTransition } from "react";
import { Button, buttonClasses } from "@/components/ui/button";
import { continueJob, deleteJob, retryJob } from "@/lib/jobs/adapters/actions";
import type { PublicJob } from "@/lib/core/job";
import { ContinueIcon, RemixIcon } from "@/components/ui/icons";
import { useHydrated } from "@/components/ui/use-hydrated";

// Not needed for the first paint of a running job: sharing is offered once the video exists, and
// the dialog opens on a click (it renders nothing visible until then, so only the browser renders
// it). Fetched when needed, with React.lazy: next/dynamic's loader would add about 1.4 kB
// (gzipped) to the page. The share panel has no Suspense boundary of its own, as with next/dynamic:
// the server's HTML has it, and the page waits for its code rather than showing a gap.
const SharePanel = lazy(() => import("@/components/job/share-panel").then((m) => ({ default: m.SharePanel })));
const ConfirmDialog = lazy(() => import("@/components/ui/confirm-dialog").then((m) => ({ default: m.ConfirmDialog })));

const UNREACHABLE = "The request did not reach the server. Try again.";

/**
 * What its owner can do with a job: retry it (failed or canceled), remix it, delete it and share
 * it. Nobody else sees a job's page (a shared video has its own, /v/<token>). The server actions
 * check ownership again: hiding the buttons is a courtesy, not the lock.
 */
export function JobActions({
  job,
  isOwner,
  onChanged,
}: {
  job: Pick<PublicJob, "id" | "status" | "shared" | "sharePath" | "prompt">;
  isOwner: boolean;
  onChanged: () => void;
}) {
  const router = useRouter();
  const [pending, startAction] = useTransition();
  const [message, setMessage] = useState<string | null>(null);
  const [confirming, setConfirming] = useState(false);
  const hydrated = useHydrated();

  if (!isOwner) return null;
  const remix = (
    <Link href={`/?remix=${job.id}`} className={buttonClasses("secondary")}>
      <RemixIcon className="size-4" />
      Remix
    </Link>
  );

  const retry = () =>
    startAction(async () => {
      setMessage(null);
      try {
        const result = await retryJob(job.id);
        if (result.ok) router.push(`/jobs/${result.id}`);
        else setMessage(result.message);
      } catch {
        setMessage(UNREACHABLE);
      }
    });

  const continueFromLast = () =>
    startAction(async () => {
      setMessage(null);
      try {
        const result = await continueJob(job.id);
        if (result.ok) router.push(`/jobs/${result.id}`);
        else setMessage(result.message);
      } catch {
        setMessage(UNREACHABLE);
      }
    });

  const remove = () =>
    startAction(async () => {
      setMessage(null);
      try {
        const result = await deleteJob(job.id);
        if (result.ok) router.push("/history");
        else {
          setConfirming(false);
          setMessage(result.message);
        }
      } catch {
        setConfirming(false);
        setMessage(UNREACHABLE);
      }
    });

  return (
    <section aria-labelledby="job-actions-heading" className="space-y-3">
      <h2 id="job-actions-heading" className="sr-only">
        Actions
      </h2>
      <div className="flex flex-wrap items-center gap-3">
        {job.status === "failed" || job.status === "canceled" ? (
          <Button onClick={retry} disabled={pending}>
            {pending && !confirming ? "Starting again…" : "Retry"}
          </Button>
        ) : null}
        {remix}
        {job.status === "succeeded" ? (
          <Button variant="secondary" onClick={continueFromLast} disabled={pending}>
            <ContinueIcon className="size-4" />
            Continue from the last frame
          </Button>
        ) : null}
        <Button variant="danger" onClick={() => setConfirming(true)} disabled={pending}>
          Delete
        </Button>
      </div>
      <p role="status" className="text-sm text-red-700 dark:text-red-300">
        {message}
      </p>
      {job.status === "succeeded" ? (
        <SharePanel jobId={job.id} sharePath={job.sharePath} onChanged={onChanged} />
      ) : null}
      {hydrated ? (
        <Suspense fallback={null}>
          <ConfirmDialog
            open={confirming}
            title="Delete this video?"
            confirmLabel={pending ? "Deleting…" : "Delete"}
            dismissLabel="Keep it"
            pending={pending}
            onConfirm={remove}
            onClose={() => setConfirming(false)}
          >
            The video, its poster and its settings are removed from this server for good
            {job.status === "succeeded" && job.shared ? ", and its share link stops working" : ""}. A running job is
            stopped first.
          </ConfirmDialog>
        </Suspense>
      ) : null}
    </section>
  );
}
