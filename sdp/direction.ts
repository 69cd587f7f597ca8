/**
 * Direction algebra of RFC 3264 §6.1, written once and used by both sides of an exchange.
 *
 * RFC 3264 §6.1: "If a stream is offered as sendonly, the corresponding stream MUST be marked as recvonly or
 * inactive in the answer. If a media stream is listed as recvonly in the offer, the answer MUST be marked as
 * sendonly or inactive in the answer. If an offered media stream is listed as sendrecv (or if there is no
 * direction attribute at the media or session level, in which case the stream is sendrecv by default), the
 * corresponding stream in the answer MAY be marked as sendonly, recvonly, sendrecv, or inactive. If an
 * offered media stream is listed as inactive, it MUST be marked as inactive in the answer."
 *
 * All of which is: the answerer may send only if the offerer receives, and receive only if the offerer sends.
 */
import type { Direction } from './model.ts';

export function sends(d: Direction): boolean {
  return d === 'sendrecv' || d === 'sendonly';
}

export function receives(d: Direction): boolean {
  return d === 'sendrecv' || d === 'recvonly';
}

export function directionOf(send: boolean, receive: boolean): Direction {
  if (send) return receive ? 'sendrecv' : 'sendonly';
  return receive ? 'recvonly' : 'inactive';
}

/**
 * The answer's direction for an offered one, given what the answerer wants (its policy for a sendrecv offer):
 * sendonly → recvonly, recvonly → sendonly, inactive → inactive, sendrecv → `wanted`.
 */
export function answerDirection(offered: Direction, wanted: Direction): Direction {
  return directionOf(receives(offered) && sends(wanted), sends(offered) && receives(wanted));
}

/** Whether an answer's direction is legal for the offered one (RFC 3264 §6.1, above). */
export function answerDirectionAllowed(offered: Direction, answered: Direction): boolean {
  return (!sends(answered) || receives(offered)) && (!receives(answered) || sends(offered));
}

/** What the offerer does once the answer is in: it sends if it offered to and the answerer receives. */
export function offererDirection(offered: Direction, answered: Direction): Direction {
  return directionOf(sends(offered) && receives(answered), receives(offered) && sends(answered));
}
