"use client"; // Error boundaries must be Client Components.

import { useEffect } from "react";
import { RetryOrStart } from "@/components/ui/retry-or-start";
import { isStoreUnavailable, StoreUnavailable } from "@/components/ui/store-unavailable";
import { isUnreadableRecord, UnreadableRecord } from "@/components/ui/unreadable-record";

export default function ErrorPage({ error, retry }: { error: unknown; retry: () => void }) {
  const storeDown = isStoreUnavailable(error);
  const unreadable = isUnreadableRecord(error);
  useEffect(() => {
    // An unreachable store is expected now and then, and an unreadable record is reported by the server.
    if (!storeDown && !unreadable) console.error(error);
  }, [error, storeDown, unreadable]);

  // Not a bug: the job store did not answer. Say so, and try again by itself until it does.
  if (storeDown) return <StoreUnavailable retry={retry} />;
  // Not "not found" either: the record is there but damaged, set aside, and nothing was deleted.
  if (unreadable) return <UnreadableRecord retry={retry} />;

  const digest = error instanceof Error && "digest" in error && typeof error.digest === "string" ? error.digest : null;

  return (
    <div role="alert" className="mx-auto max-w-xl space-y-4 py-12 text-center">
      <h1 className="text-2xl font-semibold tracking-tight">Something went wrong on our side.</h1>
      <p className="text-zinc-600 dark:text-zinc-400">
        This page could not be shown. Your videos are not affected. Try again, or go back to the start.
      </p>
      {digest ? <p className="text-sm text-zinc-600 dark:text-zinc-400">Error reference: {digest}</p> : null}
      <RetryOrStart retry={retry} />
    </div>
  );
}
