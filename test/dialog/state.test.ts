/**
 * The dialog state machine (RFC 3261 §12) rejects illegal moves, and a terminated dialog sends nothing but ACK.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dialogTransition } from '../../registrar/sip/dialog/state.ts';
import { uasDialog } from '../../registrar/sip/dialog/dialog.ts';
import { FOCUS_CONTACT, inviteText } from './helpers.ts';

test('dialog transitions: early → confirmed → terminated; nothing leaves terminated; confirmed never goes back', () => {
  assert.equal(dialogTransition('early', 'confirmed'), 'confirmed');
  assert.equal(dialogTransition('early', 'terminated'), 'terminated');
  assert.equal(dialogTransition('confirmed', 'terminated'), 'terminated');
  assert.throws(() => dialogTransition('confirmed', 'early'), /illegal transition confirmed -> early/);
  assert.throws(() => dialogTransition('terminated', 'confirmed'), /illegal/);
  assert.throws(() => dialogTransition('confirmed', 'confirmed'), /illegal/);
});

test('a terminated dialog refuses to build requests other than ACK', () => {
  const d = uasDialog(inviteText({ callId: 'st-1', fromTag: 'a' }), 'b', FOCUS_CONTACT, 'confirmed');
  d.transition('terminated');
  assert.throws(() => d.createRequest('MESSAGE', { via: 'SIP/2.0/UDP 192.0.2.1:5060' }), /terminated/);
  const ack = d.createRequest('ACK', { via: 'SIP/2.0/UDP 192.0.2.1:5060', cseq: 1 });
  assert.equal(ack.cseq.method, 'ACK');
  assert.equal(ack.cseq.seq, 1);
});
