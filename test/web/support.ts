import { type Browser, chromium } from 'playwright-core';

/**
 * Debian's headless Chromium as the UI tests drive it: no sandbox (tests may run as root), no
 * GPU, and none of the first-run, background or update traffic a fresh profile would start.
 */
export function launchChromium(executablePath: string | undefined): Promise<Browser> {
  return chromium.launch({
    executablePath: executablePath ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}
