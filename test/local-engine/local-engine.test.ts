import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm, unlink, writeFile } from "node:fs/promises";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseProgressFromLogs } from "replicate";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { LocalEngine, type LocalEngineOptions } from "@/lib/engines/local/local-engine";
import { resolveLocalOutput } from "@/lib/engines/local/render-files";
import type { LocalPrediction } from "@/lib/engines/local/render-run";
import { tqdmLine } from "@/lib/engines/local/tqdm";
import { EngineError, predictionEnded } from "@/lib/engines/types";
import { probeMedia } from "@/lib/media/ffmpeg";
import { verifyWebhook } from "@/lib/webhooks/verify";
import { makeJob } from "../support/job-factory";
import { until, waitFor } from "../support/wait-for";

const secret = `whsec_${randomBytes(24).toString("base64")}`;

type Delivery = { id: string; timestamp: number; prediction: LocalPrediction; status: number };

/** A tiny webhook receiver that verifies every delivery like the app does. */
class Receiver {
  readonly deliveries: Delivery[] = [];
  readonly rejected: string[] = [];
  /** Status to answer for the next completed deliveries (then 204). */
  failCompleted: number[] = [];
  private server!: Server;
  url = "";

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const body = Buffer.concat(chunks).toString("utf8");
        const headers = req.headers as IncomingHttpHeaders & Record<string, string>;
        const signed = new Headers();
        for (const name of ["webhook-id", "webhook-timestamp", "webhook-signature"])
          signed.set(name, String(headers[name] ?? ""));
        const verified = verifyWebhook(body, signed, [secret]);
        if (!verified.ok) {
          this.rejected.push(verified.reason);
          res.writeHead(401).end();
          return;
        }
        const prediction = verified.payload as LocalPrediction;
        const terminal = predictionEnded(prediction.status);
        const status = terminal && this.failCompleted.length > 0 ? this.failCompleted.shift()! : 204;
        this.deliveries.push({
          id: String(headers["webhook-id"]),
          timestamp: Number(headers["webhook-timestamp"]),
          prediction,
          status,
        });
        res.writeHead(status).end();
      });
    });
    await new Promise<void>((r) => this.server.listen(0, "127.0.0.1", r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/api/webhook/local`;
  }

  for(ref: string): Delivery[] {
    return this.deliveries.filter((d) => d.prediction.id === ref);
  }

  /** Resolves with the first accepted terminal delivery for `ref`. */
  completed(ref: string): Promise<Delivery> {
    return this.waitFor((d) => d.prediction.id === ref && predictionEnded(d.prediction.status) && d.status < 300);
  }

  async waitFor(pred: (d: Delivery) => boolean): Promise<Delivery> {
    return (await waitFor(
      () => this.deliveries.find(pred),
      (d) => d !== undefined,
    ))!;
  }

  close(): Promise<void> {
    return new Promise((r) => this.server.close(() => r()));
  }
}

/** Makes a render run in real time × `speed`, so there is time to watch (or cancel) it. */
const slowDown =
  (speed: number): NonNullable<LocalEngineOptions["transformArgs"]> =>
  (args, step) => {
    if (step !== "generate") return args;
    const i = args.indexOf("-filter_complex");
    args[i + 1] = (args[i + 1] ?? "").replace(/\[v\]$/, `,setpts=PTS/${speed},realtime,setpts=PTS*${speed}[v]`);
    return args;
  };

const percentages = (ds: Delivery[]) =>
  ds.map((d) => parseProgressFromLogs((d.prediction.logs ?? "").replace(/\r/g, "\n"))?.percentage ?? null);

/** Processes whose command line mentions `needle` (Linux /proc). */
async function processesMentioning(needle: string): Promise<number> {
  let count = 0;
  for (const pid of await readdir("/proc").catch(() => [] as string[])) {
    if (!/^\d+$/.test(pid)) continue;
    const cmd = await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "");
    if (cmd.includes(needle)) count++;
  }
  return count;
}

let receiver: Receiver;
let dataDir: string;
const engines: LocalEngine[] = [];

function engine(options: Partial<LocalEngineOptions> = {}): LocalEngine {
  const e = new LocalEngine({ dataDir, secret, retryDelaysMs: [50, 100, 200], ...options });
  engines.push(e);
  return e;
}

const generate = (e: LocalEngine, input: Record<string, unknown> = {}, webhookUrl: string | null = receiver.url) =>
  e.start({
    job: makeJob(),
    step: "generate",
    webhookUrl,
    input: {
      prompt: "A paper boat on a rainy street",
      style: "anime",
      duration: 5,
      aspect_ratio: "16:9",
      resolution: "360p",
      seed: null,
      ...input,
    },
  });

beforeAll(async () => {
  receiver = new Receiver();
  await receiver.start();
});
afterAll(async () => {
  await receiver.close();
});
beforeEach(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), "p2v-local-"));
});
afterEach(async () => {
  for (const e of engines.splice(0)) {
    // Stop anything a failed test left running.
    for (const d of receiver.deliveries) await e.cancel(d.prediction.id).catch(() => undefined);
  }
  await rm(dataDir, { recursive: true, force: true });
});

describe("resolveLocalOutput", () => {
  it("maps local: references inside <dataDir>/renders and refuses everything else", () => {
    expect(resolveLocalOutput("/data", "local:renders/lp_x.mp4")).toBe(path.resolve("/data/renders/lp_x.mp4"));
    expect(resolveLocalOutput("/data", "local:../../etc/passwd")).toBeNull();
    expect(resolveLocalOutput("/data", "local:renders/../../etc/passwd")).toBeNull();
    expect(resolveLocalOutput("/data", "local:renders/../jobs.json")).toBeNull();
    expect(resolveLocalOutput("/data", "local:/etc/passwd")).toBeNull();
    expect(resolveLocalOutput("/data", "local:renders")).toBeNull();
    expect(resolveLocalOutput("/data", "local:renders/a\0b")).toBeNull();
    expect(resolveLocalOutput("/data", "https://example.com/x.mp4")).toBeNull();
  });
});

describe("tqdm lines", () => {
  it("are what replicate's parseProgressFromLogs reads", () => {
    const line = tqdmLine(54, 120, 1.2);
    expect(line).toBe(" 45%|████▌     | 54/120 [00:01<00:01, 45.00it/s]");
    expect(parseProgressFromLogs(line)).toEqual({ percentage: 0.45, current: 54, total: 120 });
    expect(parseProgressFromLogs(`Rendering: 120 frames\n${line}\n`)).toEqual({
      percentage: 0.45,
      current: 54,
      total: 120,
    });
    expect(parseProgressFromLogs(tqdmLine(120, 120, 2))).toEqual({ percentage: 1, current: 120, total: 120 });
    expect(tqdmLine(0, 120, 0)).toBe("  0%|          | 0/120 [00:00<00:00, 0.00it/s]");
    expect(tqdmLine(7, 120, 1)).toContain("  5%|▌         | 7/120");
    expect(tqdmLine(5, 120, 1)).toContain("  4%|▍         | 5/120");
  });
});

describe("LocalEngine", () => {
  it("renders in the background and delivers signed start, progress and completed events", async () => {
    const e = engine({ transformArgs: slowDown(2.5) });
    const { ref } = await generate(e);
    expect(ref).toMatch(/^lp_[A-Za-z0-9_-]{20}$/);
    // start() answers with the reference before the render begins: nothing has run yet.
    expect(await e.get(ref)).toMatchObject({ status: "starting", started_at: null });

    const done = await receiver.completed(ref);
    expect(receiver.rejected).toEqual([]);
    const all = receiver.for(ref);
    // Every delivery has its own message id.
    expect(new Set(all.map((d) => d.id)).size).toBe(all.length);
    for (const d of all) expect(d.id).toMatch(/^msg_/);

    const first = all[0]!;
    expect(first.prediction).toMatchObject({ id: ref, status: "processing", output: null, error: null });
    expect(first.prediction.started_at).toEqual(expect.any(String));
    expect(first.prediction.created_at).toEqual(expect.any(String));

    const progress = all.filter((d) => d.prediction.status === "processing").slice(1);
    expect(progress.length).toBeGreaterThanOrEqual(2);
    const pct = percentages(progress);
    expect(pct.every((p) => p !== null && p > 0 && p <= 1)).toBe(true);
    for (let i = 1; i < pct.length; i++) expect(pct[i]!).toBeGreaterThan(pct[i - 1]!);
    // Logs accumulate: each delivery extends the previous one.
    for (let i = 1; i < progress.length; i++) {
      expect(progress[i]!.prediction.logs!.startsWith(progress[i - 1]!.prediction.logs!)).toBe(true);
    }
    // At most one progress delivery per 500 ms (timestamps are in seconds, so check the count).
    const span = (done.timestamp - first.timestamp + 1) * 1000;
    expect(progress.length).toBeLessThanOrEqual(Math.ceil(span / 500) + 1);

    expect(done.prediction.status).toBe("succeeded");
    expect(done.prediction.output).toBe(`local:renders/${ref}.mp4`);
    expect(done.prediction.completed_at).toEqual(expect.any(String));
    expect(done.prediction.metrics?.predict_time).toBeGreaterThan(0);
    expect(parseProgressFromLogs(done.prediction.logs!.replace(/\r/g, "\n"))?.percentage).toBe(1);

    const file = resolveLocalOutput(dataDir, done.prediction.output as string)!;
    expect(existsSync(file)).toBe(true);
    const info = await probeMedia(file);
    expect(info.video).toMatchObject({ codec: "h264", width: 640, height: 360, pixFmt: "yuv420p" });
    expect(existsSync(file.replace(/\.mp4$/, ".part.mp4"))).toBe(false);

    const got = await e.get(ref);
    expect(got).toMatchObject({ id: ref, status: "succeeded", output: done.prediction.output });
  });

  it("answers get() after a restart from the sidecar, and null for unknown or vanished renders", async () => {
    const e = engine();
    const { ref } = await generate(e, { duration: 4 });
    await receiver.completed(ref);
    const restarted = engine();
    expect(await restarted.get(ref)).toMatchObject({
      id: ref,
      status: "succeeded",
      output: `local:renders/${ref}.mp4`,
    });
    expect(await restarted.get("lp_AAAAAAAAAAAAAAAAAAAA")).toBeNull();
    expect(await restarted.get("../../etc/passwd")).toBeNull();
    await unlink(path.join(dataDir, "renders", `${ref}.mp4`));
    expect(await restarted.get(ref)).toBeNull();
  });

  it("works without a webhook URL: get() reports the outcome", async () => {
    const e = engine();
    const before = receiver.deliveries.length;
    const { ref } = await generate(e, { duration: 4 }, null);
    const p = await waitFor(
      () => e.get(ref),
      (got) => got?.status === "succeeded" || got?.status === "failed",
    );
    expect(p?.status).toBe("succeeded");
    expect(receiver.deliveries.length).toBe(before);
  });

  it("adds sound to a local render", async () => {
    const e = engine();
    const { ref } = await generate(e, { duration: 4 });
    const video = (await receiver.completed(ref)).prediction.output as string;
    const { ref: soundRef } = await e.start({
      job: makeJob(),
      step: "sound",
      webhookUrl: receiver.url,
      input: { video, style: "claymation", seed: 3 },
    });
    expect(soundRef).not.toBe(ref);
    const done = await receiver.completed(soundRef);
    expect(done.prediction.status).toBe("succeeded");
    expect(done.prediction.logs).toContain("Adding sound");
    const out = resolveLocalOutput(dataDir, done.prediction.output as string)!;
    const [before, after] = await Promise.all([probeMedia(resolveLocalOutput(dataDir, video)!), probeMedia(out)]);
    expect(after.audio?.codec).toBe("aac");
    expect(after.video).toEqual(before.video);
  });

  it("cancel() kills ffmpeg and delivers canceled", async () => {
    let sends = 0;
    const e = engine({
      transformArgs: slowDown(1),
      fetch: (...args) => {
        sends++;
        return fetch(...args);
      },
    });
    const { ref } = await generate(e, { duration: 6 });
    await receiver.waitFor((d) => d.prediction.id === ref && parseProgressFromLogs(d.prediction.logs ?? "") !== null);
    expect(await processesMentioning(`${ref}.part.mp4`)).toBe(1);
    await e.cancel(ref);
    const done = await receiver.completed(ref);
    expect(done.prediction.status).toBe("canceled");
    expect(done.prediction.output).toBeNull();
    expect(await processesMentioning(`${ref}.part.mp4`)).toBe(0);
    expect(existsSync(path.join(dataDir, "renders", `${ref}.part.mp4`))).toBe(false);
    expect(existsSync(path.join(dataDir, "renders", `${ref}.mp4`))).toBe(false);
    expect((await e.get(ref))?.status).toBe("canceled");
    const sent = sends;
    await e.cancel(ref); // a second cancel is a no-op
    // A delivery it queued would start within this turn of the event loop.
    await new Promise((r) => setImmediate(r));
    expect(sends).toBe(sent);
    expect(receiver.for(ref).filter((d) => d.prediction.status === "canceled")).toHaveLength(1);
  });

  it("a stop cuts renders off without reporting them, so that they are redone after the restart", async () => {
    const e = engine({ maxConcurrent: 1, transformArgs: slowDown(1) });
    const { ref: running } = await generate(e, { duration: 6 });
    const { ref: waiting } = await generate(e, { duration: 4 });
    await receiver.waitFor(
      (d) => d.prediction.id === running && parseProgressFromLogs(d.prediction.logs ?? "") !== null,
    );
    e.interruptAll();
    // Forgotten, with no sidecar: after a restart get() does not know them either, so reconciliation starts them again.
    for (const ref of [running, waiting]) {
      await until(async () => (await e.get(ref)) === null);
      expect(await engine().get(ref)).toBeNull();
    }
    expect(await processesMentioning(`${running}.part.mp4`)).toBe(0);
    const terminal = receiver.deliveries.filter(
      (d) => [running, waiting].includes(d.prediction.id) && d.prediction.status !== "processing",
    );
    expect(terminal.map((d) => d.prediction.status)).not.toContain("failed");
    expect(terminal.map((d) => d.prediction.status)).not.toContain("canceled");
    await expect(generate(e)).rejects.toMatchObject({ code: "unavailable" });
  });

  it("a render whose ffmpeg is stopped by a signal from outside is cut off, not failed", async () => {
    const e = engine({ transformArgs: slowDown(1) });
    const { ref } = await generate(e, { duration: 6 });
    await receiver.waitFor((d) => d.prediction.id === ref && parseProgressFromLogs(d.prediction.logs ?? "") !== null);
    for (const pid of await readdir("/proc")) {
      if (
        /^\d+$/.test(pid) &&
        (await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "")).includes(`${ref}.part.mp4`)
      )
        process.kill(Number(pid), "SIGTERM");
    }
    await until(async () => (await e.get(ref)) === null);
    expect(receiver.for(ref).map((d) => d.prediction.status)).not.toContain("failed");
  });

  it("cancels a render still waiting for a slot", async () => {
    // Ten times slower than real time: the first render holds the only slot until it is canceled.
    const e = engine({ maxConcurrent: 1, transformArgs: slowDown(0.1) });
    const { ref: running } = await generate(e, { duration: 4 });
    const { ref: waiting } = await generate(e, { duration: 4 });
    await receiver.waitFor((d) => d.prediction.id === running && d.prediction.status === "processing");
    expect((await e.get(waiting))?.status).toBe("starting");
    await e.cancel(waiting);
    expect((await receiver.completed(waiting)).prediction.status).toBe("canceled");
    await e.cancel(running);
    expect((await receiver.completed(running)).prediction.status).toBe("canceled");
  });

  it("a failing render yields failed with ffmpeg's reason", async () => {
    const e = engine({ transformArgs: (args) => args.map((a) => (a === "libx264" ? "libnope" : a)) });
    const { ref } = await generate(e);
    const done = await receiver.completed(ref);
    expect(done.prediction.status).toBe("failed");
    expect(String(done.prediction.error)).toMatch(/Local render failed: .*Unknown encoder 'libnope'/);
    expect(done.prediction.output).toBeNull();
    expect(existsSync(path.join(dataDir, "renders", `${ref}.part.mp4`))).toBe(false);
    expect(await engine().get(ref)).toMatchObject({ status: "failed" });
  });

  it("retries the completed event with the same webhook-id until it is accepted", async () => {
    receiver.failCompleted = [500, 503];
    const e = engine();
    const { ref } = await generate(e, { duration: 4 });
    const done = await receiver.completed(ref);
    const attempts = receiver.for(ref).filter((d) => d.prediction.status === "succeeded");
    expect(attempts.map((d) => d.status)).toEqual([500, 503, 204]);
    expect(new Set(attempts.map((d) => d.id)).size).toBe(1);
    expect(attempts.every((d) => JSON.stringify(d.prediction) === JSON.stringify(done.prediction))).toBe(true);
  });

  it("survives an unreachable webhook URL", async () => {
    const e = engine({ retryDelaysMs: [10, 10] });
    const { ref } = await generate(e, { duration: 4 }, "http://127.0.0.1:9/unreachable");
    expect(
      (
        await waitFor(
          () => e.get(ref),
          (p) => p?.status === "succeeded" || p?.status === "failed",
        )
      )?.status,
    ).toBe("succeeded");
  });

  it("refuses invalid input at start", async () => {
    const e = engine();
    await expect(generate(e, { style: "nope" })).rejects.toBeInstanceOf(EngineError);
    await expect(generate(e, { aspect_ratio: "4:3" })).rejects.toMatchObject({ code: "invalid_input" });
    await expect(e.start({ job: makeJob(), step: "enhance", webhookUrl: null, input: {} })).rejects.toMatchObject({
      code: "invalid_input",
    });
    await expect(
      e.start({
        job: makeJob(),
        step: "sound",
        webhookUrl: null,
        input: { video: "local:../../etc/passwd", style: "anime" },
      }),
    ).rejects.toMatchObject({ code: "invalid_input" });
    await expect(
      e.start({
        job: makeJob(),
        step: "sound",
        webhookUrl: null,
        input: { video: "https://example.com/a.mp4", style: "anime" },
      }),
    ).rejects.toMatchObject({ code: "invalid_input" });
    await mkdir(path.join(dataDir, "renders"), { recursive: true });
    await expect(
      e.start({
        job: makeJob(),
        step: "sound",
        webhookUrl: null,
        input: { video: "local:renders/lp_missing.mp4", style: "anime" },
      }),
    ).rejects.toMatchObject({ code: "invalid_input" });
  });

  it("a sound step on a file that is not a video fails cleanly", async () => {
    const e = engine();
    await mkdir(path.join(dataDir, "renders"), { recursive: true });
    await writeFile(path.join(dataDir, "renders", "junk.mp4"), "not a video");
    const { ref } = await e.start({
      job: makeJob(),
      step: "sound",
      webhookUrl: receiver.url,
      input: { video: "local:renders/junk.mp4", style: "anime" },
    });
    const done = await receiver.completed(ref);
    expect(done.prediction.status).toBe("failed");
    expect(String(done.prediction.error)).toMatch(/Local render failed/);
  });
});
