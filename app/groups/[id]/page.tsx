import type { Metadata } from "next";
import Link from "next/link";
import { notFound } from "next/navigation";
import { GroupView } from "@/components/group/group-view";
import { buttonClasses } from "@/components/ui/button";
import { getGroupForOwner } from "@/lib/jobs/queries";

type Props = { params: Promise<{ id: string }> };

// A group is its owner's page, never indexed.
export const metadata: Metadata = { title: "Side by side", robots: { index: false, follow: false } };

export default async function GroupPage({ params }: Props) {
  const { id } = await params;
  const group = await getGroupForOwner(id);
  if (group === null) notFound();
  if (group === "forbidden") {
    return (
      <div className="mx-auto max-w-xl space-y-4 py-12 text-center">
        <h1 className="text-2xl font-semibold tracking-tight">These videos are private.</h1>
        <p className="text-zinc-600 dark:text-zinc-400">
          Only the browser that made them can see them side by side. A shared video has its own link.
        </p>
        <Link href="/" className={buttonClasses("primary")}>
          Make a video
        </Link>
      </div>
    );
  }
  return <GroupView id={group.id} kind={group.kind} initialJobs={group.jobs} />;
}
