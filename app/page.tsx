import { valuesFromSearchParams, valuesFromSubmitted } from "@/components/generate/form-values";
import { GenerateForm } from "@/components/generate/generate-form";
import { QueueNotice } from "@/components/generate/queue-notice";
import { RemixNotice } from "@/components/generate/remix-notice";
import { getRemixValues, homePageModels, maxGroupMembers } from "@/lib/jobs/adapters/queries";
import { DEFAULT_QUEUE_MODEL_SECONDS, queueStatus } from "@/lib/jobs/pipeline/queue-place";
import { styleOptions } from "@/lib/styles";

export default async function HomePage({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  const params = await searchParams;
  // `/?remix=<id>`: every field from that job (seed included), if this browser owns it;
  // `/?remix=<share token>`: the settings a shared video shows everyone.
  const remixId = typeof params.remix === "string" ? params.remix : null;
  const remix = remixId ? await getRemixValues(remixId) : null;
  const initialValues = remix ? valuesFromSubmitted(remix) : valuesFromSearchParams(params);
  const models = homePageModels();
  const onlyLocal = models.every((m) => m.engine === "local");
  // The wait is a nicety: a store that does not answer here is reported by the form when it matters.
  const queue = await queueStatus(DEFAULT_QUEUE_MODEL_SECONDS).catch(() => null);

  return (
    <div className="mx-auto max-w-3xl space-y-8">
      <div className="space-y-2">
        <h1 className="text-3xl font-semibold tracking-tight">Make a video from a prompt</h1>
        <p className="text-zinc-600 dark:text-zinc-400">
          Describe a scene, pick a style and a model, and press Generate. You will see every step as it runs, the prompt
          exactly as it was sent, and which engine made the video.
        </p>
        {onlyLocal ? (
          <p className="rounded-lg border border-amber-300 bg-amber-50 px-3 py-2 text-sm text-amber-900 dark:border-amber-800 dark:bg-amber-950/40 dark:text-amber-100">
            Only the local preview is available on this server. It is not AI: it animates shapes and colors from your
            prompt and style. AI models appear here when the server has a Replicate API token.
          </p>
        ) : null}
        {remixId ? <RemixNotice sourceId={remixId} found={remix !== null} /> : null}
        <QueueNotice initial={queue} />
      </div>
      {/* A new key per pre-fill, so following a remix link while on this page resets the form. */}
      <GenerateForm
        key={JSON.stringify(initialValues)}
        models={models}
        styles={styleOptions()}
        initialValues={initialValues}
        maxMembers={maxGroupMembers()}
      />
    </div>
  );
}
