import type { Metadata } from "next";
import { notFound } from "next/navigation";
import { cache } from "react";
import { ShareView } from "@/components/share/share-view";
import { absoluteUrl, publicOrigin } from "@/lib/http/public-origin";
import { getSharedJob } from "@/lib/jobs/adapters/queries";
import { sharePath } from "@/lib/jobs/domain/public";
import type { SharedJob } from "@/lib/core/job";
import { localFrameSize } from "@/lib/models/registry";

type Props = { params: Promise<{ token: string }> };

// generateMetadata and the page both need the job: load it once per request. Only through the
// share's token: once the owner turns sharing off, the page and its tags are "Not found".
const loadShared = cache(async (token: string): Promise<SharedJob | null> => getSharedJob(token));

/** "A paper boat drifting down a rainy…": a prompt short enough for a title. */
function shortTitle(prompt: string, max = 70): string {
  const flat = prompt.replace(/\s+/g, " ").trim();
  if (flat.length <= max) return flat;
  const cut = flat.slice(0, max - 1);
  return `${cut.slice(0, Math.max(cut.lastIndexOf(" "), max / 2))}…`;
}

export async function generateMetadata({ params }: Props): Promise<Metadata> {
  const { token } = await params;
  const job = await loadShared(token);
  if (!job) return { title: "Not found", robots: { index: false } };

  const origin = await publicOrigin();
  const pageUrl = `${origin}${sharePath(job.token)}`;
  const videoUrl = absoluteUrl(job.videoUrl, origin);
  const posterUrl = job.posterUrl ? absoluteUrl(job.posterUrl, origin) : null;
  // Only the local preview's frame size is known here; an AI model's output size is its own.
  const size = job.engine === "local" ? localFrameSize(job.params.aspectRatio, job.params.resolution) : null;
  // The player card's frame: the video's shape at a size X shows well.
  const playerSize = size ?? localFrameSize(job.params.aspectRatio, "480p");
  const title = shortTitle(job.prompt);
  const description = `A ${job.params.duration ? `${job.params.duration}-second ` : ""}video made with ${job.modelLabel} on Prompt2Video.`;

  return {
    title,
    description,
    alternates: { canonical: pageUrl },
    openGraph: {
      type: "video.other",
      siteName: "Prompt2Video",
      url: pageUrl,
      title,
      description,
      videos: [
        {
          url: videoUrl,
          ...(videoUrl.startsWith("https://") ? { secureUrl: videoUrl } : {}),
          type: "video/mp4",
          ...(size ?? {}),
        },
      ],
      ...(posterUrl ? { images: [{ url: posterUrl, alt: title, ...(size ?? {}) }] } : {}),
    },
    // A player card frames the bare player (`/v/[token]/embed`, the one path the CSP lets others frame).
    // X renders player cards only for HTTPS pages and players.
    twitter: {
      card: "player",
      title,
      description,
      players: [{ playerUrl: `${pageUrl}/embed`, streamUrl: videoUrl, ...playerSize }],
      ...(posterUrl ? { images: [posterUrl] } : {}),
    },
  };
}

export default async function SharePage({ params }: Props) {
  const { token } = await params;
  const job = await loadShared(token);
  if (!job) notFound();
  return <ShareView job={job} />;
}
