/**
 * AudioDriver over the shared `AudioWorkerHost` (media-relay/audio/worker-host.ts): one host per relay, one driver
 * per meeting; the host's frames / active-speaker / DTMF callbacks are routed back to the meeting by its id.
 */
import type { AudioWorkerHost } from '../audio/worker-host.ts';
import type { AudioDriverEvents, AudioDriverFactory } from './driver.ts';

export function hostDriverFactory(host: AudioWorkerHost): AudioDriverFactory {
  const meetings = new Map<string, AudioDriverEvents>();
  host.onFrames((meetingId, frames, tick, nowMs) => meetings.get(meetingId)?.frames(frames, tick, nowMs));
  host.onActiveSpeaker((meetingId, participantId) => meetings.get(meetingId)?.activeSpeaker(participantId));
  host.onDtmf((meetingId, participantId, digit) => meetings.get(meetingId)?.dtmf(participantId, digit));
  return (meetingId, events) => {
    meetings.set(meetingId, events);
    return {
      addLeg: (leg) => host.addLeg(meetingId, leg),
      updateLeg: (leg) => host.updateLeg(meetingId, leg),
      removeLeg: (participantId) => host.removeLeg(meetingId, participantId),
      // The host copies what it keeps (the worker lanes' shared packet ring; the inline lane's 'push' command).
      push: (participantId, pkt, nowMs) => host.push(meetingId, participantId, pkt, nowMs),
      close: () => {
        if (meetings.get(meetingId) === events) meetings.delete(meetingId);
        host.removeMeeting(meetingId);
      },
    };
  };
}
