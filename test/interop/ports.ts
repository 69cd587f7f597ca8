/**
 * Free ports for real peers. linphonec and baresip need their SIP and RTP ports written into their config files, so
 * the OS cannot pick them at bind time: we pick a random block below the ephemeral range (so the OS never hands the
 * same ports to someone else meanwhile), check that every port in it binds now on 127.0.0.1 (UDP, and TCP where the
 * program also listens on TCP), and never hand out a block twice in this process.
 */
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';

const handedOut = new Set<number>();
const LOW = 20000;
const HIGH = 32000; // Linux's default ephemeral range starts at 32768

function udpFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    s.once('error', () => {
      s.close();
      resolve(false);
    });
    s.bind(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

function tcpFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/** `count` consecutive ports starting at an even port, all free now (UDP; TCP too with `tcp`). */
export async function freePortBlock(count: number, opts: { tcp?: boolean } = {}): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const base = LOW + 2 * Math.floor((Math.random() * (HIGH - LOW - count)) / 2);
    let ok = true;
    for (let p = base; p < base + count && ok; p++) {
      if (handedOut.has(p) || !(await udpFree(p)) || (opts.tcp && !(await tcpFree(p)))) ok = false;
    }
    if (!ok) continue;
    for (let p = base; p < base + count; p++) handedOut.add(p);
    return base;
  }
  throw new Error(`no block of ${count} free ports found in ${LOW}-${HIGH}`);
}
