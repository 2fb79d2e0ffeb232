/** "12 minutes", "1 hour and 5 minutes", "less than a minute". */
export function formatWait(seconds: number): string {
  if (seconds < 60) return "less than a minute";
  const minutes = Math.ceil(seconds / 60);
  if (minutes < 60) return minutes === 1 ? "1 minute" : `${minutes} minutes`;
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  const h = hours === 1 ? "1 hour" : `${hours} hours`;
  if (rest === 0) return h;
  return `${h} and ${rest === 1 ? "1 minute" : `${rest} minutes`}`;
}

/** "1 video", "3 videos". */
export const videos = (n: number) => (n === 1 ? "1 video" : `${n} videos`);
