// Debian's Chromium through playwright-core (never a downloaded browser), with
// the flags the project's machines need.

import { chromium } from "playwright-core";

export const CHROMIUM = process.env.COUP_E2E_CHROMIUM ?? "/usr/bin/chromium";

export function launch() {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
  });
}
