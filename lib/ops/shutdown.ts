import "server-only";
import { log } from "@/lib/log";

/**
 * A graceful stop. On SIGTERM or SIGINT (a deploy, `docker stop`, a process manager) Next closes
 * its listener, lets requests in flight finish and exits; meanwhile this process takes no new
 * work (no step is claimed, no sweep starts) and cuts its local renders off without reporting
 * them as failed. Whatever a stop or a crash cuts off is found and redone after the restart
 * (reconcile.ts), within the attempt limit.
 */

type Shutdown = { stopping: boolean; hooks: Set<() => void>; installed: boolean };
// On globalThis: Next's dev-mode module reloads must not install a second set of handlers.
const state = ((globalThis as typeof globalThis & { __p2vShutdown?: Shutdown }).__p2vShutdown ??= {
  stopping: false,
  hooks: new Set(),
  installed: false,
});

/** Whether this process is stopping: take no new work. */
export function isStopping(): boolean {
  return state.stopping;
}

/** Runs `hook` when the process begins to stop (at once when it already has). */
export function onStop(hook: () => void): () => void {
  if (state.stopping) {
    hook();
    return () => undefined;
  }
  state.hooks.add(hook);
  return () => void state.hooks.delete(hook);
}

/** Marks the process as stopping and runs the hooks; the signal handlers call this. */
export function beginShutdown(reason: string): void {
  if (state.stopping) return;
  state.stopping = true;
  log.info({ reason }, "stopping: no new work is taken, local renders are cut off and redone after the restart");
  for (const hook of state.hooks) {
    try {
      hook();
    } catch (error) {
      log.warn({ err: error instanceof Error ? error.message : String(error) }, "a shutdown hook failed");
    }
  }
  state.hooks.clear();
}

/** Installs the signal handlers beside Next's own (which close the server and exit). */
export function installShutdownHandlers(): void {
  if (state.installed) return;
  state.installed = true;
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    process.on(signal, () => {
      beginShutdown(signal);
      // Next's handler closes the server and exits. Where it is turned off (NEXT_MANUAL_SIG_HANDLE)
      // and nobody else listens, a handler must not keep the process alive: exit as Node would.
      if (process.listenerCount(signal) <= 1) process.exit(signal === "SIGTERM" ? 143 : 130);
    });
  }
}

/** Tests run several "processes" in one: this brings the flag back. */
export function resetShutdownForTests(): void {
  state.stopping = false;
  state.hooks.clear();
}
