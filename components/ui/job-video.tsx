import { videoFrameClasses } from "@/components/ui/video-frame";

/** A finished video as the job and share pages show it, sized for its aspect ratio. */
export function JobVideo({
  src,
  poster,
  aspectRatio,
  preload,
}: {
  src: string;
  poster: string | null;
  aspectRatio: string | null;
  preload: "auto" | "metadata";
}) {
  return (
    <video
      controls
      playsInline
      preload={preload}
      poster={poster ?? undefined}
      src={src}
      className={`rounded-xl bg-black ${videoFrameClasses(aspectRatio)}`}
    >
      Your browser cannot play this video here; use the download link below.
    </video>
  );
}
