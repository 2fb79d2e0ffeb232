import { afterEach, describe, expect, it } from "vitest";
import { startAppHarness, type AppHarness } from "../support/app-harness";
import { makeJob, makeStep } from "../support/job-factory";
import { fetchJob, JobFetchError, nextPollDelay, POLL_MAX_MS, POLL_MIN_MS } from "@/lib/swr/job-fetch";
import { freePort } from "@/test/support/redis";
import { ownerFetch } from "../support/owner";

/**
 * The job page's polling fallback: how long it waits between polls, and how it asks the status
 * route (If-None-Match, 304) and reports its failures. Against the real status route.
 */

describe("nextPollDelay", () => {
  it("doubles from 1 s up to 8 s while nothing changes, and starts over after a change", () => {
    const delays: number[] = [];
    let delay = POLL_MIN_MS;
    for (let i = 0; i < 6; i++) delays.push((delay = nextPollDelay(delay, false)));
    expect(delays).toEqual([2000, 4000, 8000, 8000, 8000, 8000]);
    expect(nextPollDelay(POLL_MAX_MS, true)).toBe(POLL_MIN_MS);
    expect(nextPollDelay(4000, true)).toBe(POLL_MIN_MS);
    // Never below the minimum, whatever it is given.
    expect(nextPollDelay(0, false)).toBe(POLL_MIN_MS);
  });
});

describe("fetchJob", () => {
  let app: AppHarness | null = null;
  afterEach(async () => {
    await app?.close();
    app = null;
  });

  const runningJob = () => {
    const now = Date.now();
    return makeJob({
      status: "processing",
      stage: "generating",
      startedAt: now,
      steps: [
        makeStep("enhance", { state: "done", progress: 100, startedAt: now, completedAt: now }),
        makeStep("generate", { state: "running", attempt: 1, startedAt: now, runningAt: now, progress: 10 }),
        makeStep("sound", { state: "skipped" }),
        makeStep("save"),
      ],
    });
  };

  it("sends the ETag it has and keeps its record on a 304; takes the new one after a change", async () => {
    app = await startAppHarness();
    const job = runningJob();
    await app.store.create(job);
    const url = `${app.origin}/api/status/${job.id}`;

    const first = await fetchJob(url, null, await ownerFetch());
    expect(first).toMatchObject({ notModified: false, etag: `"${job.id}.0"`, job: { id: job.id, seq: 0 } });

    const before = app.store.stats.commands;
    const again = await fetchJob(url, { etag: first.etag!, job: first.job }, await ownerFetch());
    expect(again.notModified).toBe(true);
    expect(again.job).toBe(first.job);
    expect(app.store.stats.commands - before).toBe(1);

    await app.store.update(job.id, (j) => ({ ...j, message: "moved on" }));
    const changed = await fetchJob(url, { etag: first.etag!, job: first.job }, await ownerFetch());
    expect(changed).toMatchObject({ notModified: false, etag: `"${job.id}.1"`, job: { seq: 1, message: "moved on" } });
  });

  it("asks for a job with a time-based estimate in full: its progress moves without a new ETag", async () => {
    app = await startAppHarness();
    const job = runningJob();
    await app.store.create(job);
    const url = `${app.origin}/api/status/${job.id}`;
    const first = await fetchJob(url, null, await ownerFetch());
    const estimated = { ...first.job, progressEstimated: true };
    const again = await fetchJob(url, { etag: first.etag!, job: estimated }, await ownerFetch());
    expect(again.notModified).toBe(false);
    expect(again.job.id).toBe(job.id);
  });

  it("reports the API's error, and a server that cannot be reached", async () => {
    app = await startAppHarness();
    const missing = makeJob();
    const error = await fetchJob(`${app.origin}/api/status/${missing.id}`, null, await ownerFetch()).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(JobFetchError);
    expect(error).toMatchObject({
      status: 404,
      code: "not_found",
      message: expect.stringMatching(/no job with that id/),
    });

    const closed = `http://127.0.0.1:${await freePort()}/api/status/${missing.id}`;
    await expect(fetchJob(closed, null)).rejects.toMatchObject({
      status: 0,
      code: "network",
      message: expect.stringMatching(/Could not reach the server/),
    });
  });
});
