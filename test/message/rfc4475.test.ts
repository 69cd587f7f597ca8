/**
 * RFC 4475 SIP torture messages: the parse-level outcome of every one of the 49 messages.
 *
 * Outcomes (what the UAS/registrar will answer is in manifest.json `expect`):
 *  - `accept`, and messages the UAS core rejects later (501, 416, 420, 415, 406, the registrar's 400 for a
 *    non-SIP AoR) → parse ok, with the fields the core needs checked;
 *  - `reject:400` → ok:false WITH an answerable `request` and a reason naming the problem;
 *  - `reject:505` → ok:false, status 505, with `request`;
 *  - `ignore` (responses) → parsed or refused, never thrown;
 *  - `a|b` choices → decisions.json.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  createResponse,
  parseMessage,
  parserStats,
  serialize,
  type ParseResult,
  type SipRequest,
} from '../../registrar/sip/message/index.ts';

const dir = new URL('../vectors/rfc4475/', import.meta.url);
interface Entry {
  tag: string;
  kind: 'request' | 'response';
  expect: string;
}
const manifest: Entry[] = JSON.parse(readFileSync(new URL('manifest.json', dir), 'utf8'));
const decisions: Record<string, { decision: string; why: string }> = JSON.parse(
  readFileSync(new URL('decisions.json', dir), 'utf8'),
);
const load = (tag: string): Buffer => readFileSync(new URL(`${tag}.sip`, dir));

function parse(tag: string): ParseResult {
  const before = parserStats.unexpectedThrows;
  const r = parseMessage(load(tag));
  assert.equal(parserStats.unexpectedThrows, before, `${tag}: parser threw internally`);
  return r;
}

function ok(tag: string): SipRequest {
  const r = parse(tag);
  assert.ok(r.ok, `${tag}: expected ok, got ${r.ok ? '' : r.error}`);
  assert.equal(r.message.kind, 'request');
  return r.message as SipRequest;
}

/** Valid messages that the UAS core (not the parser) answers with an error. */
const UAS_CORE_REJECTS = new Set(['intmeth', 'esc02', 'unkscm', 'novelsc', 'unksm2', 'bext01', 'invut', 'sdp01']);

/** What the reason phrase must name for each message the parser rejects. */
const REASON: Record<string, RegExp> = {
  badinv01: /Via/,
  clerr: /Content-Length larger than body/,
  ncl: /Content-Length/,
  scalar02: /CSeq/,
  quotbal: /To header/,
  ltgtruri: /Request-URI/,
  lwsruri: /Request-Line/,
  escruri: /Request-URI/,
  regbadct: /Contact/,
  baddn: /From header/,
  mismatch01: /CSeq method does not match/,
  mismatch02: /CSeq method does not match/,
  badbranch: /branch/,
  insuf: /Missing (From|To|Call-ID) header/,
  multi01: /Duplicate/,
  mcl01: /Content-Length/,
};

test('the vectors are the 49 RFC 4475 messages and every a|b choice has a recorded decision', () => {
  assert.equal(manifest.length, 49);
  for (const m of manifest) {
    if (!m.expect.includes('|')) continue;
    if (UAS_CORE_REJECTS.has(m.tag) || m.tag === 'regaut01') continue;
    const d = decisions[m.tag];
    assert.ok(d, `${m.tag}: no decision recorded`);
    assert.ok(m.expect.split('|').includes(d.decision), `${m.tag}: decision ${d.decision} not allowed by ${m.expect}`);
  }
});

