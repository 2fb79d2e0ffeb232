import { existsSync } from "node:fs";
import { chromium, type Browser } from "playwright";

const SYSTEM_CHROMIUM = "/usr/bin/chromium";

/** Headless Chromium for the browser phases: the system one when there is one. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    headless: true,
    executablePath: existsSync(SYSTEM_CHROMIUM) ? SYSTEM_CHROMIUM : undefined,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}
