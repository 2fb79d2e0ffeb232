"use client";

import { useState, useTransition } from "react";
import { Button } from "@/components/ui/button";
import { cancelJob } from "@/lib/jobs/adapters/actions";

/** Asks the server to stop the job; the status poll then shows "Canceled". */
export function CancelButton({ jobId, onRequested }: { jobId: string; onRequested: () => void }) {
  const [pending, startCancel] = useTransition();
  const [message, setMessage] = useState<string | null>(null);

  const cancel = () =>
    startCancel(async () => {
      setMessage(null);
      try {
        const result = await cancelJob(jobId);
        if (result.ok) onRequested();
        else setMessage(result.message);
      } catch {
        setMessage("The cancel request did not reach the server. Try again.");
      }
    });

  return (
    <div className="flex flex-wrap items-center gap-3">
      <Button variant="danger" onClick={cancel} disabled={pending}>
        {pending ? "Canceling…" : "Cancel"}
      </Button>
      <p role="status" className="text-sm text-red-700 dark:text-red-300">
        {message}
      </p>
    </div>
  );
}
