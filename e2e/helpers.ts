import type { Page } from "@playwright/test";

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
