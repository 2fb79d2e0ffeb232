import type { Metadata } from "next";
import Link from "next/link";
import { HistoryList } from "@/components/history/history-list";

export const metadata: Metadata = { title: "Your videos", robots: { index: false, follow: false } };

export default function HistoryPage() {
  return (
    <div className="space-y-6">
      <div className="flex flex-wrap items-end justify-between gap-3">
        <div className="space-y-1">
          <h1 className="text-3xl font-semibold tracking-tight">Your videos</h1>
          <p className="text-zinc-600 dark:text-zinc-400">Everything made in this browser, newest first.</p>
        </div>
        <Link
          href="/"
          className="text-sm font-medium text-brand-700 underline-offset-4 hover:underline dark:text-indigo-300"
        >
          Make a video
        </Link>
      </div>
      <HistoryList />
    </div>
  );
}
