/** Runs work after the response is sent (Next's `after` in the app; a collector in tests). */
export type Schedule = (task: () => Promise<unknown>) => void;

/** Runs work at once in the background (its failures are its own to log): for a long-lived server. */
export const inBackground: Schedule = (task) => void task().catch(() => undefined);
