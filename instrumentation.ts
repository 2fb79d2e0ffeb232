/**
 * Runs once when a server instance starts: validates the environment (a bad variable stops the
 * server with a message naming it), then resumes jobs a previous process left unfinished.
 */
export async function register() {
  if (process.env.NEXT_RUNTIME !== "nodejs") return;
  const { env } = await import("@/lib/env");
  env();
  const { resumeUnfinished } = await import("@/lib/jobs/reconcile");
  const { log } = await import("@/lib/log");
  // Wait until a dead process's steps have been quiet long enough to be recognised as lost.
  const timer = setTimeout(() => {
    resumeUnfinished()
      .then((count) => count > 0 && log.info({ count }, "checked unfinished jobs after start"))
      .catch((error: unknown) => log.warn({ err: String(error) }, "resuming unfinished jobs failed"));
  }, 6_000);
  timer.unref();
}
