/**
 * sdp/: SDP (RFC 4566) parsing and writing, and sipmeet's own RFC 3264 offer/answer.
 *
 *   parseSdp(text)                  → Result<SessionDescription>          session.ts
 *   writeSdp(session)               → string (CRLF)                       write.ts
 *   answerOffer(offer, policy)      → answer + per-m-line outcome | 488   negotiate.ts
 *   createOffer(init)               → SessionDescription                  offer.ts
 *   processAnswer(offer, answer)    → Result<per-m-line outcome>          offer.ts
 *   createOrigin / nextVersion      → the o= line of a dialog             origin.ts
 */
export * from './model.ts';
export { MAX_SDP_LENGTH, parseSdp } from './session.ts';
export { formatMediaLine, formatOrigin, writeSdp } from './write.ts';
export { addressTypeOf, createOrigin, nextVersion } from './origin.ts';
export {
  answerFmtp,
  type CodecSpec,
  DEFAULT_CODECS,
  fmtpCompatible,
  G722,
  H264_MODE0,
  H264_MODE1,
  isSecondary,
  isTelephoneEvent,
  OPUS,
  PCMA,
  PCMU,
  sameCodec,
  STATIC_PAYLOAD_TYPES,
  staticPayloadTypeFor,
  staticRtpmap,
  TELEPHONE_EVENT,
  VP8,
} from './codecs.ts';
export { h264Compatible, parseH264Config, type H264Config, type H264Profile } from './h264.ts';
export { parseFmtpParams } from './fmtp.ts';
export { answerDirection, answerDirectionAllowed, offererDirection } from './direction.ts';
export type { AcceptedMedia, NegotiatedCodec, NegotiatedMedia, RejectedMedia, TransportAddress } from './negotiated.ts';
export {
  type AnswerPolicy,
  type AnswerResult,
  answerOffer,
  DEFAULT_MEDIA_POLICY,
  type MediaPolicy,
  type PortAllocator,
} from './negotiate.ts';
export { createOffer, type OfferedMedia, type OfferInit, processAnswer } from './offer.ts';
export { disabledMedia } from './describe.ts';
export {
  answerAudioLevel,
  answerAudioLevelFor,
  type AnsweredLevel,
  answeredAudioLevel,
  answeredToReceiveAudioLevel,
  AUDIO_LEVEL_URI,
  type Extmap,
  extmapsOf,
  OFFERED_AUDIO_LEVEL,
  offeredAudioLevel,
  offeredToReceiveAudioLevel,
  SENDING_AUDIO_LEVEL,
} from './extmap.ts';
