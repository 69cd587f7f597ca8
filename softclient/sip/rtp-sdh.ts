/**
 * sip.js SessionDescriptionHandler for plain RTP (RTP/AVP): no WebRTC, no ICE, no DTLS. It only turns sip.js's
 * offer/answer calls into MediaSession calls; the media itself runs in our RTP streams.
 *
 * sip.js call order (RFC 3264 roles):
 *   we offer  (INVITE, our re-INVITE):        getDescription() → offer ... setDescription(answer)
 *   we answer (the focus's re-INVITE w/ SDP): setDescription(offer) → getDescription() → answer
 *   offer-less re-INVITE from the focus:      getDescription() → offer (in our 2xx) ... setDescription(answer in ACK)
 * So setDescription() is an answer exactly when one of our offers is outstanding.
 */
import type { BodyAndContentType, SessionDescriptionHandler, SessionDescriptionHandlerFactory } from 'sip.js';
import type { MediaSession } from '../media/media-session.ts';

export const SDP = 'application/sdp';

export class RtpSessionDescriptionHandler implements SessionDescriptionHandler {
  private remoteOffer: string | undefined;
  private closed = false;

  constructor(
    private readonly media: MediaSession,
    /** Called once when sip.js closes the handler (the session ended). */
    private readonly onClose: () => void,
  ) {}

  async getDescription(): Promise<BodyAndContentType> {
    if (this.closed) throw new Error('session description handler closed');
    if (this.remoteOffer !== undefined) {
      const offer = this.remoteOffer;
      this.remoteOffer = undefined;
      const r = await this.media.answer(offer);
      // sip.js answers 488 when this rejects (RFC 3264 §6: no acceptable media).
      if (!r.ok) throw new Error(r.error);
      return { body: r.value, contentType: SDP };
    }
    return { body: this.media.createOffer(), contentType: SDP };
  }

  hasDescription(contentType: string): boolean {
    return contentType.split(';')[0]!.trim().toLowerCase() === SDP;
  }

  async setDescription(sdp: string): Promise<void> {
    if (this.closed) throw new Error('session description handler closed');
    if (this.media.awaitingAnswer) {
      const r = this.media.applyAnswer(sdp);
      if (!r.ok) throw new Error(r.error);
      return;
    }
    this.remoteOffer = sdp;
  }

  async rollbackDescription(): Promise<void> {
    this.remoteOffer = undefined;
    this.media.rollback();
  }

  /** Deviation: RFC 4733 DTMF is not sent by the client (sip.js asks here for INFO-less DTMF). */
  sendDtmf(): boolean {
    return false;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.onClose();
  }
}

/** A factory handing sip.js the one handler of our one session. */
export function rtpSdhFactory(media: MediaSession, onClose: () => void): SessionDescriptionHandlerFactory {
  return () => new RtpSessionDescriptionHandler(media, onClose);
}
