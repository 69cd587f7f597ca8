/**
 * A refused camera is said clearly and costs nothing else: the page whose browser refuses the camera
 * (getUserMedia for video → NotAllowedError) still joins, with its microphone, shows why there is no camera,
 * has no tile of its own — and the other page sees it in the roster with the camera off, and no tile for it.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Browser } from 'playwright-core';
import { silentLogger } from '../../registrar/log.ts';
import { type RunningGui, startGui } from '../../softclient/gui/gui-command.ts';
import { parseGuiArgs } from '../../softclient/gui/settings.ts';
import { freePortBlock } from '../interop/ports.ts';
import { startTestServer, type TestServer } from '../softclient/helpers.ts';
import { launchChromium, openPage, pageStats, remoteTiles, requireChromium, until } from './harness.ts';

test('camera refused: a clear notice, the meeting joined with the microphone, no tile for the missing camera', { timeout: 90_000 }, async (t) => {
  if (!requireChromium(t)) return;
  const base = await freePortBlock(40);
  const srv: TestServer = await startTestServer(`${base}-${base + 39}`);
  const common = ['--server', srv.hostPort, '--api', srv.api, '--no-open'];
  const guis: RunningGui[] = [];
  let browser: Browser | undefined;
  try {
    for (const name of ['Sam', 'Tia']) guis.push(await startGui(parseGuiArgs([...common, '--name', name]), silentLogger()));
    browser = await launchChromium();
    const sam = await openPage(browser, guis[0]!.url);
    const tiaContext = await browser.newContext({ viewport: { width: 1280, height: 720 } });
    // Tia's browser says no to the camera (as after a click on "Block"), yes to the microphone.
    await tiaContext.addInitScript(() => {
      const md = navigator.mediaDevices;
      const original = md.getUserMedia.bind(md);
      md.getUserMedia = (c?: MediaStreamConstraints) => (c?.video ? Promise.reject(new DOMException('Permission denied', 'NotAllowedError')) : original(c));
    });
    const tia = await tiaContext.newPage();
    await tia.goto(guis[1]!.url);

    await sam.getByLabel('Meeting id (optional)').fill('conf-nocam');
    await sam.getByRole('button', { name: 'Create meeting' }).click();
    await sam.locator('main.meeting').waitFor({ timeout: 20_000 });
    await tia.getByLabel('Meeting URI or id').fill(srv.uri('conf-nocam'));
    await tia.getByRole('button', { name: 'Join', exact: true }).click();
    await tia.locator('main.meeting').waitFor({ timeout: 20_000 });

    const notice = tia.locator('[data-testid="notice"][data-kind="camera"]');
    await notice.waitFor({ timeout: 10_000 });
    assert.match((await notice.textContent()) ?? '', /camera was refused/i);
    assert.equal(await tia.locator('[data-tile="self"]').count(), 0);
    assert.equal(await tia.getByRole('button', { name: 'Start camera' }).count(), 1, 'the camera button offers to try again');

    // Sam: Tia is there with her microphone and without a camera; no tile for her, her sound arrives.
    const tiaRow = sam.locator('.roster li', { hasText: 'Tia' });
    await tiaRow.locator('[aria-label="microphone on, camera off"]').waitFor({ timeout: 10_000 });
    assert.deepEqual(await remoteTiles(sam), []);
    const a0 = (await pageStats(sam)).audio.packets;
    await until(async () => (await pageStats(sam)).audio.packets > a0 + 25, 10_000, "Sam hearing the meeting's audio");
    // Tia sees Sam's video all the same.
    await until(async () => (await remoteTiles(tia)).includes('Sam'), 15_000, "Tia showing Sam's tile");
  } finally {
    await browser?.close().catch(() => undefined);
    for (const g of guis) await g.close().catch(() => undefined);
    await srv.close();
  }
});
