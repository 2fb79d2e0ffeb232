/**
 * The local engine's output format: a render's output is the string `local:renders/<id>.mp4`,
 * a file under `<dataDir>/renders`. The engine writes it, the webhook reader accepts it, and the
 * save step turns it back into a path (`resolveLocalOutput` in render-files.ts). Nothing else
 * spells the format. No Node imports: the model registry (also in the browser) names the reader.
 */
export const LOCAL_OUTPUT_PREFIX = "local:";
/** The folder under the data directory that holds renders. */
export const RENDERS_DIR = "renders";

const LOCAL_OUTPUT = /^local:[A-Za-z0-9_./-]+$/;

/** The output of render `id`. */
export function localOutput(id: string): string {
  return `${LOCAL_OUTPUT_PREFIX}${RENDERS_DIR}/${id}.mp4`;
}

export function isLocalOutput(value: unknown): value is string {
  return typeof value === "string" && value.startsWith(LOCAL_OUTPUT_PREFIX);
}

/** A local output as a step's output, or null when `output` is not one. */
export function readLocalOutput(output: unknown): string | null {
  return typeof output === "string" && LOCAL_OUTPUT.test(output) ? output : null;
}