for (const m of manifest) {
  test(`RFC 4475 ${m.tag} (${m.expect})`, () => {
    const r = parse(m.tag);
    const expect = decisions[m.tag]?.decision ?? m.expect;
    if (m.expect === 'ignore') {
      // A response: whatever the outcome, nothing to answer.
      if (r.ok) assert.equal(r.message.kind, 'response');
      else assert.equal(r.request, undefined);
      return;
    }
    if (expect === 'reject:505') {
      assert.equal(r.ok, false);
      if (r.ok) return;
      assert.equal(r.status, 505);
      assert.ok(r.request, 'a 505 must be answerable');
      return;
    }
    if (expect === 'reject:400' && !UAS_CORE_REJECTS.has(m.tag)) {
      assert.equal(r.ok, false, `${m.tag} must be rejected by the parser`);
      if (r.ok) return;
      assert.equal(r.status ?? 400, 400);
      assert.ok(r.request, `${m.tag}: a 400 needs an answerable request`);
      assert.match(r.error, REASON[m.tag]!, `${m.tag}: reason '${r.error}'`);
      // The 400 can be built and written, reusing the request's Via/CSeq text.
      const wire = serialize(createResponse(r.request, 400, r.error)).toString('utf8');
      assert.ok(wire.startsWith(`SIP/2.0 400 ${r.error}\r\n`));
      assert.ok(wire.includes(`\r\nVia: ${r.request.headers.find((h) => h.name === 'via')!.value}\r\n`));
      return;
    }
    // accept, accept|reject:401, and the UAS-core rejections: the parser accepts.
    assert.ok(r.ok, `${m.tag}: expected ok, got ${r.ok ? '' : r.error}`);
  });
}

test('intmeth: exotic method token, user/password with reserved chars, quoted-pairs with controls, UTF-8 param', () => {
  const req = ok('intmeth');
  assert.equal(req.method, "!interesting-Method0123456789_*+`.%indeed'~");
  assert.equal(req.cseq.method, req.method);
  assert.equal(req.uri.user, "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*");
  assert.equal(req.uri.password, "&it+has=1,weird!*pas$wo~d_too.(doesn't-it)");
  assert.equal(req.uri.host, 'example.com');
  assert.equal(req.to.displayName, 'BEL:\x07 NUL:\x00 DEL:\x7f');
  assert.equal(req.from.displayName, "token1~` token2'+_ token3*%!.-");
  assert.equal(req.from.params.get("fromparam''~+*_!.-%"), '"работающий"');
  assert.equal(req.fromTag, "_token~1'+`*%!-.");
  assert.equal(req.get("extensionHeader-!.%*+_`'~"), '\ufeff大停電');
  assert.equal(req.callId, 'intmeth.word%ZK-!.*_+\'@word`~)(><:\\/"][?}{');
});

test('esc01: %-escapes decoded once in user, params; names stay escaped-equivalent', () => {
  const req = ok('esc01');
  assert.equal(req.uri.user, 'sips:user@example.com');
  assert.equal(req.uri.host, 'example.net');
  assert.equal(req.to.uri.user, 'user');
  assert.equal(req.from.uri.user, 'I have spaces');
  assert.equal(req.contentType, 'application/sdp', "compact 'C' is Content-Type");
  const c = req.contacts();
  assert.ok(c.ok && !c.value.star);
  const uri = c.value.contacts[0]!.uri;
  assert.equal(uri.user, 'caller');
  assert.equal(uri.params.get('lr'), null, "';%6C%72' is the flag parameter lr");
  assert.equal(uri.params.get('name'), 'value%41', 'decoded once, not twice');
});

test('escnull: %00 in the user part gives two distinct contacts', () => {
  const req = ok('escnull');
  assert.equal(req.to.uri.user, 'null-\0-null');
  const c = req.contacts();
  assert.ok(c.ok && !c.value.star);
  assert.deepEqual(
    c.value.contacts.map((x) => x.uri.user),
    ['\0', '\0\0'],
  );
});

test('esc02: escaped method and header name are opaque tokens (501 comes from the UAS core)', () => {
  const req = ok('esc02');
  assert.equal(req.method, 'RE%47IST%45R');
  assert.equal(req.to.displayName, '%Z%45');
  assert.equal(req.getAll('contact').length, 2, "'C%6Fntact' is not Contact");
  assert.equal(req.get('C%6Fntact'), '<sip:alias2@host2.example.com>');
});

test('lwsdisp: token display name directly followed by <', () => {
  const req = ok('lwsdisp');
  assert.equal(req.from.displayName, 'caller');
  assert.equal(req.from.uri.user, 'caller');
});

