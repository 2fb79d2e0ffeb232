import http from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { waitFor } from "../support/wait-for";
import { makeRenderingJob } from "../support/job-factory";
import { ownerCookie } from "../support/owner";
import { startLiveHarness, type LiveHarness } from "./live-harness";
import { jobEvents, openSse, type SseConnection } from "./sse-client";
import { openStreams } from "@/lib/limits/stream-caps";
import type { Job } from "@/lib/core/job";

/**
 * GET /api/events/[id] within its caps, over real HTTP from two loopback addresses: per client
 * address and in total. Over a cap the answer tells the client to poll; a slot comes back the
 * moment its stream closes, whichever way it closes.
 */

let app: LiveHarness | undefined;
/** The owner's cookie: only the owner of a job gets its stream. */
let cookie = "";
const streams: SseConnection[] = [];
const agents: http.Agent[] = [];

afterEach(async () => {
  for (const s of streams.splice(0)) s.close();
  await app?.close();
  app = undefined;
  for (const a of agents.splice(0)) a.destroy();
});

/** A stream opened from `from` (a loopback address: 127.0.0.1 or another in 127/8). */
function open(id: string, from = "127.0.0.1"): SseConnection {
  const agent = new http.Agent({ localAddress: from } as http.AgentOptions);
  agents.push(agent);
  const s = openSse(app!.eventsUrl(id), { agent, cookie });
  streams.push(s);
  return s;
}

async function runningJob(): Promise<Job> {
  cookie = await ownerCookie();
  const job = makeRenderingJob({ message: "Queued" });
  await app!.store.create(job);
  return job;
}

const streamsAre = (n: number, address?: string) =>
  waitFor(
    async () => openStreams(address),
    (v) => v === n,
    10_000,
  );

/** An answer that is not a stream (a refusal, a 404), read whole, from a given address. */
function answerFrom(
  url: string,
  from: string,
): Promise<{
  status: number;
  retryAfter: string | null;
  body: { error: { code: string; message: string; poll: boolean } };
}> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { localAddress: from, agent: false, headers: { accept: "text/event-stream", cookie } }, (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => (text += c));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            retryAfter: (res.headers["retry-after"] as string | undefined) ?? null,
            body: JSON.parse(text),
          }),
        );
      })
      .on("error", reject);
  });
}

describe("open event-stream caps", () => {
  it("refuses streams over the per-client and total caps with a poll answer, and frees a slot when a stream closes", async () => {
    app = await startLiveHarness({ caps: true, env: { EVENT_STREAMS_PER_CLIENT: "2", EVENT_STREAMS_MAX: "3" } });
    const job = await runningJob();
    const url = app.eventsUrl(job.id);

    const a1 = open(job.id);
    const a2 = open(job.id);
    expect((await a1.response).status).toBe(200);
    expect((await a2.response).status).toBe(200);
    await streamsAre(2, "127.0.0.1");

    // A third from the same address: told to poll.
    const perClient = await answerFrom(url, "127.0.0.1");
    expect(perClient.status).toBe(429);
    expect(Number(perClient.retryAfter)).toBeGreaterThan(0);
    expect(perClient.body.error).toMatchObject({
      code: "rate_limited",
      poll: true,
      message: expect.stringMatching(/polling its status instead/),
    });

    // An answer that is not a stream (unknown job) takes no slot.
    const missing = await answerFrom(app.eventsUrl("AAAAAAAAAAAAAAAAAAAAAA"), "127.0.0.3");
    expect(missing.status).toBe(404);
    expect(openStreams()).toBe(2);

    // Another address has its own allowance, up to the instance's total.
    const b1 = open(job.id, "127.0.0.2");
    expect((await b1.response).status).toBe(200);
    await streamsAre(3);
    const total = await answerFrom(url, "127.0.0.2");
    expect(total.status).toBe(503);
    expect(total.body.error).toMatchObject({ code: "unavailable", poll: true });
    expect(Number(total.retryAfter)).toBeGreaterThan(0);
    // The refusals held no slot.
    expect(openStreams()).toBe(3);

    // The client going away frees its slot: the same address may open one again.
    a1.close();
    await streamsAre(1, "127.0.0.1");
    const a3 = open(job.id);
    expect((await a3.response).status).toBe(200);
    await streamsAre(3);

    // The job ending ends every stream, and every slot comes back.
    await app.store.update(job.id, (j) => ({ ...j, status: "succeeded", stage: "done", progress: 100 }));
    for (const s of [a2, b1, a3]) {
      await s.ended;
      expect(jobEvents(s.messages).at(-1)?.job.status).toBe("succeeded");
    }
    await streamsAre(0);
    expect(openStreams("127.0.0.1")).toBe(0);
  });
});
