/**
 * `sipmeet gui [--server HOST:PORT] [--name NAME] [--port N] [--api URL] [--user AOR --password P] [--no-open]`
 * and `sipmeet join <uri> --gui …`: build the page's bundle if it is missing or stale, serve it on 127.0.0.1,
 * print the URL, open a browser where one is available, and run until Ctrl-C (leaving any meeting first).
 */
import { spawn } from 'node:child_process';
import { createLogger } from '../../registrar/log.ts';
import { systemClock } from '../../registrar/sip/clock.ts';
import { ensureBundle } from './bundle.ts';
import { GuiHttpServer } from './gui-server.ts';
import { GuiSession } from './gui-session.ts';
import { type GuiCommandSettings, parseGuiArgs } from './settings.ts';
import { untilSignal } from '../cli/signals.ts';

export interface RunningGui {
  readonly url: string;
  readonly session: GuiSession;
  close(): Promise<void>;
}

/** Start the GUI (bundle, session, local HTTP server); the caller decides when to stop it. */
export async function startGui(s: GuiCommandSettings, log = createLogger({ level: s.logLevel, fd: 2 })): Promise<RunningGui> {
  await ensureBundle();
  const session = new GuiSession({ settings: s, clock: systemClock, logger: log });
  const http = new GuiHttpServer({ session, port: s.port, logger: log });
  const url = await http.listen();
  if (s.joinTarget !== undefined) session.join({ target: s.joinTarget, create: false });
  return {
    url,
    session,
    close: async () => {
      await session.close();
      await http.close();
    },
  };
}

/**
 * Open `url` in the desktop's browser (xdg-open, open, start), quietly: no browser, no display or no such
 * program is not an error — the URL is printed anyway.
 */
export function openBrowser(url: string): void {
  const cmd = process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'cmd' : 'xdg-open';
  const args = process.platform === 'win32' ? ['/c', 'start', '', url] : [url];
  if (cmd === 'xdg-open' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) return;
  try {
    const child = spawn(cmd, args, { stdio: 'ignore', detached: true });
    child.on('error', () => undefined);
    child.unref();
  } catch {
    // No opener: the printed URL is enough.
  }
}

export async function runGui(argv: string[], out: NodeJS.WritableStream = process.stdout): Promise<number> {
  const s = parseGuiArgs(argv);
  const gui = await startGui(s);
  out.write(`sipmeet GUI: ${gui.url}\n  server ${s.server.host}:${s.server.port} (API ${s.api}), name "${s.name}"${s.joinTarget ? `, joining ${s.joinTarget}` : ''}\n  Ctrl-C to quit\n`);
  if (s.open) openBrowser(gui.url);
  await untilSignal();
  await gui.close();
  return 0;
}
