/**
 * The model a job uses when nothing names one (the form's first choice, the API's default) while
 * Replicate is configured: fast, fairly cheap, and it takes both a first and a last frame.
 * Without a token the local preview is the only model, and so the default.
 * Apart from lib/models/registry.ts, so the form can pick it without the registry in its bundle.
 */
export const DEFAULT_MODEL_ID = "bytedance/seedance-1-lite";

/** The default among the models on offer: DEFAULT_MODEL_ID when offered, else the first one. */
export function defaultModel<M extends { id: string }>(models: readonly M[]): M | undefined {
  return models.find((m) => m.id === DEFAULT_MODEL_ID) ?? models[0];
}
