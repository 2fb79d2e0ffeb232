import { beforeEach, describe, expect, it, vi } from "vitest";
import { embeddedStoreForFile } from "@/test/support/embedded-store";
import { makeJob, makeStep, newJobId } from "@/test/support/job-factory";
import { NO_SUCH_JOB } from "@/lib/jobs/adapters/access";
import { SHARE_TOKEN_PATTERN, sharedJobSchema, STEP_NAMES } from "@/lib/core/job";

/**
 * The owner-only server actions refuse anyone but the browser that made the job. Outside Next
 * there is no request, so `next/headers` is replaced by one cookie jar per "browser"; the owner
 * cookie itself is minted and verified by the real code (ensureOwner / currentOwner).
 */

const browser = vi.hoisted(() => ({ jar: new Map<string, string>() }));

vi.mock("next/headers", () => ({
  cookies: async () => ({
    get: (name: string) => (browser.jar.has(name) ? { name, value: browser.jar.get(name)! } : undefined),
    set: (name: string, value: string) => void browser.jar.set(name, value),
  }),
  headers: async () => new Headers(),
}));

const { cancelJob, deleteJob, retryJob, setShared } = await import("@/lib/jobs/adapters/actions");
const { getRemixValues, getSharedJob } = await import("@/lib/jobs/adapters/queries");
const { ensureOwner } = await import("@/lib/auth/owner");

const data = embeddedStoreForFile("p2v-ownership-");

/** A new browser with its own owner cookie; returns its cookie jar and owner id. */
async function newBrowser(): Promise<{ jar: Map<string, string>; ownerId: string }> {
  browser.jar = new Map();
  const ownerId = await ensureOwner();
  return { jar: browser.jar, ownerId };
}

function succeededJob(ownerId: string) {
  const now = Date.now();
  return makeJob({
    ownerId,
    status: "succeeded",
    stage: "done",
    progress: 100,
    steps: STEP_NAMES.map((name) => makeStep(name, { state: name === "sound" ? "skipped" : "done", completedAt: now })),
    videoUrl: "/api/files/x/video.mp4",
    completedAt: now,
  });
}

let owner: { jar: Map<string, string>; ownerId: string };
beforeEach(async () => {
  owner = await newBrowser();
});

