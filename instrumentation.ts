/**
 * Runs once when a server instance starts, before Next handles its first request: stamps each
 * request with its connection's address, validates the environment (a bad variable stops the
 * server with a message naming it), answers the event stream and status routes on the Node
 * server itself (self-hosted only), takes the data directory's lock when the store is the
 * embedded one (a second process on it stops with a message saying why), installs the graceful
 * stop, and starts the sweeper, whose first sweep resumes jobs a previous process left unfinished and
 * moves the line of waiting jobs.
 */
export async function register() {
  if (process.env.NEXT_RUNTIME !== "nodejs") return;
  // First, before Next lets requests through: who the client is comes from this stamp.
  const { installPeerStamp } = await import("@/lib/http/peer-address");
  installPeerStamp();
  const { env, storeConfig } = await import("@/lib/env");
  env();
  const store = storeConfig();
  // Self-hosted, the event stream and status routes are answered by the Node server itself, before Next.
  const { serveNodeRoutes } = await import("@/lib/jobs/adapters/node-routes");
  serveNodeRoutes();
  // A build may run while the server serves the same DATA_DIR (build, then restart): it never takes the lock.
  if (store.kind === "embedded" && process.env.NEXT_PHASE !== "phase-production-build") {
    // The embedded store serves one process: a second one on the same DATA_DIR stops here.
    const { lockDataDirOrExit } = await import("@/lib/store/data-dir-lock");
    await lockDataDirOrExit(store.dir);
  }
  const { installShutdownHandlers } = await import("@/lib/ops/shutdown");
  installShutdownHandlers();
  const { startSweepTimer } = await import("@/lib/jobs/adapters/sweep-timer");
  startSweepTimer();
  const { applyRetention } = await import("@/lib/ops/retention");
  const { log } = await import("@/lib/log");

  // The retention policy: at start (after the resume) and every six hours.
  const retain = () =>
    applyRetention()
      .then((removed) => log.info(removed, "retention applied"))
      .catch((error: unknown) => log.warn({ err: String(error) }, "retention failed"));
  setTimeout(retain, 30_000).unref();
  setInterval(retain, 6 * 60 * 60 * 1000).unref();
}
