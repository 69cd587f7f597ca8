/**
 * The three-party meeting the Linphone interop tests share: a scripted phone (the creator, authenticated, PCMU,
 * 500 Hz), Linphone (registered with digest auth, 770 Hz) and baresip (unregistered, 1130 Hz) in one meeting of a
 * fresh server. Tones are chosen so that no tone or its 2nd/3rd harmonic lands on another.
 */
import { join } from 'node:path';
import { withScene, type InteropServer } from './harness.ts';
import { Linphone, type LinphoneCodecs } from './peers/linphone.ts';
import { Baresip, type BaresipCodec } from './peers/baresip.ts';
import { ScriptedPhone } from './peers/scripted.ts';
import { writeNoiseWav, writeToneWav } from './wav.ts';

export const TONE = { scripted: 500, linphone: 770, baresip: 1130 } as const;

export const USERS = { carol: 'carol-secret', alice: 'alice-secret', bob: 'bob-secret' } as const;

export interface Meeting {
  readonly srv: InteropServer;
  readonly id: string;
  readonly uri: string;
  readonly carol: ScriptedPhone;
  readonly linphone: Linphone;
  readonly baresip: Baresip;
  /** Where Linphone writes what it hears. */
  readonly linphoneRec: string;
  /** performance.now() when baresip's call was up (its recording starts then). */
  readonly baresipJoinedAt: number;
}

/**
 * Start a server and the three peers, all in meeting `id`; run `body`; on failure print the traces and tails; stop
 * everything. Linphone offers `linphoneCodecs`; baresip offers `baresipCodecs`.
 */
export async function withMeeting(
  opts: {
    id: string;
    linphoneCodecs: LinphoneCodecs;
    baresipCodecs?: readonly BaresipCodec[];
    linphoneDelayedOffer?: boolean;
    /** What Linphone's microphone plays: its tone (default), or an open microphone in a quiet room (−60 dBFS noise). */
    linphoneSource?: 'tone' | 'quiet-room';
  },
  body: (m: Meeting) => Promise<void>,
): Promise<void> {
  await withScene(USERS, async ({ srv, scene, dir }) => {
    const uri = srv.meetingUri(opts.id);
    // The creator: its INVITE to an unknown meeting URI creates the meeting and is challenged (digest auth on).
    const carol = scene.add(await ScriptedPhone.open({ user: 'carol', displayName: 'Carol', password: USERS.carol, server: srv.address, toneHz: TONE.scripted }));
    const res = await carol.join(uri);
    if (res.status !== 200) throw new Error(`the creator's INVITE got ${res.status} ${res.reason}`);

    const rate = opts.linphoneCodecs === 'pcmu' ? 8000 : 48000;
    const linphoneTone =
      opts.linphoneSource === 'quiet-room'
        ? writeNoiseWav(join(dir, 'linphone-quiet.wav'), { sampleRate: rate, seconds: 30, rms: 33 })
        : writeToneWav(join(dir, 'linphone-tone.wav'), { freq: TONE.linphone, sampleRate: rate, seconds: 10 });
    const linphoneRec = join(dir, 'linphone-rx.wav');
    const linphone = await Linphone.start({ user: 'alice', displayName: 'Alice', password: USERS.alice, server: srv.address, codecs: opts.linphoneCodecs, delayedOffer: opts.linphoneDelayedOffer ?? false, onSpawn: (p) => scene.add(p) });
    linphone.play(linphoneTone);
    linphone.record(linphoneRec);
    await linphone.call(uri);

    // aufile plays its file once: make it far longer than the test.
    const baresipTone = writeToneWav(join(dir, 'baresip-tone.wav'), { freq: TONE.baresip, sampleRate: 8000, seconds: 90 });
    const baresip = await Baresip.start({
      user: 'bob',
      displayName: 'Bob',
      server: srv.address,
      toneWav: baresipTone,
      toneRate: 8000,
      contacts: [uri],
      ...(opts.baresipCodecs ? { codecs: opts.baresipCodecs } : {}),
      onSpawn: (p) => scene.add(p),
    });
    await baresip.dial(uri);
    await body({ srv, id: opts.id, uri, carol, linphone, baresip, linphoneRec, baresipJoinedAt: performance.now() });
  });
}
