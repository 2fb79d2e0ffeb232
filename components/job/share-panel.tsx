"use client";

import Link from "next/link";
import { useId, useState, useSyncExternalStore, useTransition } from "react";
import { Button } from "@/components/ui/button";
import { setShared } from "@/lib/jobs/adapters/actions";

const noop = () => () => {};

/**
 * Turns the public page on or off, and offers its link to copy. Owner only. Each share has a link
 * of its own (/v/<token>): turning sharing off ends it for good, and sharing again makes a new one.
 */
export function SharePanel({
  jobId,
  sharePath,
  onChanged,
}: {
  jobId: string;
  sharePath: string | null;
  onChanged: () => void;
}) {
  const shared = sharePath !== null;
  const id = useId();
  const [pending, startChange] = useTransition();
  const [message, setMessage] = useState<string | null>(null);
  // The server renders the path; the browser knows its origin and shows the whole link.
  const origin = useSyncExternalStore(
    noop,
    () => window.location.origin,
    () => "",
  );
  const link = sharePath ? `${origin}${sharePath}` : "";

  const toggle = () =>
    startChange(async () => {
      setMessage(null);
      try {
        const result = await setShared(jobId, !shared);
        if (!result.ok) setMessage(result.message);
        else {
          onChanged();
          setMessage(
            shared
              ? "The share page is off: its link no longer works, and sharing again makes a new one."
              : "Shared: anyone with the link can watch this video.",
          );
        }
      } catch {
        setMessage("The request did not reach the server. Try again.");
      }
    });

  const copy = async () => {
    try {
      await navigator.clipboard.writeText(link);
      setMessage("Link copied.");
    } catch {
      // No clipboard permission (or plain HTTP): select the text so Ctrl+C works.
      const input = document.getElementById(`${id}-link`);
      if (input instanceof HTMLInputElement) input.select();
      setMessage("Copying was not allowed here; the link is selected, copy it with Ctrl+C or ⌘C.");
    }
  };

  return (
    <div className="space-y-3 rounded-xl border border-zinc-200 p-4 dark:border-zinc-800">
      <div className="flex flex-wrap items-center justify-between gap-3">
        <div className="space-y-0.5">
          <p id={`${id}-label`} className="text-sm font-medium">
            Public share page
          </p>
          <p id={`${id}-hint`} className="text-sm text-zinc-600 dark:text-zinc-400">
            {shared ? "On: anyone with the link can watch and remix it." : "Off: this video has no public page."}
          </p>
        </div>
        <button
          type="button"
          role="switch"
          aria-checked={shared}
          aria-labelledby={`${id}-label`}
          aria-describedby={`${id}-hint`}
          disabled={pending}
          onClick={toggle}
          className="relative inline-flex h-7 w-12 shrink-0 items-center rounded-full border border-zinc-400 bg-zinc-200 transition-colors disabled:opacity-60 aria-checked:border-brand-600 aria-checked:bg-brand-600 dark:border-zinc-500 dark:bg-zinc-700 dark:aria-checked:border-indigo-400 dark:aria-checked:bg-indigo-500"
        >
          <span
            aria-hidden="true"
            className={`inline-block size-5 rounded-full bg-white shadow transition-transform ${shared ? "translate-x-6" : "translate-x-1"}`}
          />
        </button>
      </div>
      {sharePath ? (
        <div className="flex flex-col gap-2 sm:flex-row sm:items-center">
          <label htmlFor={`${id}-link`} className="sr-only">
            Share link
          </label>
          <input
            id={`${id}-link`}
            readOnly
            value={link}
            onFocus={(e) => e.currentTarget.select()}
            className="min-w-0 flex-1 rounded-lg border border-zinc-300 bg-zinc-50 px-3 py-2 font-mono text-sm dark:border-zinc-600 dark:bg-zinc-900"
          />
          <div className="flex gap-2">
            <Button variant="secondary" onClick={() => void copy()}>
              Copy link
            </Button>
            <Link
              href={sharePath}
              className="inline-flex items-center px-2 text-sm font-medium text-brand-700 underline-offset-4 hover:underline dark:text-indigo-300"
            >
              Open
            </Link>
          </div>
        </div>
      ) : null}
      <p role="status" className="text-sm text-zinc-600 dark:text-zinc-400">
        {message}
      </p>
    </div>
  );
}
