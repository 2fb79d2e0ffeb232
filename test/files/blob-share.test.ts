import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { resetEnvCache } from "@/lib/env";
import { setStoreForTests } from "@/lib/store";
import { EmbeddedStore } from "@/lib/store/embedded-store";
import { startFakeBlob, type FakeBlob } from "@/test/support/fake-blob";
import { makeJob, newJobId } from "@/test/support/job-factory";
import { ownerCookie } from "@/test/support/owner";

/**
 * Sharing with Vercel Blob (BLOB_READ_WRITE_TOKEN), through the real `@vercel/blob` client and a
 * loopback Blob API: a share gets copies of its own at an unguessable path that carries neither
 * the job id nor the job's own file URLs, cacheable for a minute; unsharing and deleting remove
 * them at once, and the job's own files are never handed to anyone but its owner.
 * Outside Next there is no request: `next/headers` is one cookie jar, holding the owner's cookie.
 */

const browser = vi.hoisted(() => ({ cookie: "" }));
vi.mock("next/headers", () => ({
  cookies: async () => ({
    get: (name: string) =>
      browser.cookie.startsWith(`${name}=`) ? { name, value: browser.cookie.slice(name.length + 1) } : undefined,
    set: () => undefined,
  }),
  headers: async () => new Headers(),
}));

const { deleteJob, setShared } = await import("@/lib/jobs/adapters/actions");
const { getSharedJob } = await import("@/lib/jobs/adapters/queries");
const { getVideoStore } = await import("@/lib/files");

let blob: FakeBlob;
let dir: string;
let store: EmbeddedStore;
const saved = { ...process.env };

beforeAll(async () => {
  blob = await startFakeBlob();
  dir = await mkdtemp(path.join(os.tmpdir(), "p2v-blob-"));
  Object.assign(process.env, { DATA_DIR: dir, BLOB_READ_WRITE_TOKEN: blob.token, VERCEL_BLOB_API_URL: blob.apiUrl });
  resetEnvCache();
  store = new EmbeddedStore({ dir });
  setStoreForTests(store);
  browser.cookie = await ownerCookie();
});

afterAll(async () => {
  setStoreForTests(null);
  for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
  Object.assign(process.env, saved);
  resetEnvCache();
  await blob.close();
  await rm(dir, { recursive: true, force: true });
});

/** A finished job whose video and poster were saved to Blob as the save step does. */
async function savedJob(prompt: string) {
  const id = newJobId();
  const videos = getVideoStore();
  expect(videos.kind).toBe("blob");
  const video = await videos.put(`${id}/a-kite.mp4`, new Response("the video bytes").body!, {
    contentType: "video/mp4",
    maxBytes: 1000,
  });
  const poster = await videos.put(`${id}/poster.jpg`, new Response("the poster").body!, {
    contentType: "image/jpeg",
    maxBytes: 1000,
  });
  const job = makeJob({ id, prompt, status: "succeeded", stage: "done", videoUrl: video.url, posterUrl: poster.url });
  await store.create(job);
  return job;
}

const get = (url: string) =>
  fetch(url).then(async (res) => ({
    status: res.status,
    cache: res.headers.get("cache-control"),
    body: await res.text(),
  }));

describe("sharing on Vercel Blob", () => {
  it("copies a share's files to a path of its own, cacheable for a minute, and removes them when sharing is turned off", async () => {
    const job = await savedJob("a kite over a windy beach");
    // The job's own files: for its owner's browser, at an unguessable path; Blob's CDN keeps them an hour at most.
    expect(await get(job.videoUrl!)).toMatchObject({
      status: 200,
      cache: "public, max-age=3600",
      body: "the video bytes",
    });

    expect(await setShared(job.id, true)).toEqual({ ok: true });
    const share = (await store.get(job.id))!.share!;
    const shared = (await getSharedJob(share.token))!;
    expect(shared.videoUrl).toBe(share.videoUrl);
    for (const url of [shared.videoUrl, shared.posterUrl!]) {
      expect(url).toContain(`/files/shares/${share.token}/`);
      expect(url).not.toContain(job.id);
      expect(url).not.toBe(job.videoUrl);
    }
    expect(JSON.stringify(shared)).not.toContain(job.videoUrl!);
    expect(await get(shared.videoUrl)).toEqual({ status: 200, cache: "public, max-age=60", body: "the video bytes" });
    expect(await get(shared.posterUrl!)).toMatchObject({
      status: 200,
      cache: "public, max-age=60",
      body: "the poster",
    });

    expect(await setShared(job.id, false)).toEqual({ ok: true });
    expect(await getSharedJob(share.token)).toBeNull();
    expect((await get(shared.videoUrl)).status).toBe(404);
    expect((await get(shared.posterUrl!)).status).toBe(404);
    expect(blob.pathnames().filter((p) => p.startsWith("shares/"))).toEqual([]);
    // The owner's own files stay.
    expect((await get(job.videoUrl!)).status).toBe(200);

    // Sharing again makes new copies at a new path; the old URLs stay dead.
    expect(await setShared(job.id, true)).toEqual({ ok: true });
    const again = (await store.get(job.id))!.share!;
    expect(again.token).not.toBe(share.token);
    expect((await get(again.videoUrl)).status).toBe(200);
    expect((await get(shared.videoUrl)).status).toBe(404);
  });

  it("deletes a shared job's own files and its share's copies", async () => {
    const job = await savedJob("a lantern over a lake");
    expect(await setShared(job.id, true)).toEqual({ ok: true });
    const share = (await store.get(job.id))!.share!;
    expect((await get(share.videoUrl)).status).toBe(200);

    expect(await deleteJob(job.id)).toEqual({ ok: true });
    expect(await store.get(job.id)).toBeNull();
    for (const url of [share.videoUrl, share.posterUrl!, job.videoUrl!, job.posterUrl!])
      expect((await get(url)).status).toBe(404);
    expect(blob.pathnames().filter((p) => p.includes(job.id) || p.includes(share.token))).toEqual([]);
  });
});
