// GET /v/[token]/embed - the bare player of a shared video, for other sites to frame (the Twitter/X player card)
import { absoluteUrl, publicOrigin } from "@/lib/http/public-origin";
import { getSharedJob } from "@/lib/jobs/adapters/queries";

export const dynamic = "force-dynamic";

/** Text for an HTML attribute or element: the prompt is user input and stays inert. */
function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(title: string, body: string, status: number): Response {
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><meta name="robots" content="noindex"><title>${escapeHtml(title)}</title><style>html,body{margin:0;height:100%;background:#000;color:#fff;font:14px system-ui,sans-serif}video{display:block;width:100%;height:100%;object-fit:contain}p{margin:0;padding:1rem}</style></head><body>${body}</body></html>`;
  // The owner can take the video down at any moment: never answered from a cache.
  return new Response(html, {
    status,
    headers: { "Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store" },
  });
}

export async function GET(_req: Request, { params }: { params: Promise<{ token: string }> }) {
  const { token } = await params;
  const job = await getSharedJob(token);
  if (!job) return page("Not found", "<p>This video is not shared.</p>", 404);
  const origin = await publicOrigin();
  const src = escapeHtml(absoluteUrl(job.videoUrl, origin));
  const poster = job.posterUrl ? ` poster="${escapeHtml(absoluteUrl(job.posterUrl, origin))}"` : "";
  const label = escapeHtml(job.prompt);
  return page(
    job.prompt,
    `<video controls playsinline preload="metadata" src="${src}"${poster} aria-label="${label}"></video>`,
    200,
  );
}
