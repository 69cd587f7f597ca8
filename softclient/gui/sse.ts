/**
 * Server-Sent Events (WHATWG HTML §9.2) toward the page: `event: NAME\ndata: JSON\n\n` on a long-lived
 * `text/event-stream` response. One hub per GUI process; every connected page gets every event.
 */
import type { ServerResponse } from 'node:http';
import type { GuiEvents } from './protocol.ts';

/** Comment lines keep idle connections (and proxies) from timing out. */
const KEEPALIVE_MS = 15_000;

export class EventHub {
  private readonly clients = new Set<ServerResponse>();
  private keepalive: NodeJS.Timeout | undefined;

  get size(): number {
    return this.clients.size;
  }

  /** Take over `res` as an event stream; `first` events are sent to it alone (the current state). */
  attach(res: ServerResponse, first: ReadonlyArray<{ [K in keyof GuiEvents]: [K, GuiEvents[K]] }[keyof GuiEvents]>, onClose: () => void): void {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-content-type-options': 'nosniff',
    });
    // §9.2.6: the retry field sets the reconnection time the browser uses when the stream drops.
    res.write('retry: 1000\n\n');
    for (const [name, data] of first) res.write(frame(name, data));
    this.clients.add(res);
    res.on('close', () => {
      this.clients.delete(res);
      onClose();
    });
    this.keepalive ??= setInterval(() => {
      for (const c of this.clients) c.write(': keepalive\n\n');
    }, KEEPALIVE_MS).unref();
  }

  send<K extends keyof GuiEvents>(name: K, data: GuiEvents[K]): void {
    const text = frame(name, data);
    for (const c of this.clients) c.write(text);
  }

  close(): void {
    if (this.keepalive) clearInterval(this.keepalive);
    for (const c of this.clients) c.end();
    this.clients.clear();
  }
}

function frame(name: string, data: unknown): string {
  // JSON has no raw newlines, so one data: line carries it.
  return `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;
}
