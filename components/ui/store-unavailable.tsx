"use client";

import { useRouter } from "next/navigation";
import { useEffect, useState } from "react";
import { RetryOrStart } from "@/components/ui/retry-or-start";
import { STORE_RETRY_SECONDS } from "@/lib/store/types";

/** True for a StoreUnavailableError thrown while rendering on the server (Next passes its digest on). */
export { isStoreUnavailable } from "@/lib/store/types";

/**
 * What a page shows while the job store is unreachable: that nothing is lost, and that it tries
 * again by itself every few seconds (re-rendering the page on the server) until the store answers.
 * `retry` defaults to refreshing the route; an error boundary passes its own.
 */
export function StoreUnavailable({ retry }: { retry?: () => void }) {
  const router = useRouter();
  const [left, setLeft] = useState(STORE_RETRY_SECONDS);

  useEffect(() => {
    const again = retry ?? (() => router.refresh());
    let deadline = Date.now() + STORE_RETRY_SECONDS * 1000;
    const timer = setInterval(() => {
      const now = Date.now();
      if (now >= deadline) {
        deadline = now + STORE_RETRY_SECONDS * 1000;
        again();
      }
      setLeft(Math.max(1, Math.ceil((deadline - now) / 1000)));
    }, 1000);
    return () => clearInterval(timer);
  }, [retry, router]);

  return (
    <div className="mx-auto max-w-xl space-y-4 py-12 text-center">
      <div role="alert" className="space-y-4">
        <h1 className="text-2xl font-semibold tracking-tight">The job store is unreachable right now.</h1>
        <p className="text-zinc-600 dark:text-zinc-400">
          This page cannot be shown until it answers again. Nothing is lost: videos and jobs are kept there, and jobs
          that were running carry on once it is back.
        </p>
      </div>
      {/* Not a live region: a countdown read out every second would drown everything else. */}
      <p className="text-sm text-zinc-600 dark:text-zinc-400">Trying again by itself in {left} s.</p>
      <RetryOrStart retry={retry ?? (() => router.refresh())} label="Try now" />
    </div>
  );
}
