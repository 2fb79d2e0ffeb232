import type { Metadata } from "next";
import { notFound } from "next/navigation";
import { GroupView } from "@/components/group/group-view";
import { getGroupForOwner } from "@/lib/jobs/adapters/queries";

type Props = { params: Promise<{ id: string }> };

// A group is its owner's page, never indexed.
export const metadata: Metadata = { title: "Side by side", robots: { index: false, follow: false } };

export default async function GroupPage({ params }: Props) {
  const { id } = await params;
  const group = await getGroupForOwner(id);
  // Someone else's group is answered as one that does not exist.
  if (group === null) notFound();
  return <GroupView id={group.id} kind={group.kind} initialJobs={group.jobs} />;
}
