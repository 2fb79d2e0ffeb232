import { expect, type Page } from "@playwright/test";

/** Saves a full-page screenshot under e2e/screenshots/ (gitignored) for a human to look at. */
export async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: `e2e/screenshots/${name}.png`, fullPage: true });
}

/**
 * Waits until React has hydrated the page's form. Before that, a click on "Generate" posts the
 * form natively (the no-JavaScript path), which is not what these tests exercise. React marks
 * hydrated DOM nodes with a `__reactFiber$…` property. (networkidle is no substitute: a link
 * prefetch can keep a request open.)
 */
export async function waitForHydration(page: Page, selector = "form"): Promise<void> {
  await page.waitForFunction((sel) => {
    const el = document.querySelector(sel);
    return el !== null && Object.keys(el).some((key) => key.startsWith("__reactFiber$"));
  }, selector);
}

/**
 * Waits until every request the page has started so far has been seen by the test: the page
 * fetches a marker URL and the test waits for that request. Playwright reports a page's requests
 * in the order the page makes them, so a request made before the marker (a stray form post, a
 * stream the page should not open) has been reported by then. This replaces "wait a second and
 * check that nothing happened" with an event.
 */
export async function requestsSeenSoFar(page: Page): Promise<void> {
  const marker = `/robots.txt?marker=${Math.random().toString(36).slice(2)}`;
  const seen = page.waitForRequest((req) => req.url().endsWith(marker));
  await page.evaluate((url) => void fetch(url).catch(() => undefined), marker);
  await seen;
}

/**
 * Records every state the job page's progress area shows ("<bar value>|<message>"), as it
 * happens: a MutationObserver in the page reports each change (a sampling loop could miss a quick
 * render on a busy machine). The recorder is installed again after a reload.
 */
export async function recordProgress(page: Page): Promise<string[]> {
  const seen: string[] = [];
  await page.exposeFunction("__recordProgress", (entry: string) => void seen.push(entry));
  const recorder = () => {
    const w = window as unknown as { __recordProgress: (entry: string) => void };
    const read = () => {
      const bar = document.querySelector('[role="progressbar"][aria-label="Video progress"]');
      const text = document.querySelector('[data-testid="job-message"]')?.textContent ?? null;
      if (bar && text !== null) w.__recordProgress(`${bar.getAttribute("aria-valuenow") ?? "?"}|${text}`);
    };
    const observe = () => {
      read();
      new MutationObserver(read).observe(document.body, {
        subtree: true,
        childList: true,
        characterData: true,
        attributes: true,
      });
    };
    // An init script runs before the document has a body.
    if (document.body) observe();
    else document.addEventListener("DOMContentLoaded", observe, { once: true });
  };
  await page.addInitScript(`(${recorder.toString()})()`);
  await page.evaluate(recorder);
  return seen;
}

/**
 * Waits until the job page shows a saved video: its Download link, which appears once the job
 * has succeeded. (The player itself appears earlier: it plays while the video is being saved.)
 */
export async function expectVideoSaved(page: Page, timeout = 120_000): Promise<void> {
  await expect(page.getByRole("link", { name: "Download", exact: true })).toBeVisible({ timeout });
  await expect(page.locator("video")).toBeVisible();
}

/**
 * Makes a video from the home page (at `home`, "/" of the base URL unless given) with the form's
 * defaults and `prompt`, and waits for the job page; returns the job's id.
 */
export async function generateFromHome(page: Page, prompt: string, home = "/"): Promise<string> {
  await page.goto(home);
  await waitForHydration(page);
  await page.getByRole("textbox", { name: "Prompt", exact: true }).fill(prompt);
  await page.getByRole("button", { name: "Generate" }).click();
  await page.waitForURL(/\/jobs\/[A-Za-z0-9_-]{22}$/);
  return new URL(page.url()).pathname.split("/").pop()!;
}
