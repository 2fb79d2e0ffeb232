import { beforeAll, describe, expect, it } from "vitest";
import { eventStreamResponse } from "@/lib/jobs/adapters/event-stream";
import { statusResponse } from "@/lib/jobs/adapters/status-response";
import { embeddedStoreForFile } from "@/test/support/embedded-store";
import { makeJob, newJobId } from "@/test/support/job-factory";
import { ownerCookie } from "@/test/support/owner";

/**
 * A job is its owner's alone: the status and event routes answer anyone else exactly as they
 * answer for a job that does not exist (status, body, caching), and start no work for them.
 */

const data = embeddedStoreForFile("p2v-private-");
const job = makeJob({ status: "processing", stage: "generating" });
let owner = "";
let stranger = "";
const scheduled: string[] = [];
const schedule = () => void scheduled.push("reconcile");

beforeAll(async () => {
  // Quiet for a long time: the owner's poll would nudge reconciliation.
  await data.store.create({ ...job, lastEventAt: 0 });
  owner = await ownerCookie();
  stranger = await ownerCookie("aStrangersBrowser00000");
});

const request = (route: string, id: string, cookie: string) =>
  new Request(`http://app.test/api/${route}/${id}`, { headers: cookie ? { cookie } : {} });
const answer = async (res: Response) => ({
  status: res.status,
  cache: res.headers.get("cache-control"),
  body: await res.text(),
});
const visitors = () =>
  [
    ["no cookie", ""],
    ["another browser", stranger],
    ["a forged cookie", `p2v_owner=${job.ownerId}.AAAA`],
  ] as const;

describe("a private job, asked for by anyone but its owner", () => {
  it("GET /api/status/[id]: 404 as for a job that does not exist, and no reconciliation", async () => {
    const missing = await answer(await statusResponse(request("status", newJobId(), owner), newJobId(), schedule));
    expect(missing.status).toBe(404);
    for (const [, cookie] of visitors()) {
      const res = await statusResponse(request("status", job.id, cookie), job.id, schedule);
      expect(await answer(res)).toEqual(missing);
      // Not even a 304 for an ETag guessed from the id.
      const guessed = new Request(`http://app.test/api/status/${job.id}`, {
        headers: { cookie, "if-none-match": `"${job.id}.0"` },
      });
      expect((await statusResponse(guessed, job.id, schedule)).status).toBe(404);
    }
    expect(scheduled).toEqual([]);

    const mine = await statusResponse(request("status", job.id, owner), job.id, schedule);
    expect(mine.status).toBe(200);
    expect(mine.headers.get("vary")).toBe("Cookie");
    expect(((await mine.json()) as { id: string }).id).toBe(job.id);
    expect(scheduled).toEqual(["reconcile"]);
  });

  it("GET /api/events/[id]: 404 as for a job that does not exist, with no stream", async () => {
    const id = newJobId();
    const missing = await answer(await eventStreamResponse(request("events", id, owner), id, { schedule }));
    expect(missing.status).toBe(404);
    for (const [, cookie] of visitors()) {
      expect(await answer(await eventStreamResponse(request("events", job.id, cookie), job.id, { schedule }))).toEqual(
        missing,
      );
    }
    const aborter = new AbortController();
    const mine = await eventStreamResponse(
      new Request(`http://app.test/api/events/${job.id}`, { headers: { cookie: owner }, signal: aborter.signal }),
      job.id,
      { schedule: () => undefined },
    );
    expect(mine.status).toBe(200);
    expect(mine.headers.get("content-type")).toMatch(/^text\/event-stream/);
    aborter.abort();
    await mine.body?.cancel();
  });
});
