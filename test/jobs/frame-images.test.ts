import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PublicJob } from "@/lib/core/job";
import { getModel } from "@/lib/models/registry";
import { finishedJob, startAppHarness, type AppHarness } from "@/test/support/app-harness";
import { replicateEnvOf, startFakeReplicate, type FakeReplicate } from "@/test/support/fake-replicate";
import { twoColourImage } from "@/test/support/frame-colours";
import { closeAfterEach } from "@/test/support/close-after-each";

/**
 * First and last frames through POST /api/jobs: checked by their bytes, kept with the job,
 * served to the owner only, and sent to Replicate under each model's own input names through
 * the client's files API (against the Replicate-compatible test server).
 */

let app: AppHarness | undefined;
let fake: FakeReplicate | undefined;
let dir: string;
let png: Buffer;
let jpeg: Buffer;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "p2v-frames-"));
  await twoColourImage(path.join(dir, "first.png"), [30, 144, 220], [220, 90, 30]);
  await twoColourImage(path.join(dir, "last.jpg"), [40, 180, 80], [150, 60, 190]);
  png = await readFile(path.join(dir, "first.png"));
  jpeg = await readFile(path.join(dir, "last.jpg"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});
closeAfterEach(
  () => app,
  () => fake,
);

type Created = { id: string; job: PublicJob };
type ErrorBody = { error: { code: string; fieldErrors?: Record<string, string> } };

const dataUri = (type: string, bytes: Buffer) => `data:${type};base64,${bytes.toString("base64")}`;

async function withFakeReplicate() {
  fake = await startFakeReplicate({ timing: { startingMs: 50, processingMs: 200, ticks: 2 } });
  app = await startAppHarness({
    env: replicateEnvOf(fake),
  });
}

function post(body: BodyInit, type: string | null, cookie?: string): Promise<Response> {
  const headers: Record<string, string> = cookie ? { cookie } : {};
  if (type) headers["content-type"] = type;
  return fetch(`${app!.origin}/api/jobs`, { method: "POST", headers, body });
}

/** The video prediction of a model, with its create body as received. */
function videoPrediction(model: string) {
  const rec = [...fake!.predictions.values()].find((p) => p.prediction.model === model);
  expect(rec, `a prediction on ${model}`).toBeDefined();
  return rec!.body.input as Record<string, unknown>;
}

describe("frame images on Replicate", () => {
  it("sends a first frame in the model's own input field, through the files API", async () => {
    await withFakeReplicate();
    const model = getModel("kwaivgi/kling-v2.1-master");
    const res = await post(
      JSON.stringify({
        prompt: "the painted wall comes alive",
        model: model.id,
        enhance: false,
        firstFrame: dataUri("image/png", png),
      }),
      "application/json",
    );
    expect(res.status).toBe(201);
    const { id, job } = (await res.json()) as Created;
    expect(job.images.first).toEqual({ url: `/api/jobs/${id}/frames/first`, contentType: "image/png" });
    expect(job.images.last).toBeNull();
    expect((await finishedJob(app!, id)).status).toBe("succeeded");

    const input = videoPrediction(model.id);
    expect(model.images?.first).toBe("start_image");
    const sent = fake!.fileAt(input.start_image);
    expect(sent, "start_image is the URL of an uploaded file").toBeDefined();
    expect(sent!.bytes.equals(png)).toBe(true);
    expect(sent!.contentType).toBe("image/png");
    expect(Object.keys(input).filter((k) => fake!.fileAt(input[k]))).toEqual(["start_image"]);
  });

  it("gives a model that takes a last frame both, each under its name (form data)", async () => {
    await withFakeReplicate();
    const model = getModel("bytedance/seedance-1-lite");
    const form = new FormData();
    form.set("prompt", "from a blue wall to a green field");
    form.set("model", model.id);
    form.set("enhance", "false");
    form.set("firstFrame", new File([new Uint8Array(png)], "start.png", { type: "image/png" }));
    form.set("lastFrame", new File([new Uint8Array(jpeg)], "end.jpg", { type: "image/jpeg" }));
    const res = await post(form, null);
    expect(res.status).toBe(201);
    const { id } = (await res.json()) as Created;
    expect((await finishedJob(app!, id)).status).toBe("succeeded");

    const input = videoPrediction(model.id);
    expect(model.images).toEqual({ first: "image", last: "last_frame_image" });
    expect(fake!.fileAt(input.image)?.bytes.equals(png)).toBe(true);
    expect(fake!.fileAt(input.last_frame_image)?.bytes.equals(jpeg)).toBe(true);
  });
});

describe("frame images through POST /api/jobs", () => {
  it("refuses a text file named .png, an image over 10 MB, a last frame alone, and stores nothing", async () => {
    app = await startAppHarness();
    const form = new FormData();
    form.set("prompt", "a lighthouse at dusk");
    form.set("model", "local/preview");
    form.set("firstFrame", new File(["just some notes, not a picture\n"], "holiday.png", { type: "image/png" }));
    const res = await post(form, null);
    expect(res.status).toBe(400);
    const body = (await res.json()) as ErrorBody;
    expect(body.error.fieldErrors?.firstFrame).toBe(
      "The first frame: “holiday.png” is not a PNG, JPEG or WebP image (its contents say so, whatever its name).",
    );

    const huge = await post(
      JSON.stringify({
        prompt: "a lighthouse at dusk",
        firstFrame: dataUri("image/png", Buffer.concat([png, Buffer.alloc(10 * 1024 * 1024)])),
      }),
      "application/json",
    );
    expect(huge.status).toBe(400);
    expect(((await huge.json()) as ErrorBody).error.fieldErrors?.firstFrame).toMatch(/at most 10 MB/);

    const lastOnly = await post(
      JSON.stringify({ prompt: "a lighthouse at dusk", lastFrame: dataUri("image/jpeg", jpeg) }),
      "application/json",
    );
    expect(lastOnly.status).toBe(400);
    expect(((await lastOnly.json()) as ErrorBody).error.fieldErrors).toEqual({
      firstFrame: "A last frame needs a first frame too.",
    });

    await app.settle();
    expect(await app.store.listRecent(10)).toEqual([]);
  });

  it("keeps the images with the job and serves them to its owner only", async () => {
    app = await startAppHarness();
    const res = await post(
      JSON.stringify({
        prompt: "a lighthouse at dusk",
        model: "local/preview",
        firstFrame: dataUri("image/png", png),
        lastFrame: dataUri("image/jpeg", jpeg),
      }),
      "application/json",
    );
    expect(res.status).toBe(201);
    const cookie = res.headers.get("set-cookie")!.split(";")[0]!;
    const { id } = (await res.json()) as Created;
    const done = await finishedJob(app, id);
    expect(done.status).toBe("succeeded");

    const mine = await fetch(`${app.origin}/api/jobs/${id}/frames/last`, { headers: { cookie } });
    expect(mine.status).toBe(200);
    expect(mine.headers.get("content-type")).toBe("image/jpeg");
    expect(Buffer.from(await mine.arrayBuffer()).equals(jpeg)).toBe(true);
    // Anyone else gets the answer for no job at all.
    expect((await fetch(`${app.origin}/api/jobs/${id}/frames/first`)).status).toBe(404);
    // Not through the public file route either.
    expect((await fetch(`${app.origin}/api/files/${id}/frame-first.png`, { headers: { cookie } })).status).toBe(404);
  });
});
