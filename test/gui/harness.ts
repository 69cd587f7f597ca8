/**
 * GUI test harness: Debian's chromium driven by playwright-core with fake devices (a moving test pattern and a
 * beeping microphone, shared/peers.md), pages of real `sipmeet gui` instances, and polling helpers.
 *
 * Chromium missing: under CI=true the test fails (CI must prove the GUI works); elsewhere it is skipped with a loud
 * message naming the package.
 */
import assert from 'node:assert/strict';
import { accessSync, constants, mkdirSync } from 'node:fs';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';
import type { PageStats } from '../../softclient/gui/web/rtc.ts';

export const CHROMIUM = process.env.SIPMEET_CHROMIUM ?? '/usr/bin/chromium';
export const OUTPUT_DIR = fileURLToPath(new URL('../../test-output/gui/', import.meta.url));

/** shared/peers.md: headless Chromium with fake media devices, nothing fetched from the network. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--use-fake-device-for-media-stream',
  '--use-fake-ui-for-media-stream',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--autoplay-policy=no-user-gesture-required',
];

/** True when chromium can run; otherwise fails under CI=true, or skips loudly and returns false. */
export function requireChromium(t: TestContext, ...more: string[]): boolean {
  const missing = [CHROMIUM, ...more].filter((p) => {
    try {
      accessSync(p, constants.X_OK);
      return false;
    } catch {
      return true;
    }
  });
  if (missing.length === 0) return true;
  const msg = `GUI test needs ${missing.join(', ')} — install with: apt-get install -y --no-install-recommends chromium ffmpeg`;
  if (process.env.CI === 'true') assert.fail(`${msg} [required under CI=true]`);
  process.stderr.write(`\n!!!!!!!! SKIPPING ${t.name}: ${msg}\n\n`);
  t.skip(msg);
  return false;
}

export async function launchChromium(): Promise<Browser> {
  // playwright launches headless with a fresh temporary profile (peers.md's --user-data-dir=$(mktemp -d)).
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS.filter((a) => a !== '--headless') });
}

/** A page at 1280×720 (the size the GUI is laid out for) that accepts confirm() dialogs. */
export async function openPage(browser: Browser, url: string): Promise<Page> {
  const page = await (await browser.newContext({ viewport: { width: 1280, height: 720 } })).newPage();
  page.on('dialog', (d) => void d.accept());
  await page.goto(url);
  return page;
}

export function pageStats(page: Page): Promise<PageStats> {
  return page.evaluate(() => window.sipmeet!.stats());
}

/** Poll `f` until it returns a truthy value (resolved), or fail after `timeoutMs` with `what` and the last value seen. */
export async function until<T>(f: () => Promise<T | undefined | false | null>, timeoutMs: number, what: string, describe?: () => Promise<string>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${describe ? `: ${await describe()}` : ''}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Names on the remote tiles of a page, in grid order. */
export function remoteTiles(page: Page): Promise<string[]> {
  return page.locator('[data-tile="remote"]').evaluateAll((els) => els.map((e) => e.getAttribute('data-name') ?? ''));
}

/** The slot of `name`'s tile on `page`, if shown. */
export async function slotOf(page: Page, name: string): Promise<number | undefined> {
  const slot = await page.locator(`[data-tile="remote"][data-name="${name}"]`).first().getAttribute('data-slot', { timeout: 500 }).catch(() => null);
  return slot === null ? undefined : Number(slot);
}

/** Decoded frames of `name`'s tile on `page` (getStats inbound-rtp framesDecoded of its slot). */
export async function framesOf(page: Page, name: string): Promise<number> {
  const slot = await slotOf(page, name);
  if (slot === undefined) return -1;
  const s = await pageStats(page);
  return s.slots.find((x) => x.slot === slot)?.framesDecoded ?? 0;
}

export function outputDir(): string {
  mkdirSync(OUTPUT_DIR, { recursive: true });
  return OUTPUT_DIR;
}
