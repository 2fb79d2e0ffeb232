/** Runs work after the response is sent (Next's `after` in the app; a collector in tests). */
export type Schedule = (task: () => Promise<unknown>) => void;
