import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newJob } from "@/lib/jobs/domain/new-job";
import { createJobSchema } from "@/lib/jobs/domain/request";
import { LOCAL_MODEL_ID, MODELS } from "@/lib/models/registry";
import { STYLE_IDS } from "@/lib/styles";
import { startAppHarness, type AppHarness } from "@/test/support/app-harness";
import { asOwner, TEST_OWNER_ID } from "@/test/support/owner";

/**
 * A prompt is user text and stays text: the status API returns it as a JSON string, exactly as
 * typed, never as markup (the page's rendering is checked by the e2e suite).
 */

const PAYLOAD = `<img src=x onerror=alert(1)><script>alert(1)</script>`;

let app: AppHarness;
beforeAll(async () => {
  app = await startAppHarness();
});
afterAll(async () => {
  await app.close();
});

describe("an XSS payload as a prompt", () => {
  it("passes validation unchanged and comes back as the same text in the status JSON", async () => {
    const input = createJobSchema(MODELS).parse({
      prompt: PAYLOAD,
      style: STYLE_IDS[0],
      model: LOCAL_MODEL_ID,
      negativePrompt: "",
    });
    expect(input.prompt).toBe(PAYLOAD);
    const job = newJob({ input, ownerId: TEST_OWNER_ID, llmEnhancer: false, now: Date.now() });
    await app.store.create(job);

    const res = await fetch(`${app.origin}/api/status/${job.id}`, await asOwner());
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    const raw = await res.text();
    const body = JSON.parse(raw) as { prompt: string; finalPrompt: string | null; message: string };
    expect(body.prompt).toBe(PAYLOAD);
    // Not HTML-escaped either: escaping belongs to whoever renders it, once.
    expect(raw).not.toContain("&lt;");
    expect(body.message).not.toContain("<script>");
    await app.settle();
  });
});
