"use client";

import { useEffect, useRef, useState, useSyncExternalStore } from "react";
import { Button } from "@/components/ui/button";
import { STAGE_LABELS } from "@/components/job/job-text";
import { isTerminal } from "@/lib/core/job-status";
import type { PublicJob } from "@/lib/core/job";
import { BellIcon } from "@/components/ui/icons";

type Support = "unsupported" | "denied" | "default" | "granted";

function readSupport(): Support {
  if (typeof window === "undefined" || !("Notification" in window) || !window.isSecureContext) return "unsupported";
  return Notification.permission;
}

const noop = () => () => {};

/**
 * "Notify me when it's done": a browser notification when the job ends, for a page left in a
 * background tab. Offered only where the Notification API exists and permission was not refused.
 */
export function NotifyButton({ job }: { job: Pick<PublicJob, "id" | "status" | "stage" | "prompt"> }) {
  // The server cannot know; the client reads it after hydration.
  const initial = useSyncExternalStore(noop, readSupport, () => "unsupported" as const);
  const [support, setSupport] = useState<Support | null>(null);
  const [armed, setArmed] = useState(false);
  const notified = useRef(false);
  const current = support ?? initial;
  const ended = isTerminal(job.status);

  useEffect(() => {
    if (!armed || !ended || notified.current || readSupport() !== "granted") return;
    notified.current = true;
    try {
      const n = new Notification(`${STAGE_LABELS[job.stage]} · Prompt2Video`, {
        body: job.prompt.slice(0, 120),
        tag: job.id,
      });
      n.onclick = () => {
        window.focus();
        n.close();
      };
    } catch {
      // Some browsers only allow notifications from a service worker; the tab title still says it.
    }
  }, [armed, ended, job.id, job.stage, job.prompt]);

  if (ended || current === "unsupported") return null;
  if (current === "denied") {
    // Only said right after asking; a refusal from before hides the button without a word.
    return support === "denied" ? (
      <p role="status" className="text-sm text-zinc-600 dark:text-zinc-400">
        Notifications are blocked for this site. The tab title will still say when the video is ready.
      </p>
    ) : null;
  }
  if (armed) {
    return (
      <p role="status" className="text-sm text-zinc-600 dark:text-zinc-400">
        You will get a notification when this video is done (keep this tab open).
      </p>
    );
  }
  const ask = async () => {
    const result =
      current === "granted" ? "granted" : await Notification.requestPermission().catch(() => "denied" as const);
    setSupport(result);
    if (result === "granted") setArmed(true);
  };
  return (
    <Button variant="secondary" onClick={() => void ask()}>
      <BellIcon className="size-4" />
      Notify me when it&apos;s done
    </Button>
  );
}
