import type { Metadata } from "next";
import Link from "next/link";
import { buttonClasses } from "@/components/ui/button";

export const metadata: Metadata = { title: "Not found" };

export default function NotFound() {
  return (
    <div className="mx-auto max-w-xl space-y-4 py-12 text-center">
      <h1 className="text-2xl font-semibold tracking-tight">We could not find that page.</h1>
      <p className="text-zinc-600 dark:text-zinc-400">
        The link may be mistyped, or the video was deleted after the retention period.
      </p>
      <div className="flex flex-wrap justify-center gap-3">
        <Link href="/" className={buttonClasses("primary")}>
          Make a video
        </Link>
        <Link href="/history" className={buttonClasses("secondary")}>
          Your videos
        </Link>
      </div>
    </div>
  );
}
