/**
 * RFC 6184 depacketization into an Annex B byte stream: single NAL unit packets (§5.6), STAP-A (§5.7.1), FU-A
 * (§5.8), access units closed by the marker (§5.1) or a new timestamp, losses answered by waiting for an IDR
 * picture, out-of-band SPS/PPS (§8.1 sprop-parameter-sets) put before the first IDR; and a real ffmpeg H.264
 * stream, packetized in mode 1 and mode 0, comes out as a file ffprobe decodes frame by frame.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { AnnexBWriter } from '../../softclient/media/annexb-writer.ts';
import { H264Depacketizer, parseSpropParameterSets } from '../../softclient/media/h264-depacketizer.ts';
import { tempDir } from './helpers.ts';

const run = promisify(execFile);
const SC = [0, 0, 0, 1];
const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const bytes = (u: Uint8Array) => [...u];

// NAL units (§5.3 header F|NRI|Type): SPS 0x67 (NRI 3, type 7), PPS 0x68 (type 8), IDR slice 0x65 (type 5),
// non-IDR slice 0x41 (NRI 2, type 1).
const SPS = hex('67 42 e0 1f da 02 80 f6 c0 44');
const PPS = hex('68 ce 3c 80');
const IDR = hex('65 88 84 00 33 ff');
const SLICE = hex('41 9a 02 04');

test('single NAL unit packets (§5.6) of one timestamp form one access unit, emitted at the marker', () => {
  const d = new H264Depacketizer();
  assert.deepEqual(d.push(10, 3000, false, SPS).units, []);
  assert.deepEqual(d.push(11, 3000, false, PPS).units, []);
  const r = d.push(12, 3000, true, IDR);
  assert.equal(r.units.length, 1);
  const u = r.units[0]!;
  assert.equal(u.keyframe, true);
  assert.equal(u.timestamp, 3000);
  assert.deepEqual(bytes(u.data), [...SC, ...SPS, ...SC, ...PPS, ...SC, ...IDR]);
  const p = d.push(13, 6000, true, SLICE);
  assert.deepEqual(p.units.map((x) => [x.keyframe, bytes(x.data)]), [[false, [...SC, ...SLICE]]]);
  assert.equal(p.needKeyframe, undefined);
});

test('STAP-A (§5.7.1, RFC Figure 7 layout): NALU sizes in network order, each unit behind a start code', () => {
  // STAP-A NAL HDR 0x78 (F 0, NRI 3, type 24) | size 0x000a | SPS | size 0x0004 | PPS | size 0x0006 | IDR
  const stap = hex(`78 000a ${Buffer.from(SPS).toString('hex')} 0004 ${Buffer.from(PPS).toString('hex')} 0006 ${Buffer.from(IDR).toString('hex')}`);
  const d = new H264Depacketizer();
  const r = d.push(1, 90000, true, stap);
  assert.deepEqual(bytes(r.units[0]!.data), [...SC, ...SPS, ...SC, ...PPS, ...SC, ...IDR]);
  assert.equal(r.units[0]!.keyframe, true);
  // A size running past the payload is malformed: dropped, counted, key frame asked for.
  const bad = d.push(2, 93000, true, hex('78 0010 41 9a'));
  assert.deepEqual([bad.units.length, bad.needKeyframe, d.malformed], [0, true, 1]);
});

test('FU-A (§5.8): fragments rebuilt into one NAL unit whose header is indicator F|NRI + FU header type', () => {
  const d = new H264Depacketizer();
  d.push(100, 500, false, SPS);
  d.push(101, 500, false, PPS);
  // FU indicator 0x7c (NRI 3, type 28); FU headers 0x85 (S, type 5), 0x05 (middle), 0x45 (E).
  assert.deepEqual(d.push(102, 500, false, hex('7c 85 88 84')).units, []);
  assert.deepEqual(d.push(103, 500, false, hex('7c 05 00 33')).units, []);
  const r = d.push(104, 500, true, hex('7c 45 ff'));
  assert.deepEqual(bytes(r.units[0]!.data), [...SC, ...SPS, ...SC, ...PPS, ...SC, ...IDR]);
  // S and E both set in one FU header is forbidden.
  assert.equal(d.push(105, 600, true, hex('7c c1 9a')).needKeyframe, true);
  assert.equal(d.malformed, 1);
});

test('a lost packet drops the access unit and later ones until an IDR picture, asking for a key frame', () => {
  const d = new H264Depacketizer();
  d.push(1, 0, true, IDR);
  // FU-A of a non-IDR slice with its middle fragment lost.
  d.push(2, 3000, false, hex('5c 81 9a'));
  const lost = d.push(4, 3000, true, hex('5c 41 04'));
  assert.equal(lost.needKeyframe, true);
  assert.deepEqual(lost.units, []);
  // The next P slice references the lost picture: dropped.
  const next = d.push(5, 6000, true, SLICE);
  assert.deepEqual([next.units.length, next.needKeyframe], [0, true]);
  const key = d.push(6, 9000, true, IDR);
  assert.deepEqual(key.units.map((u) => u.keyframe), [true]);
  assert.equal(d.framesDropped, 2);
  assert.equal(d.framesOut, 2);
});

test('a stream that starts without an IDR picture is held back (needKeyframe) until one comes', () => {
  const d = new H264Depacketizer();
  assert.equal(d.push(7, 0, true, SLICE).needKeyframe, true);
  assert.equal(d.push(8, 3000, true, IDR).units.length, 1);
});

test('a missed marker: the next timestamp closes the access unit (§5.1)', () => {
  const d = new H264Depacketizer();
  d.push(1, 0, false, IDR);
  const r = d.push(2, 3000, true, SLICE);
  assert.deepEqual(r.units.map((u) => [u.timestamp, u.keyframe]), [[0, true], [3000, false]]);
});

test('sprop-parameter-sets (§8.1) go before an IDR access unit without its own SPS', () => {
  const fmtp = `profile-level-id=42e01f;packetization-mode=1;sprop-parameter-sets=${Buffer.from(SPS).toString('base64')},${Buffer.from(PPS).toString('base64')}`;
  const sets = parseSpropParameterSets(fmtp);
  assert.deepEqual(sets.map(bytes), [bytes(SPS), bytes(PPS)]);
  const d = new H264Depacketizer({ spropParameterSets: sets });
  const r = d.push(1, 0, true, IDR);
  assert.deepEqual(bytes(r.units[0]!.data), [...SC, ...SPS, ...SC, ...PPS, ...SC, ...IDR]);
  assert.deepEqual(parseSpropParameterSets('packetization-mode=0'), []);
});

test('interleaved-mode structures (STAP-B 25, MTAP 26/27, FU-B 29) and F=1 are refused without throwing', () => {
  const d = new H264Depacketizer();
  [0x79, 0x7a, 0x7b, 0x7d].forEach((t, i) => assert.equal(d.push(200 + i, 0, true, Uint8Array.of(t, 0, 1, 2)).needKeyframe, true));
  assert.equal(d.unsupported, 4);
  assert.equal(d.push(204, 0, true, Uint8Array.of(0xe5, 1)).needKeyframe, true);
  assert.equal(d.push(205, 0, true, new Uint8Array()).needKeyframe, true);
});

/** Split an Annex B stream into NAL units. */
function nalUnits(buf: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let start = -1;
  for (let i = 0; i + 3 <= buf.length; i++) {
    if (buf[i] === 0 && buf[i + 1] === 0 && buf[i + 2] === 1) {
      if (start >= 0) out.push(buf.subarray(start, i > 0 && buf[i - 1] === 0 ? i - 1 : i));
      start = i + 3;
      i += 2;
    }
  }
  if (start >= 0) out.push(buf.subarray(start));
  return out;
}

