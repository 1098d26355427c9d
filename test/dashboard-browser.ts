// Chromium (Debian's /usr/bin/chromium) through playwright-core, for the
// dashboard tests. Returns undefined when Chromium is not installed so the
// test can skip with a message.
import * as fs from 'node:fs';
import * as path from 'node:path';

export const CHROMIUM = process.env.KUBEPKI_CHROMIUM ?? '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

export function chromiumMissing(): string | undefined {
  return fs.existsSync(CHROMIUM) ? undefined : `Chromium not installed at ${CHROMIUM} (apt-get install chromium): browser test skipped`;
}

export async function launchChromium() {
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
}

/** test-output/ under the repo root (tests run from the repo root). */
export function testOutput(name: string): string {
  const dir = path.resolve(process.cwd(), 'test-output');
  fs.mkdirSync(dir, { recursive: true });
  return path.join(dir, name);
}
