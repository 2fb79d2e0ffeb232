import Link from "next/link";
import { SHARE_TOKEN_PATTERN } from "@/lib/core/job-status";

/** Says that the form was filled in from another video, or why it could not be. */
export function RemixNotice({ sourceId, found }: { sourceId: string; found: boolean }) {
  // A job id (this browser's own video) or a share token (someone's shared video).
  const source = SHARE_TOKEN_PATTERN.test(sourceId) ? `/v/${sourceId}` : `/jobs/${sourceId}`;
  if (!found) {
    return (
      <p
        role="status"
        className="rounded-lg border border-zinc-300 bg-zinc-50 px-3 py-2 text-sm dark:border-zinc-700 dark:bg-zinc-900"
      >
        That video cannot be remixed here: it was deleted, it belongs to another browser, or its share link was turned
        off. The form starts empty.
      </p>
    );
  }
  return (
    <p className="rounded-lg border border-brand-100 bg-brand-50 px-3 py-2 text-sm text-brand-800 dark:border-indigo-800 dark:bg-indigo-950/50 dark:text-indigo-100">
      Remixing{" "}
      <Link href={source} className="font-medium underline underline-offset-4">
        a video
      </Link>
      : every setting is filled in from it, with its seed locked, so the same settings can give the same video again.
      Change anything to make it your own.
    </p>
  );
}