test('wsinv: LWS everywhere, folding, compact forms, leading zeros', () => {
  const req = ok('wsinv');
  assert.equal(req.toTag, '1918181833n');
  assert.equal(req.from.displayName, 'J Rosenberg \\"');
  assert.equal(req.fromTag, '98asjd8');
  assert.equal(req.maxForwards, 68);
  assert.deepEqual(req.cseq, { seq: 9, method: 'INVITE' });
  assert.deepEqual(
    req.via.map((v) => [v.transport, v.host, v.branch]),
    [
      ['UDP', '192.0.2.2', '390skdjuw'],
      ['TCP', 'spindle.example.com', 'z9hG4bK9ikj8'],
      ['UDP', '192.168.255.111', 'z9hG4bK30239'],
    ],
  );
  assert.equal(req.get('NewFangledHeader'), 'newfangled value continued newfangled value');
  assert.equal(req.get('UnknownHeaderWithUnusualValue'), ';;,,;;,;');
  assert.equal(req.get('subject'), '');
  const c = req.contacts();
  assert.ok(c.ok && !c.value.star);
  assert.equal(c.value.contacts[0]!.displayName, 'Quoted string ""');
  assert.equal(c.value.contacts[0]!.params.get('q'), '0.33');
  assert.equal(c.value.contacts[0]!.params.get('secondparam'), null);
  const route = req.nameAddrs('route');
  assert.ok(route.ok);
  assert.equal(route.value[0]!.uri.params.get('unknownwith'), 'value');
  assert.equal(req.body.length, 150);
});

test('semiuri: the user part carries ;par=u@example.net (escaped @), not URI parameters', () => {
  const req = ok('semiuri');
  assert.equal(req.uri.user, 'user;par=u@example.net');
  assert.equal(req.uri.host, 'example.com');
  assert.equal(req.uri.params.size, 0);
  assert.equal(req.getAll('accept').length, 6, 'folded comma list');
});

test('transports: five Vias incl. SCTP, TLS and an unknown transport', () => {
  const req = ok('transports');
  assert.deepEqual(
    req.via.map((v) => v.transport),
    ['UDP', 'SCTP', 'TLS', 'UNKNOWN', 'TCP'],
  );
});

test('longreq: 34 Via values, the full long display name, big body intact', () => {
  const req = ok('longreq');
  assert.equal(req.via.length, 34);
  assert.equal(req.to.displayName, `I have a user name of ${'extreme'.repeat(10)} proportion`);
  assert.equal(req.body.length, 150);
});

test('dblreq: Content-Length 0 wins, the trailing INVITE-looking bytes are discarded', () => {
  const req = ok('dblreq');
  assert.equal(req.method, 'REGISTER');
  assert.equal(req.body.length, 0);
});

test('mpart01: binary multipart body framed by Content-Length (553 bytes)', () => {
  const req = ok('mpart01');
  assert.equal(req.body.length, 553);
  assert.equal(req.contentType, 'multipart/mixed');
});

test('unreason / noreason: UTF-8 and empty reason phrases', () => {
  const a = parse('unreason');
  assert.ok(a.ok && a.message.kind === 'response');
  assert.equal(a.message.status, 200);
  assert.ok(a.message.reason.startsWith('= 2**3 * 5**2 '));
  assert.match(a.message.reason, /[\u0400-\u04ff]/, 'Cyrillic decoded as UTF-8');
  const b = parse('noreason');
  assert.ok(b.ok && b.message.kind === 'response');
  assert.equal(b.message.status, 100);
  assert.equal(b.message.reason, '');
});

test('UAS-core rejections parse with the fields the core decides on', () => {
  assert.equal(ok('unkscm').uri.scheme, 'nobodyknowsthisscheme');
  assert.equal(ok('novelsc').uri.scheme, 'soap.beep');
  const unksm2 = ok('unksm2');
  assert.equal(unksm2.to.uri.scheme, 'isbn', 'a registrar answers 400: the AoR is not sip/sips');
  assert.equal(unksm2.from.uri.scheme, 'http');
  const c = unksm2.contacts();
  assert.ok(c.ok && !c.value.star && c.value.contacts[0]!.uri.scheme === 'name');
  assert.deepEqual(ok('bext01').getAll('require'), ['nothingSupportsThis', 'nothingSupportsThisEither']);
  assert.deepEqual(ok('bext01').getAll('proxy-require'), ['noProxiesSupportThis', 'norDoAnyProxiesSupportThis']);
  assert.equal(ok('invut').contentType, 'application/unknownformat');
  assert.deepEqual(ok('sdp01').getAll('accept'), ['text/nobodyKnowsThis']);
  assert.equal(ok('regaut01').get('authorization'), 'NoOneKnowsThisScheme opaque-data=here');
  assert.equal(ok('zeromf').maxForwards, 0);
});

