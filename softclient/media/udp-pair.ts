/**
 * An RTP/RTCP socket pair. RFC 3550 §11: "For UDP and similar protocols, RTP SHOULD use an even destination port
 * number and the corresponding RTCP stream SHOULD use the next higher (odd) destination port number" — and the
 * focus, like any RFC 3264 §5.1 peer, sends RTCP to our RTP port + 1 unless told otherwise.
 * The OS picks the RTP port (port 0); we keep it when it is even and port + 1 is free, else try again.
 */
import { createSocket, type Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';

export interface UdpPair {
  readonly rtp: Socket;
  readonly rtcp: Socket;
  readonly address: string;
  readonly rtpPort: number;
  readonly rtcpPort: number;
  close(): void;
}

const TRIES = 50;

function bind(address: string, port: number): Promise<Socket | undefined> {
  return new Promise((resolve) => {
    const s = createSocket({ type: isIPv6(address) ? 'udp6' : 'udp4' });
    const onError = () => {
      s.close();
      resolve(undefined);
    };
    s.once('error', onError);
    s.bind(port, address, () => {
      s.off('error', onError);
      resolve(s);
    });
  });
}

/** Bind an even RTP port and the odd RTCP port above it on `address`. Throws when none is found (resource error). */
export async function bindUdpPair(address: string): Promise<UdpPair> {
  for (let i = 0; i < TRIES; i++) {
    const rtp = await bind(address, 0);
    if (!rtp) break;
    const port = rtp.address().port;
    if (port % 2 !== 0 || port === 65535) {
      rtp.close();
      continue;
    }
    const rtcp = await bind(address, port + 1);
    if (!rtcp) {
      rtp.close();
      continue;
    }
    return {
      rtp,
      rtcp,
      address,
      rtpPort: port,
      rtcpPort: port + 1,
      close() {
        for (const s of [rtp, rtcp]) {
          try {
            s.close();
          } catch {
            // already closed
          }
        }
      },
    };
  }
  throw new Error(`cannot bind an RTP/RTCP port pair on ${address}`);
}
