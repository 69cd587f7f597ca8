/**
 * A stand-in for the media relay in signalling tests: it hands out endpoints and records what the focus told it,
 * so a test can check the focus's side of the focus ↔ relay contract (media flow is tested with the real relay).
 */
import type {
  AllocateEndpointRequest, Direction, EndpointAllocation, MediaRelayApi, MeetingMediaStats, RelayEvent, RemoteDescription,
} from '../../media-relay/api.ts';
import { RelayError } from '../../media-relay/api.ts';

export interface RecordedEndpoint {
  req: AllocateEndpointRequest;
  alloc: EndpointAllocation;
  remote?: RemoteDescription;
  direction?: Direction;
  released: boolean;
}

export class RelayDouble implements MediaRelayApi {
  readonly endpoints = new Map<string, RecordedEndpoint>();
  private n = 0;
  private handler: ((ev: RelayEvent) => void) | undefined;
  /** When set, allocation fails as a relay out of ports does. */
  exhausted = false;

  async allocateEndpoint(req: AllocateEndpointRequest): Promise<EndpointAllocation> {
    if (this.exhausted) throw new RelayError('no-ports', 'no ports left');
    const i = this.n++;
    const alloc = { endpointId: `ep${i}`, address: '127.0.0.1', rtpPort: 40000 + 2 * i, rtcpPort: req.rtcpMux ? 40000 + 2 * i : 40001 + 2 * i };
    this.endpoints.set(alloc.endpointId, { req, alloc, released: false });
    return alloc;
  }
  async setRemote(endpointId: string, remote: RemoteDescription): Promise<void> {
    const e = this.endpoints.get(endpointId);
    if (!e) throw new RelayError('unknown-endpoint', endpointId);
    e.remote = remote;
  }
  async setDirection(endpointId: string, direction: Direction): Promise<void> {
    const e = this.endpoints.get(endpointId);
    if (e) e.direction = direction;
  }
  async releaseEndpoint(endpointId: string): Promise<void> {
    const e = this.endpoints.get(endpointId);
    if (e) e.released = true;
  }
  async releaseMeeting(meetingId: string): Promise<void> {
    for (const e of this.endpoints.values()) if (e.req.meetingId === meetingId) e.released = true;
  }
  async stats(meetingId: string): Promise<MeetingMediaStats> {
    return { meetingId, streams: [], packetsIn: 0, packetsOut: 0 };
  }
  async mediaTotals() {
    return { packetsIn: 0, packetsOut: 0, dropped: 0 };
  }
  onEvent(handler: (ev: RelayEvent) => void): void {
    this.handler = handler;
  }
  emit(ev: RelayEvent): void {
    this.handler?.(ev);
  }
  async close(): Promise<void> {}

  live(meetingId: string): RecordedEndpoint[] {
    return [...this.endpoints.values()].filter((e) => e.req.meetingId === meetingId && !e.released);
  }
}
