import type { Logger } from '../log.ts';
import type { Clock } from '../sip/clock.ts';
import type { DialogLayer } from '../sip/dialog/dialog-layer.ts';
import type { Meeting } from './meeting.ts';
import type { Participant } from './participant.ts';

export interface ProbeContext {
  dialogs: DialogLayer;
  clock: Clock;
  log: Logger;
  intervalMs: number;
}

/**
 * Liveness: an in-dialog OPTIONS every probeIntervalMs; a 408 (no answer, Timer F) or 481 (the phone forgot the
 * call) means the participant is gone without a BYE: it is removed as if it had hung up. Media silence is caught
 * sooner by the relay's media timeout.
 * Deviation: RFC 4028 session timers are not negotiated; this probe does their job for peers that ignore them.
 */
export function scheduleProbe(ctx: ProbeContext, meeting: Meeting, p: Participant, leave: (why: string) => void): void {
  if (ctx.intervalMs <= 0) return;
  p.probeTimer = ctx.clock.setTimer(ctx.intervalMs, () => {
    if (p.state !== 'connected' || !p.dialog || p.dialog.state === 'terminated') return;
    ctx.dialogs
      .request(p.dialog, 'OPTIONS')
      .then((res) => {
        if (res.status === 408 || res.status === 481) {
          ctx.log.info({ meeting: meeting.id, participant: p.id, status: res.status }, 'liveness probe failed: removing participant');
          leave('probe-failed');
        } else {
          scheduleProbe(ctx, meeting, p, leave);
        }
      })
      .catch(() => leave('probe-failed'));
  });
}
