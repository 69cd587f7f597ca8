/**
 * RFC 5626 §4.4.2 / §8.4 keep-alive on UDP: a UA using SIP Outbound sends STUN Binding requests (RFC 5389) to the
 * SIP port of its edge proxy / registrar and expects a Binding success response with its XOR-MAPPED-ADDRESS.
 *
 * The STUN server shares the SIP port (RFC 5626 §8.4, STUN keep-alive processing). Demultiplexing (RFC 5389 §6,
 * RFC 7983): a STUN message starts with two zero bits and carries the magic cookie 0x2112A442 at bytes 4..7; a SIP
 * message starts with a letter (or CR/LF).
 *
 * Only the Binding method is answered, with XOR-MAPPED-ADDRESS alone: no authentication, no FINGERPRINT
 * (a keep-alive needs neither). Other STUN messages are dropped.
 */
import { isIPv4 } from 'node:net';
import { ipv6Bytes } from './address.ts';

export const STUN_MAGIC_COOKIE = 0x2112a442;
const BINDING_REQUEST = 0x0001;
const BINDING_SUCCESS = 0x0101;
const ATTR_XOR_MAPPED_ADDRESS = 0x0020;
const HEADER = 20;

/** Whether a datagram looks like a STUN message (RFC 5389 §6: top two bits zero, magic cookie, length multiple of 4). */
export function isStun(buf: Buffer): boolean {
  return (
    buf.length >= HEADER &&
    (buf[0]! & 0xc0) === 0 &&
    buf.readUInt32BE(4) === STUN_MAGIC_COOKIE &&
    buf.readUInt16BE(2) === buf.length - HEADER &&
    (buf.length & 3) === 0
  );
}

/**
 * The Binding success response to a Binding request from `address`:`port`, or undefined when `req` is not a
 * Binding request (other STUN messages are dropped).
 */
export function stunBindingResponse(req: Buffer, address: string, port: number): Buffer | undefined {
  if (!isStun(req) || req.readUInt16BE(0) !== BINDING_REQUEST) return undefined;
  const v4 = isIPv4(address);
  const addr = v4 ? Buffer.from(address.split('.').map(Number)) : ipv6Bytes(address);
  if (!addr) return undefined;
  // RFC 5389 §15.2 XOR-MAPPED-ADDRESS: family, port ^ cookie>>16, address ^ (cookie || transaction id).
  const attrLen = 4 + addr.length;
  const out = Buffer.alloc(HEADER + 4 + attrLen);
  out.writeUInt16BE(BINDING_SUCCESS, 0);
  out.writeUInt16BE(4 + attrLen, 2);
  out.writeUInt32BE(STUN_MAGIC_COOKIE, 4);
  req.copy(out, 8, 8, HEADER); // transaction id
  out.writeUInt16BE(ATTR_XOR_MAPPED_ADDRESS, HEADER);
  out.writeUInt16BE(attrLen, HEADER + 2);
  out[HEADER + 4] = 0;
  out[HEADER + 5] = v4 ? 0x01 : 0x02;
  out.writeUInt16BE(port ^ (STUN_MAGIC_COOKIE >>> 16), HEADER + 6);
  // The XOR key is the magic cookie followed by the transaction id: exactly bytes 4..19 of the header.
  for (let i = 0; i < addr.length; i++) out[HEADER + 8 + i] = addr[i]! ^ out[4 + i]!;
  return out;
}
