/**
 * Debian's Chromium, as every browser test and benchmark launches it: Playwright's
 * own browser download is neither wanted nor possible here, and on a closed network
 * Chromium must be kept from reaching out.
 */
import { type Browser, chromium } from 'playwright';

export const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export const chromiumArgs = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  // Audio tests start AudioContexts with no user gesture to unlock them.
  '--autoplay-policy=no-user-gesture-required',
];

export function launchChromium(extraArgs: string[] = []): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumPath, args: [...chromiumArgs, ...extraArgs] });
}
