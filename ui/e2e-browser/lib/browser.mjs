// Debian's Chromium through playwright-core (never a downloaded browser), with
// the flags the project's machines need.

import { chromium } from "playwright-core";

export const CHROMIUM = process.env.COUP_E2E_CHROMIUM ?? "/usr/bin/chromium";

/** Chromium's fake camera, microphone and screen, granted without a prompt;
 * loopback ICE candidates so a native peer bound to 127.0.0.1 is reachable. */
export const FAKE_MEDIA = ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream", "--allow-loopback-in-peer-connection"];

export function launch(extra = []) {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", ...extra],
  });
}
