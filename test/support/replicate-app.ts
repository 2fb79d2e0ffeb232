import { startAppHarness, type AppHarness } from "./app-harness";
import { replicateEnvOf, startFakeReplicate, type FakeReplicate, type FakeReplicateOptions } from "./fake-replicate";
import { resetEnvCache } from "@/lib/env";
import { newJob } from "@/lib/jobs/domain/new-job";
import { createJobSchema } from "@/lib/jobs/domain/request";
import type { Job } from "@/lib/core/job";
import { MODELS } from "@/lib/models/registry";

export type ReplicateAppOptions = { fake?: FakeReplicateOptions; appUrl?: boolean; env?: Record<string, string> };

/**
 * The app (in-process harness) in front of a Replicate-compatible server on loopback, talking to
 * it through the real `replicate` client, reconciling after a second; with APP_URL set to the app
 * (so runs report through signed webhooks) unless `appUrl` is false. `timing` is the test's own
 * default pace for the fake server; `opts.fake` overrides it.
 */
export async function startReplicateApp(
  timing: FakeReplicateOptions["timing"],
  opts: ReplicateAppOptions = {},
): Promise<{ app: AppHarness; fake: FakeReplicate }> {
  const fake = await startFakeReplicate({ timing, ...opts.fake });
  const app = await startAppHarness({ env: { ...replicateEnvOf(fake), RECONCILE_AFTER_SECONDS: "1", ...opts.env } });
  if (opts.appUrl !== false) {
    process.env.APP_URL = app.origin;
    resetEnvCache();
  }
  return { app, fake };
}

/** A job made from the form's fields (a Replicate video model by default), stored but not started. */
export async function storedFormJob(
  app: AppHarness,
  opts: { form?: Record<string, string>; ownerId: string; llmEnhancer: boolean },
): Promise<Job> {
  const input = createJobSchema(MODELS).parse({
    prompt: "a hummingbird drinking from a flower",
    style: "photoreal",
    model: "wan-video/wan-2.2-t2v-fast",
    ...opts.form,
  });
  const job = newJob({ input, ownerId: opts.ownerId, llmEnhancer: opts.llmEnhancer, now: Date.now() });
  await app.store.create(job);
  return job;
}
