import { beforeAll, describe, expect, it } from "vitest";
import { GET as sharedFile, HEAD as sharedHead } from "@/app/api/shared/[token]/[file]/route";
import { GET as sharedStatus } from "@/app/api/shared/[token]/route";
import { localVideoStore } from "@/lib/files";
import { SHARED_FILE_MAX_AGE, videoKey } from "@/lib/files/types";
import { endShare, startShare } from "@/lib/jobs/pipeline/sharing";
import { embeddedStoreForFile } from "@/test/support/embedded-store";
import { makeJob, newJobId } from "@/test/support/job-factory";

/**
 * A shared video's files and public state, reached through its share token only, on the local
 * video store: served while the share lasts, with a short public cache lifetime; 404 at once
 * when it is turned off, and for good (sharing again makes a new token).
 */

const data = embeddedStoreForFile("p2v-shared-");
const id = newJobId();
const job = makeJob({
  id,
  status: "succeeded",
  stage: "done",
  prompt: "A kite over a windy beach",
  finalPrompt: "the prompt as sent, for the owner only",
  videoUrl: `/api/files/${id}/a-kite-over-a-windy-beach.mp4`,
  posterUrl: `/api/files/${id}/poster.jpg`,
});

const file = (
  handler: typeof sharedFile,
  token: string,
  name: string,
  headers: Record<string, string> = {},
  query = "",
) =>
  handler(new Request(`http://app.test/api/shared/${token}/${name}${query}`, { headers }), {
    params: Promise.resolve({ token, file: name }),
  });
const status = (token: string) =>
  sharedStatus(new Request(`http://app.test/api/shared/${token}`), { params: Promise.resolve({ token }) });

beforeAll(async () => {
  await data.store.create(job);
  await localVideoStore().put(videoKey(id, "a-kite-over-a-windy-beach.mp4"), new Response("0123456789").body!, {
    contentType: "video/mp4",
    maxBytes: 100,
  });
  await localVideoStore().put(videoKey(id, "poster.jpg"), new Response("jpg").body!, {
    contentType: "image/jpeg",
    maxBytes: 100,
  });
});

describe("GET /api/shared/[token]/…", () => {
  it("serves a share's video and poster through its token, briefly cacheable by anyone; 404 once it is off", async () => {
    const share = (await startShare(job))!;
    expect(share.videoUrl).toBe(`/api/shared/${share.token}/video.mp4`);
    expect(share.posterUrl).toBe(`/api/shared/${share.token}/poster.jpg`);

    const video = await file(sharedFile, share.token, "video.mp4");
    expect(video.status).toBe(200);
    expect(video.headers.get("content-type")).toBe("video/mp4");
    expect(video.headers.get("cache-control")).toBe(
      `public, max-age=${SHARED_FILE_MAX_AGE}, s-maxage=${SHARED_FILE_MAX_AGE}`,
    );
    expect(SHARED_FILE_MAX_AGE).toBeLessThanOrEqual(300);
    expect(await video.text()).toBe("0123456789");
    const part = await file(sharedFile, share.token, "video.mp4", { range: "bytes=2-4" });
    expect(part.status).toBe(206);
    expect(await part.text()).toBe("234");
    expect((await file(sharedHead, share.token, "video.mp4")).headers.get("content-length")).toBe("10");
    expect(
      (await file(sharedFile, share.token, "video.mp4", {}, "?download=1")).headers.get("content-disposition"),
    ).toMatch(/filename="a-kite-over-a-windy-beach\.mp4"/);
    expect(await (await file(sharedFile, share.token, "poster.jpg")).text()).toBe("jpg");

    const state = await status(share.token);
    expect(state.status).toBe(200);
    const body = (await state.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ token: share.token, prompt: job.prompt, videoUrl: share.videoUrl });
    expect(JSON.stringify(body)).not.toContain(id);
    expect(JSON.stringify(body)).not.toContain("for the owner only");

    // Only the share's own names; never the job's file names or another path.
    for (const name of ["a-kite-over-a-windy-beach.mp4", "../poster.jpg", "x.mp4"])
      expect((await file(sharedFile, share.token, name)).status).toBe(404);

    await endShare(id);
    for (const name of ["video.mp4", "poster.jpg"]) {
      const gone = await file(sharedFile, share.token, name);
      expect(gone.status).toBe(404);
      expect(gone.headers.get("cache-control")).toBe("no-store");
    }
    expect((await status(share.token)).status).toBe(404);

    // Shared again: a new token works, the old one does not come back.
    const again = (await startShare((await data.store.get(id))!))!;
    expect(again.token).not.toBe(share.token);
    expect((await file(sharedFile, again.token, "video.mp4")).status).toBe(200);
    expect((await file(sharedFile, share.token, "video.mp4")).status).toBe(404);
  });

  it("answers 404 for a token that never was, a malformed one, or a job id", async () => {
    for (const token of ["A".repeat(32), "short", id]) {
      expect((await file(sharedFile, token, "video.mp4")).status).toBe(404);
      expect((await status(token)).status).toBe(404);
    }
  });
});
