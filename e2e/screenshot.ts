import type { Page } from "@playwright/test";

/** Saves a full-page screenshot under e2e/screenshots/ (gitignored) for a human to look at. */
export async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: `e2e/screenshots/${name}.png`, fullPage: true });
}
