/**
 * The SIP message layer's public API (RFC 3261 §7, §19, §20, §25).
 */
export type * from './types.ts';
export { parseMessage, parserStats, type ParseOptions } from './parse.ts';
export { parseUri, formatUri, uriEquals } from './uri.ts';
export { parseNameAddr, parseNameAddrList } from './name-addr.ts';
export { parseVia, parseViaList } from './via.ts';
export { parseCSeq } from './cseq.ts';
export { canonicalName, isListHeader, splitTopLevelCommas, wireName } from './headers.ts';
export { createRequest, createResponse, defaultReason, newBranch, newCallId, newTag } from './build.ts';
export { serialize, serializeHead } from './serialize.ts';
export { frameLength, keepaliveLength, type FrameResult } from './framing.ts';
