/** Size classes for a video of the given aspect ratio: portrait and square clips never overflow the screen. */
export function videoFrameClasses(aspectRatio: string | null): string {
  switch (aspectRatio) {
    case "9:16":
    case "9:21":
    case "3:4":
      return "mx-auto max-h-[75vh] w-auto max-w-full";
    case "1:1":
      return "mx-auto aspect-square max-h-[75vh] w-full max-w-[75vh]";
    default:
      return "aspect-video w-full";
  }
}