/** RFC 6184 packetizer for the test: mode 0 single NAL units only; mode 1 STAP-A for small units, FU-A above 1000. */
function packetize(nals: Buffer[], mode: 0 | 1): Array<{ ts: number; marker: boolean; payload: Uint8Array }> {
  const out: Array<{ ts: number; marker: boolean; payload: Uint8Array }> = [];
  let ts = 0;
  let group: Buffer[] = [];
  const flushGroup = (marker: boolean) => {
    if (group.length === 1) out.push({ ts, marker, payload: group[0]! });
    else if (group.length > 1) {
      const parts: Buffer[] = [Buffer.from([0x78])];
      for (const n of group) parts.push(Buffer.from([n.length >> 8, n.length & 0xff]), n);
      out.push({ ts, marker, payload: Buffer.concat(parts) });
    }
    group = [];
  };
  for (const n of nals) {
    const type = n[0]! & 0x1f;
    const vcl = type >= 1 && type <= 5;
    if (mode === 0) {
      out.push({ ts, marker: vcl, payload: n });
    } else if (n.length <= 1000) {
      group.push(n);
      if (vcl) flushGroup(true);
    } else {
      flushGroup(false);
      for (let o = 1; o < n.length; o += 1000) {
        const s = o === 1 ? 0x80 : 0;
        const e = o + 1000 >= n.length ? 0x40 : 0;
        out.push({ ts, marker: vcl && e !== 0, payload: Buffer.concat([Buffer.from([(n[0]! & 0xe0) | 28, s | e | type]), n.subarray(o, o + 1000)]) });
      }
    }
    if (vcl) ts += 6000; // one slice per picture with these x264 settings
  }
  return out;
}

for (const mode of [1, 0] as const) {
  test(`ffmpeg's H.264 packetized in mode ${mode}, depacketized to a .h264 file: ffprobe decodes every frame`, async () => {
    const dir = tempDir();
    const src = join(dir, 'src.h264');
    await run('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=15', '-frames:v', '30', '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-profile:v', 'baseline', '-x264-params', 'keyint=15:slices=1', '-bsf:v', 'h264_mp4toannexb', '-f', 'h264', src]);
    const d = new H264Depacketizer();
    const w = new AnnexBWriter(join(dir, 'out.h264'));
    let seq = 65530; // wraps
    for (const p of packetize(nalUnits(readFileSync(src)), mode)) {
      for (const u of d.push(seq, p.ts, p.marker, p.payload).units) w.write(u.data);
      seq = (seq + 1) & 0xffff;
    }
    w.close();
    assert.equal(d.malformed + d.framesDropped, 0);
    const { stdout } = await run('ffprobe', ['-v', 'error', '-count_frames', '-select_streams', 'v:0', '-show_entries', 'stream=codec_name,width,height,nb_read_frames', '-of', 'json', w.path]);
    const s = (JSON.parse(stdout) as { streams: Array<{ codec_name: string; width: number; height: number; nb_read_frames: string }> }).streams[0]!;
    assert.deepEqual([s.codec_name, s.width, s.height, Number(s.nb_read_frames)], ['h264', 320, 240, 30]);
  });
}
