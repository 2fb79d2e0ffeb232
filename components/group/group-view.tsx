import { MakeAnotherLink } from "@/components/ui/make-another-link";
import { GroupMember } from "@/components/group/group-member";
import type { PublicJob } from "@/lib/core/job";

/** Every member of a group side by side, each following its own job live. */
export function GroupView({
  id,
  kind,
  initialJobs,
}: {
  id: string;
  kind: "takes" | "models";
  initialJobs: PublicJob[];
}) {
  const first = initialJobs[0];
  const title = kind === "takes" ? `${initialJobs.length} takes` : `${initialJobs.length} models compared`;
  return (
    <div className="space-y-6" data-group={id}>
      <div className="flex flex-wrap items-end justify-between gap-3">
        <div className="space-y-1">
          <h1 className="text-2xl font-semibold tracking-tight">{title}</h1>
          {first ? <p className="max-w-3xl break-words text-zinc-600 dark:text-zinc-400">{first.prompt}</p> : null}
        </div>
        <MakeAnotherLink />
      </div>
      {initialJobs.length === 0 ? (
        <p className="text-zinc-600 dark:text-zinc-400">Every video of this group has been deleted.</p>
      ) : (
        <ul className={`grid gap-4 ${initialJobs.length >= 3 ? "md:grid-cols-2 xl:grid-cols-3" : "md:grid-cols-2"}`}>
          {initialJobs.map((job, i) => (
            <GroupMember key={job.id} initialJob={job} label={kind === "takes" ? `Take ${i + 1}` : job.modelLabel} />
          ))}
        </ul>
      )}
    </div>
  );
}
