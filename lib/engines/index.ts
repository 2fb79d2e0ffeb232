import "server-only";
import { LocalEngine } from "@/lib/engines/local/local-engine";
import { ReplicateEngine } from "@/lib/engines/replicate/replicate-engine";
import type { Engine } from "@/lib/engines/types";
import { env } from "@/lib/env";
import { onStop } from "@/lib/ops/shutdown";
import { localWebhookSecret } from "@/lib/webhooks/local-secret";

/** The Replicate engine and its models are offered only when a token is set. */
export function replicateConfigured(): boolean {
  return Boolean(env().REPLICATE_API_TOKEN);
}

type Engines = { local?: Promise<Engine>; replicate?: Engine };
const g = globalThis as typeof globalThis & { __p2vEngines?: Engines };
// One instance per process, also across Next's dev-mode module reloads (the local engine owns running renders).
const engines: Engines = (g.__p2vEngines ??= {});

export function getEngine(id: "local" | "replicate"): Promise<Engine> {
  if (id === "replicate") {
    if (!replicateConfigured()) return Promise.reject(new Error("REPLICATE_API_TOKEN is not set"));
    engines.replicate ??= new ReplicateEngine();
    return Promise.resolve(engines.replicate);
  }
  engines.local ??= localWebhookSecret().then((secret) => {
    const engine = new LocalEngine({ dataDir: env().DATA_DIR, secret });
    onStop(() => engine.interruptAll());
    return engine;
  });
  engines.local.catch(() => {
    engines.local = undefined;
  });
  return engines.local;
}

/** Tests that need a local engine set up differently (a failing soundtrack, slow renders) put theirs in place. */
export function setLocalEngineForTests(engine: Engine): void {
  engines.local = Promise.resolve(engine);
}

/** Tests change the environment between suites; this drops the engines built from the old one. */
export function resetEnginesForTests(): void {
  engines.local = undefined;
  engines.replicate = undefined;
}