describe("owner-only actions", () => {
  it("refuse a browser without an owner cookie, and change nothing", async () => {
    const running = makeJob({ ownerId: owner.ownerId });
    const done = succeededJob(owner.ownerId);
    const failed = makeJob({ ownerId: owner.ownerId, status: "failed", stage: "failed" });
    for (const job of [running, done, failed]) await data.store.create(job);

    browser.jar = new Map();
    // Refused exactly as a job that does not exist: the id says nothing to whoever holds it.
    const absent = { ok: false, code: "not_found", message: NO_SUCH_JOB };
    expect(await cancelJob(running.id)).toEqual(absent);
    expect(await deleteJob(done.id)).toEqual(absent);
    expect(await setShared(done.id, true)).toEqual(absent);
    expect(await retryJob(failed.id)).toEqual(absent);
    expect(await cancelJob(newJobId())).toEqual(absent);

    expect((await data.store.get(running.id))?.status).toBe("queued");
    expect((await data.store.get(done.id))?.share).toBeNull();
    expect(await data.store.get(failed.id)).not.toBeNull();
  });

  it("refuse another browser's cookie and a forged one", async () => {
    const job = succeededJob(owner.ownerId);
    await data.store.create(job);
    const running = makeJob({ ownerId: owner.ownerId });
    await data.store.create(running);

    const other = await newBrowser();
    expect(other.ownerId).not.toBe(owner.ownerId);
    expect(await deleteJob(job.id)).toMatchObject({ ok: false, code: "not_found" });
    expect(await cancelJob(running.id)).toMatchObject({ ok: false, code: "not_found" });

    // The owner's id with a signature that is not the server's.
    const [, mac] = (other.jar.get("p2v_owner") ?? "").split(".");
    browser.jar = new Map([["p2v_owner", `${owner.ownerId}.${mac}`]]);
    expect(await deleteJob(job.id)).toMatchObject({ ok: false, code: "not_found" });
    expect(await setShared(job.id, true)).toMatchObject({ ok: false, code: "not_found" });

    expect(await data.store.get(job.id)).not.toBeNull();
    expect((await data.store.get(running.id))?.status).toBe("queued");
  });

  it("let the owner share, unshare, cancel and delete", async () => {
    const job = succeededJob(owner.ownerId);
    const running = makeJob({ ownerId: owner.ownerId });
    await data.store.create(job);
    await data.store.create(running);

    browser.jar = owner.jar;
    expect(await setShared(job.id, true)).toEqual({ ok: true });
    const first = (await data.store.get(job.id))?.share;
    expect(first?.token).toMatch(SHARE_TOKEN_PATTERN);
    expect(first?.token).not.toContain(job.id);
    expect(first?.videoUrl).toBe(`/api/shared/${first?.token}/video.mp4`);
    expect((await data.store.findShared(first!.token))?.id).toBe(job.id);
    // Sharing what is shared keeps its link.
    expect(await setShared(job.id, true)).toEqual({ ok: true });
    expect((await data.store.get(job.id))?.share?.token).toBe(first?.token);

    expect(await setShared(job.id, false)).toEqual({ ok: true });
    expect((await data.store.get(job.id))?.share).toBeNull();
    expect(await data.store.findShared(first!.token)).toBeNull();
    expect(await getSharedJob(first!.token)).toBeNull();

    // Shared again: a new link; the old one stays dead.
    expect(await setShared(job.id, true)).toEqual({ ok: true });
    const second = (await data.store.get(job.id))?.share;
    expect(second?.token).not.toBe(first?.token);
    expect(await getSharedJob(first!.token)).toBeNull();
    expect((await getSharedJob(second!.token))?.prompt).toBe(job.prompt);

    // Queued, nothing started upstream: canceling asks no engine.
    expect(await cancelJob(running.id)).toEqual({ ok: true });
    expect((await data.store.get(running.id))?.status).toBe("canceled");

    expect(await deleteJob(job.id)).toEqual({ ok: true });
    expect(await data.store.get(job.id)).toBeNull();
  });

  it("show everyone else only a shared video's public fields, and never its job id", async () => {
    const job = {
      ...succeededJob(owner.ownerId),
      prompt: "a lighthouse in a storm",
      finalPrompt: "PRIVATE-final: cinematic lighthouse, style hints",
      enhancedPrompt: "PRIVATE-enhanced lighthouse",
      params: { duration: 5, aspectRatio: "16:9", resolution: "360p", seed: 7, negativePrompt: "PRIVATE-negative" },
      error: null,
      notice: "PRIVATE-notice",
      remixOf: newJobId(),
    };
    await data.store.create(job);
    browser.jar = owner.jar;
    expect(await setShared(job.id, true)).toEqual({ ok: true });
    const token = (await data.store.get(job.id))!.share!.token;

    // Another browser (and one with no cookie at all) sees the share through its token.
    for (const jar of [(await newBrowser()).jar, new Map<string, string>()]) {
      browser.jar = jar;
      const shared = await getSharedJob(token);
      expect(sharedJobSchema.strict().parse(shared)).toEqual(shared);
      const text = JSON.stringify(shared);
      expect(text).not.toContain("PRIVATE");
      expect(text).not.toContain(job.id);
      expect(text).not.toContain(owner.ownerId);
      expect(text).not.toContain(job.remixOf);
      expect(shared).toMatchObject({
        prompt: "a lighthouse in a storm",
        params: { seed: 7 },
        videoUrl: `/api/shared/${token}/video.mp4`,
      });

      // Its remix carries the public settings only, and not where they came from.
      const remix = await getRemixValues(token);
      expect(remix).toMatchObject({ prompt: "a lighthouse in a storm", seed: "7" });
      expect(JSON.stringify(remix)).not.toContain("PRIVATE");
      expect(remix).not.toHaveProperty("remixOf");
      // By the job id: nothing, as for a job that does not exist.
      expect(await getRemixValues(job.id)).toBeNull();
    }
  });

  it("refuse to share a job that has not finished", async () => {
    const running = makeJob({ ownerId: owner.ownerId });
    await data.store.create(running);
    browser.jar = owner.jar;
    expect(await setShared(running.id, true)).toEqual({
      ok: false,
      code: "conflict",
      message: "Only a finished video can be shared.",
    });
  });
});
