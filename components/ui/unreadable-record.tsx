import { RetryOrStart } from "@/components/ui/retry-or-start";

/** True for an UnreadableRecordError thrown while rendering on the server (Next passes its digest on). */
export { isUnreadableRecord } from "@/lib/store/types";

/**
 * What a page shows when the record it needs exists but cannot be read (a damaged file): not
 * "not found", because nothing is gone. The store has set the file aside and reported it.
 */
export function UnreadableRecord({ retry }: { retry: () => void }) {
  return (
    <div className="mx-auto max-w-xl space-y-4 py-12 text-center">
      <div role="alert" className="space-y-4">
        <h1 className="text-2xl font-semibold tracking-tight">This video&rsquo;s record cannot be read right now.</h1>
        <p className="text-zinc-600 dark:text-zinc-400">
          It is stored, but the file that describes it is damaged, so it has been set aside instead of being treated as
          gone. Nothing was deleted, not the record and not the video. The site&rsquo;s operator has been told and can
          restore it; try again later.
        </p>
      </div>
      <RetryOrStart retry={retry} />
    </div>
  );
}
