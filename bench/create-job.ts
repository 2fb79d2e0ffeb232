import type { Browser, Page } from "playwright";
import { launchChromium } from "./browser";
import { percentile } from "./stats";

/**
 * Job creation as the browser does it: the form on `/` submits through the `createJob` server
 * action (a POST to `/` with a `Next-Action` header and the form as multipart). One submission is
 * made in headless Chromium (its network timing is the first sample); that exact request (same
 * action id, router state, owner cookie and form) is then replayed with fetch, each replay
 * creating one more job, so the round trip is measured without the browser's own overhead.
 */
export type CreateResult = { browserMs: number; samples: number; created: number; p50: number; p99: number };

/** The home page loaded and hydrated, its form filled in, ready to press Generate. */
async function filledForm(browser: Browser, origin: string, model: string): Promise<Page> {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${origin}/`);
  // Hydrated: before that the form would post natively (the no-JavaScript path), not through the action.
  await page.waitForFunction(() => {
    const button = [...document.querySelectorAll("button")].find((b) => b.textContent?.trim() === "Generate");
    return Boolean(button && Object.keys(button).some((k) => k.startsWith("__reactFiber")));
  });
  await page
    .getByRole("textbox", { name: "Prompt", exact: true })
    .fill("A paper lantern drifting over a dark lake at night");
  await page.getByRole("combobox", { name: "Model" }).selectOption(model);
  return page;
}

/**
 * A form made ready beforehand (page loaded, hydrated, filled in), to be submitted at a chosen
 * moment: `submit` presses Generate and resolves with the milliseconds until the browser is on
 * the new job's page (or rejects after `timeoutMs`).
 */
export async function readyForm(
  origin: string,
  model: string,
): Promise<{ submit(timeoutMs: number): Promise<number>; close(): Promise<void> }> {
  const browser = await launchChromium();
  try {
    const page = await filledForm(browser, origin, model);
    return {
      async submit(timeoutMs) {
        const started = performance.now();
        await page.getByRole("button", { name: "Generate" }).click();
        await page.waitForURL(/\/jobs\/[A-Za-z0-9_-]{22}$/, { timeout: timeoutMs });
        return performance.now() - started;
      },
      close: () => browser.close(),
    };
  } catch (error) {
    await browser.close();
    throw error;
  }
}

/** `promise`, or an error naming `what` after `ms`: no phase of the benchmark waits for ever. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing after ${ms / 1000} s`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

const STEP_MS = 60_000;

export async function jobCreation(origin: string, opts: { model: string; replays: number }): Promise<CreateResult> {
  const browser = await launchChromium();
  try {
    const page = await filledForm(browser, origin, opts.model);
    const context = page.context();
    const [request] = await Promise.all([
      page.waitForRequest((r) => r.method() === "POST" && Boolean(r.headers()["next-action"]), { timeout: STEP_MS }),
      page.getByRole("button", { name: "Generate" }).click({ timeout: STEP_MS }),
    ]);
    const response = await within(request.response(), STEP_MS, "the server action's response");
    await within(response?.finished() ?? Promise.resolve(null), STEP_MS, "the server action's response body");
    const timing = request.timing();
    const browserMs = timing.responseEnd;
    await page.waitForURL(/\/jobs\/[A-Za-z0-9_-]{22}$/, { timeout: STEP_MS });

    const headers = await request.allHeaders();
    const body = request.postDataBuffer();
    if (!body) throw new Error("the server action request had no body");
    const cookie = (await context.cookies(origin)).map((c) => `${c.name}=${c.value}`).join("; ");
    const replayHeaders: Record<string, string> = { cookie };
    for (const name of ["next-action", "next-router-state-tree", "content-type", "accept", "origin"]) {
      const value = headers[name];
      if (value) replayHeaders[name] = value;
    }
    const times: number[] = [];
    let created = 0;
    for (let i = 0; i < opts.replays; i++) {
      const started = performance.now();
      const res = await fetch(request.url(), {
        method: "POST",
        headers: replayHeaders,
        body: new Uint8Array(body),
        signal: AbortSignal.timeout(STEP_MS),
      });
      const text = await res.text();
      times.push(performance.now() - started);
      if (res.ok && text.includes('"status":"created"')) created++;
    }
    return { browserMs, samples: times.length, created, p50: percentile(times, 50), p99: percentile(times, 99) };
  } finally {
    await browser.close();
  }
}