test('badvers: SIP/7.0 → 505 with an answerable request', () => {
  const r = parse('badvers');
  assert.ok(!r.ok && r.status === 505 && r.request);
  assert.equal(r.request.method, 'OPTIONS');
});

test('insuf: missing From/To/Call-ID still answerable; the 400 copies what exists', () => {
  const r = parse('insuf');
  assert.ok(!r.ok && r.request);
  const wire = serialize(createResponse(r.request, 400, r.error)).toString();
  assert.match(wire, /\r\nCSeq: 193942 INVITE\r\n/);
  assert.match(wire, /\r\nVia: SIP\/2.0\/UDP 192.0.2.95;branch=z9hG4bKkdj.insuf\r\n/);
});

test('quotbal: the 400 echoes the broken To verbatim and adds no tag to it', () => {
  const r = parse('quotbal');
  assert.ok(!r.ok && r.request);
  const wire = serialize(createResponse(r.request, 400, r.error, { toTag: 'abc' })).toString();
  assert.match(wire, /\r\nTo: "Mr. J. User <sip:j.user@example.com>\r\n/);
});

test('scalar02 / scalarlg / bigcode: out-of-range numbers never become numbers', () => {
  const r = parse('scalar02');
  assert.ok(!r.ok && r.request);
  assert.equal(r.request.expires().ok, false, 'Expires 10^100 is not a 32-bit delta-seconds');
  assert.equal(parse('scalarlg').ok, false);
  assert.equal(parse('bigcode').ok, false);
});

test('multi01: two of each single-valued header → 400; the response uses the first of each', () => {
  const r = parse('multi01');
  assert.ok(!r.ok && r.request);
  const wire = serialize(createResponse(r.request, 400, r.error)).toString();
  assert.equal(wire.match(/\r\nCall-ID: /g)?.length, 1);
  assert.equal(wire.match(/\r\nCSeq: /g)?.length, 1);
});

test('cparam01: unbracketed Contact — ;unknownparam is a header parameter', () => {
  const c = ok('cparam01').contacts();
  assert.ok(c.ok && !c.value.star);
  const contact = c.value.contacts[0]!;
  assert.equal(contact.params.has('unknownparam'), true);
  assert.equal(contact.uri.params.has('unknownparam'), false);
  assert.equal(contact.uri.raw, 'sip:+19725552222@gw1.example.net');
});

test('cparam02: bracketed Contact — ;unknownparam is a URI parameter', () => {
  const c = ok('cparam02').contacts();
  assert.ok(c.ok && !c.value.star);
  const contact = c.value.contacts[0]!;
  assert.equal(contact.uri.params.has('unknownparam'), true);
  assert.equal(contact.params.has('unknownparam'), false);
  assert.equal(contact.uri.raw, 'sip:+19725552222@gw1.example.net;unknownparam');
});

test('regescrt: the escaped Route stays in the Contact URI (raw keeps the escapes)', () => {
  const req = ok('regescrt');
  const c = req.contacts();
  assert.ok(c.ok && !c.value.star);
  const uri = c.value.contacts[0]!.uri;
  assert.equal(uri.raw, 'sip:user@example.com?Route=%3Csip:sip.example.com%3E');
  assert.deepEqual(uri.headers, [['Route', '<sip:sip.example.com>']]);
  assert.equal(req.get('route'), undefined, 'never a real Route header');
});

test('inv2543: RFC 2543 request — no Content-Length (body = rest of datagram, 105 bytes), no branch, no tag', () => {
  const req = ok('inv2543');
  assert.equal(req.body.length, 105);
  assert.equal(req.via[0]!.branch, undefined);
  assert.equal(req.fromTag, undefined);
  assert.equal(req.maxForwards, undefined);
  assert.equal(req.from.uri.params.get('user'), 'phone');
});

test('baddn archive copy: header section ends at the end of the datagram (no empty line)', () => {
  const r = parse('baddn');
  assert.ok(!r.ok && r.request);
  assert.equal(r.request.cseq.seq, 3923239);
});
