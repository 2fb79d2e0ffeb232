import AxeBuilder from "@axe-core/playwright";
import { expect, test, type Browser, type BrowserContextOptions, type Page } from "@playwright/test";
import { THEME_STORAGE_KEY } from "../components/ui/theme";
import { expectVideoSaved, generateFromHome, waitForHydration } from "./helpers";

/**
 * Accessibility and looks of the four main pages (home, a finished job, history, a shared
 * video) in light and dark mode: axe (WCAG 2 A and AA) must find nothing serious or critical,
 * and each page is saved as a screenshot at desktop and phone sizes under e2e/screenshots/.
 */

const SIZES = [
  { name: "desktop", width: 1280, height: 800 },
  { name: "phone", width: 375, height: 812 },
] as const;

type StorageState = Exclude<BrowserContextOptions["storageState"], string | undefined>;

let ownerState: StorageState;
let jobId: string;
/** The share page's path, /v/<token>. */
let sharePath: string;

// One finished, shared video made by one browser; every test below is that browser.
test.beforeAll(async ({ browser, baseURL }) => {
  test.setTimeout(180_000);
  const context = await browser.newContext({ baseURL });
  const page = await context.newPage();
  jobId = await generateFromHome(page, "A lighthouse on a cliff at dusk");
  await expectVideoSaved(page);
  await page.getByRole("switch", { name: "Public share page" }).click();
  await expect(page.getByRole("switch", { name: "Public share page" })).toHaveAttribute("aria-checked", "true");
  sharePath = new URL(await page.getByRole("textbox", { name: "Share link" }).inputValue()).pathname;
  ownerState = await context.storageState();
  await context.close();
});

/** Waits for what makes each page "done": hydration, and images or video frames loaded. */
const PAGES: { name: string; path: () => string; ready: (page: Page) => Promise<void> }[] = [
  { name: "home", path: () => "/", ready: (page) => waitForHydration(page) },
  {
    name: "job",
    path: () => `/jobs/${jobId}`,
    ready: async (page) => {
      await waitForHydration(page, "video");
      await expect
        .poll(() => page.locator("video").evaluate((v: HTMLVideoElement) => v.readyState))
        .toBeGreaterThanOrEqual(1);
    },
  },
  {
    name: "history",
    path: () => "/history",
    ready: async (page) => {
      const img = page.locator("main img").first();
      await expect
        .poll(() => img.evaluate((el: HTMLImageElement) => el.complete && el.naturalWidth))
        .toBeGreaterThan(0);
    },
  },
  {
    name: "share",
    path: () => sharePath,
    ready: async (page) => {
      await expect
        .poll(() => page.locator("video").evaluate((v: HTMLVideoElement) => v.readyState))
        .toBeGreaterThanOrEqual(1);
    },
  },
];

/** axe (WCAG 2 A and AA) on the page as it is now: its serious and critical findings, one line each. */
async function seriousViolations(page: Page, where: string): Promise<string[]> {
  const results = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa"]).analyze();
  return results.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => {
      const nodes = v.nodes
        .map((n) => `      ${n.target.join(" ")}: ${n.failureSummary?.replace(/\s+/g, " ") ?? ""}`)
        .join("\n");
      return `${where} ${v.impact} ${v.id}: ${v.help}\n${nodes}`;
    });
}

/** The owner's browser in one color scheme, chosen with the theme toggle's stored choice. */
async function ownerContext(browser: Browser, baseURL: string | undefined, scheme: "light" | "dark") {
  const context = await browser.newContext({
    baseURL,
    storageState: ownerState,
    colorScheme: scheme,
    reducedMotion: "reduce",
  });
  // As if the user had picked it; the boot script applies it before paint.
  await context.addInitScript(([key, value]) => window.localStorage.setItem(key, value), [
    THEME_STORAGE_KEY,
    scheme,
  ] as const);
  return context;
}

for (const scheme of ["light", "dark"] as const) {
  test(`no serious or critical axe violations in ${scheme} mode`, async ({ browser, baseURL }) => {
    const context = await ownerContext(browser, baseURL, scheme);
    const page = await context.newPage();
    const problems: string[] = [];

    for (const target of PAGES) {
      for (const size of SIZES) {
        await page.setViewportSize({ width: size.width, height: size.height });
        await page.goto(target.path());
        await target.ready(page);
        await expect(page.locator("html")).toHaveClass(new RegExp(`\\b${scheme}\\b`));
        await expect(page.getByRole("radio", { name: scheme === "light" ? "Light" : "Dark" })).toBeChecked();

        problems.push(...(await seriousViolations(page, `${target.name} (${scheme}, ${size.name})`)));
        // No horizontal scrolling on a phone.
        const overflow = await page.evaluate(
          () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
        );
        if (overflow > 0) problems.push(`${target.name} (${scheme}, ${size.name}) scrolls sideways by ${overflow}px`);

        await page.screenshot({ path: `e2e/screenshots/${target.name}-${scheme}-${size.name}.png`, fullPage: true });
      }
    }
    await context.close();
    if (problems.length > 0) console.log(problems.join("\n"));
    expect(problems).toEqual([]);
  });
}

for (const scheme of ["light", "dark"] as const) {
  test(`a running job page and the delete dialog have no serious or critical axe violations in ${scheme} mode`, async ({
    browser,
    baseURL,
  }) => {
    const context = await ownerContext(browser, baseURL, scheme);
    const page = await context.newPage();
    const problems: string[] = [];

    // A job held at its first state: the page keeps what the server rendered (progress bar,
    // steps, Cancel) because its live updates are held back.
    await page.route("**/api/events/**", (route) => route.abort());
    await page.route("**/api/status/**", (route) => route.abort());
    await page.goto("/");
    await waitForHydration(page);
    await page.getByRole("textbox", { name: "Prompt", exact: true }).fill("A paper lantern rising over a river");
    await page.getByRole("button", { name: "Generate" }).click();
    await page.waitForURL(/\/jobs\/[A-Za-z0-9_-]{22}$/);
    await expect(page.getByRole("progressbar").first()).toBeVisible();
    await expect(page.getByRole("button", { name: "Cancel", exact: true })).toBeVisible();
    problems.push(...(await seriousViolations(page, `running job (${scheme})`)));
    await page.screenshot({ path: `e2e/screenshots/job-running-${scheme}-desktop.png`, fullPage: true });
    await page.unrouteAll({ behavior: "ignoreErrors" });

    // The finished job's Delete asks first, in a modal dialog.
    await page.goto(`/jobs/${jobId}`);
    await waitForHydration(page, "video");
    await page.getByRole("button", { name: "Delete" }).click();
    const dialog = page.getByRole("dialog", { name: "Delete this video?" });
    await expect(dialog).toBeVisible();
    problems.push(...(await seriousViolations(page, `delete dialog (${scheme})`)));
    await dialog.getByRole("button", { name: "Keep it" }).click();
    await expect(dialog).toBeHidden();

    await context.close();
    if (problems.length > 0) console.log(problems.join("\n"));
    expect(problems).toEqual([]);
  });
}
