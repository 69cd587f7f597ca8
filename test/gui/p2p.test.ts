/**
 * The GUI in a peer-to-peer meeting (server `--p2p auto`, docs/focus.md): two pages go direct — the badge says
 * so (the roster's <media-mode>), each still sees the other's video (now arriving on its own camera line, the
 * publisher line being idle) and hears the other (a new RTP source for the page's audio). A third participant
 * (the CLI) brings the meeting back to client-server: the badge follows and the video goes on through the relay.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Browser } from 'playwright-core';
import { silentLogger } from '../../registrar/log.ts';
import { resolveConfig } from '../../registrar/server/config.ts';
import { type RunningServer, startServer } from '../../registrar/server/server.ts';
import { type RunningGui, startGui } from '../../softclient/gui/gui-command.ts';
import { parseGuiArgs } from '../../softclient/gui/settings.ts';
import { freePortBlock } from '../interop/ports.ts';
import { Cli } from '../softclient/helpers.ts';
import { framesOf, launchChromium, openPage, pageStats, remoteTiles, requireChromium, until } from './harness.ts';

test('two GUI pages peer-to-peer: badge, video and audio both ways; a third participant brings it back through the server', { timeout: 120_000 }, async (t) => {
  if (!requireChromium(t)) return;
  const base = await freePortBlock(100);
  const cfg = resolveConfig({ host: '127.0.0.1', 'sip-port': '0', 'http-port': '0', 'rtp-ports': `${base}-${base + 99}`, 'log-level': 'silent', p2p: 'auto' });
  const server: RunningServer = await startServer(cfg, silentLogger());
  const hostPort = `127.0.0.1:${server.sipPort}`;
  const common = ['--server', hostPort, '--api', `http://127.0.0.1:${server.httpPort}`, '--no-open'];
  const guis: RunningGui[] = [];
  let browser: Browser | undefined;
  let cli: Cli | undefined;
  try {
    for (const name of ['Pia', 'Quin']) guis.push(await startGui(parseGuiArgs([...common, '--name', name]), silentLogger()));
    browser = await launchChromium();
    const pia = await openPage(browser, guis[0]!.url);
    const quin = await openPage(browser, guis[1]!.url);
    await pia.getByLabel('Meeting id (optional)').fill('conf-p2p');
    await pia.getByRole('button', { name: 'Create meeting' }).click();
    await pia.locator('main.meeting').waitFor({ timeout: 20_000 });
    await quin.getByLabel('Meeting URI or id').fill('conf-p2p');
    await quin.getByRole('button', { name: 'Join', exact: true }).click();
    await quin.locator('main.meeting').waitFor({ timeout: 20_000 });

    const pages = [['Pia', pia, 'Quin'], ['Quin', quin, 'Pia']] as const;
    for (const [, page] of pages) await page.locator('[data-testid="badge"][data-mode="p2p"]').waitFor({ timeout: 20_000 });
    assert.match((await pia.locator('[data-testid="badge"]').textContent()) ?? '', /peer-to-peer/);
    for (const [who, page, other] of pages) {
      await until(async () => (await remoteTiles(page)).includes(other), 10_000, `${who} to show ${other}'s tile`);
      // Frames decoded after the switch: the count keeps going up on the direct stream.
      const f0 = await until(async () => ((await framesOf(page, other)) > 0 ? framesOf(page, other) : undefined), 15_000, `${who} decoding ${other}`);
      await until(async () => (await framesOf(page, other)) > f0 + 10, 15_000, `${who}: ${other}'s video flowing peer-to-peer`, async () => JSON.stringify(await pageStats(page)));
      const a0 = (await pageStats(page)).audio.packets;
      await until(async () => (await pageStats(page)).audio.packets > a0 + 50, 10_000, `${who} hearing ${other} peer-to-peer`);
    }

    // A third participant: back to client-server; video still flows, now through the relay.
    cli = new Cli(['join', `sip:conf-p2p@${hostPort}`, '--name', 'Ray', '--audio-in', 'tone:300', '--json']);
    await cli.waitEvent('joined', () => true, 20_000);
    for (const [who, page, other] of pages) {
      await page.locator('[data-testid="badge"][data-mode="cs"]').waitFor({ timeout: 20_000 });
      const f0 = await framesOf(page, other);
      await until(async () => (await framesOf(page, other)) > Math.max(0, f0) + 10, 20_000, `${who}: ${other}'s video through the server again`, async () => `${JSON.stringify(await remoteTiles(page))} ${JSON.stringify(await pageStats(page))}`);
    }
  } finally {
    cli?.kill();
    await cli?.exited;
    await browser?.close().catch(() => undefined);
    for (const g of guis) await g.close().catch(() => undefined);
    await server.close();
  }
});
