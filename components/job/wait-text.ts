/**
 * "about 2 minutes", "less than a minute", for waits in line. A module of its own so the home
 * page's queue notice does not bring the job page's labels (job-text.ts) into its JavaScript.
 */
export function formatWaitEstimate(seconds: number): string {
  if (seconds < 60) return "less than a minute";
  const m = Math.round(seconds / 60);
  return m === 1 ? "about 1 minute" : `about ${m} minutes`;
}
