"use client";

import { Button } from "@/components/ui/button";
import { SpinnerIcon } from "@/components/ui/icons";
import type { CreateJobState } from "@/lib/jobs/domain/request";

/** The Generate button and the status line beside it (read out when it changes). */
export function SubmitRow(props: { id: string; busy: boolean; state: CreateJobState; statusLine: string | null }) {
  const { id, busy, state, statusLine } = props;
  return (
    <div className="flex flex-col gap-3 sm:flex-row sm:items-center">
      <Button
        type="submit"
        disabled={busy}
        aria-describedby={statusLine ? `${id}-status` : undefined}
        className="px-6 py-2.5 text-base"
      >
        {busy ? (
          <>
            <SpinnerIcon track={0.3} className="size-4 motion-safe:animate-spin" />
            Generating…
          </>
        ) : (
          "Generate"
        )}
      </Button>
      <p
        id={`${id}-status`}
        role="status"
        aria-live="polite"
        className={`text-sm ${state.status === "failed" || state.status === "rate_limited" || statusLine ? "text-red-700 dark:text-red-300" : ""}`}
      >
        {statusLine}
      </p>
    </div>
  );
}
