/** Headless Chromium for console tests: @sparticuz/chromium's binary driven by playwright-core. */

import chromium from "@sparticuz/chromium";
import { type Browser, chromium as playwright } from "playwright-core";

export async function launchBrowser(): Promise<Browser> {
  const executablePath = await chromium.executablePath();
  return await playwright.launch({ executablePath, args: chromium.args, headless: true });
}

/** Where screenshots go (git-ignored). */
export const SCREENSHOTS = new URL("../.screenshots/console/", import.meta.url);

/** Polls `probe` until it returns a value other than undefined, or throws after `timeoutMs`. */
export async function until<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}` + (last ? `: ${last}` : ""),
      );
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}
