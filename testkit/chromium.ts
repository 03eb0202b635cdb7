/**
 * The Chromium that browser tests and benchmarks drive: Debian's (`apt-get install chromium`; .ci/run
 * installs it), through playwright-core, since playwright's own download does not run here.
 */
import { type Browser, chromium } from 'playwright-core';

export const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';

/**
 * Headless, without a sandbox (root in CI) or a GPU, and without the background traffic (QUIC,
 * component updates, sync) that would share the wire or the CPU with what a test or benchmark counts.
 */
export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS });
}
