import type { FakeReplicate } from "../test/support/fake-replicate";
import { launchChromium } from "./browser";
import { BENCH_MODEL } from "./jobs";
import { percentile } from "./stats";

/**
 * Model finished → video playable in the watcher's page. Each sample is one real job on the
 * Replicate engine (fake server, webhooks to the app): created through POST /api/jobs, its job
 * page open in headless Chromium and following the event stream, its prediction held running by
 * the fake. The clock starts when the bench makes the fake finish the prediction (the `completed`
 * webhook goes out at once) and stops at the page's `canplay` event on its video: delivery,
 * transition, the event stream, React, and the player's first bytes through our playback URL.
 * Both clocks are this machine's wall clock. One job before the samples is not counted (warm-up).
 */
export type PlayableResult = { samples: number; p50: number; p99: number; max: number; succeeded: number };

/** Records in `window.__playableAt` when the first <video> of the page fires `canplay`. */
const PLAYABLE_WATCHER = `
window.__playableAt = null;
function watchVideo(v) {
  if (v.readyState >= 3 && window.__playableAt === null) window.__playableAt = Date.now();
  v.addEventListener("canplay", function () { if (window.__playableAt === null) window.__playableAt = Date.now(); }, { once: true });
}
new MutationObserver(function (records) {
  for (const r of records) for (const n of r.addedNodes) {
    if (n instanceof HTMLVideoElement) watchVideo(n);
    else if (n instanceof Element) n.querySelectorAll("video").forEach(watchVideo);
  }
}).observe(document, { subtree: true, childList: true });
`;

export async function playableLatency(origin: string, fake: FakeReplicate, samples: number): Promise<PlayableResult> {
  const browser = await launchChromium();
  fake.holdRuns(true);
  const times: number[] = [];
  let succeeded = 0;
  try {
    const page = await browser.newPage();
    // A string: tsx would wrap named functions in a helper that the page does not have.
    await page.addInitScript(PLAYABLE_WATCHER);
    // One job first, not counted: the server's first playback stream loads its route's code.
    for (let i = -1; i < samples; i++) {
      // Through the page's own context: the owner cookie it gets is the page's, and a job page
      // (and its video) is its owner's alone.
      const res = await page.request.post(`${origin}/api/jobs`, {
        data: {
          prompt: `Benchmark playable ${i}: a paper lantern drifting over a dark lake`,
          model: BENCH_MODEL,
          enhance: false,
          sound: false,
        },
      });
      if (res.status() !== 201) throw new Error(`POST /api/jobs answered ${res.status()}: ${await res.text()}`);
      const { id } = (await res.json()) as { id: string };
      await page.goto(`${origin}/jobs/${id}`);
      // Running at the provider, and the page following it live.
      await page
        .getByText(/Generating the video/)
        .first()
        .waitFor({ timeout: 30_000 });
      const prediction = [...fake.predictions.values()].find(
        (r) => r.webhook?.includes(`job=${id}`) && r.prediction.status === "processing",
      );
      if (!prediction) throw new Error(`no running prediction for job ${id}`);
      const started = Date.now();
      fake.complete(prediction.prediction.id);
      await page.waitForFunction(
        () => (window as unknown as { __playableAt: number | null }).__playableAt !== null,
        undefined,
        { timeout: 30_000 },
      );
      const at = await page.evaluate(() => (window as unknown as { __playableAt: number }).__playableAt);
      if (i >= 0) times.push(at - started);
      // The next sample starts with this job saved, so the copies do not overlap.
      await page.getByRole("link", { name: "Download" }).waitFor({ timeout: 30_000 });
      if (i >= 0) succeeded++;
    }
  } finally {
    fake.holdRuns(false);
    await browser.close();
  }
  return {
    samples: times.length,
    p50: percentile(times, 50),
    p99: percentile(times, 99),
    max: Math.max(...times),
    succeeded,
  };
}
