/**
 * Assertions shared by the interop tests: the relayed chat format, the roster exchange as the server saw it,
 * and the participants as Linphone's log shows them.
 */
import assert from 'node:assert/strict';
import type { InteropServer } from './harness.ts';
import type { Linphone } from './peers/linphone.ts';

/**
 * A relayed chat line for text/plain phones: `[HH:MM:SS] Name <aor>: text`, the time being the server's clock in
 * UTC (registrar/focus/chat.ts) within `slackS` of now.
 */
export function assertChatLine(line: string, name: string, aor: string, text: string, slackS = 10): void {
  const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const m = new RegExp(`^\\[(\\d\\d):(\\d\\d):(\\d\\d)\\] ${esc(name)} <${esc(aor)}>: ${esc(text)}$`).exec(line);
  assert.ok(m, `chat line "${line}" should read "[HH:MM:SS] ${name} <${aor}>: ${text}"`);
  const secs = Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]);
  const d = new Date();
  const now = d.getUTCHours() * 3600 + d.getUTCMinutes() * 60 + d.getUTCSeconds();
  const diff = Math.abs(now - secs);
  assert.ok(Math.min(diff, 86400 - diff) <= slackS, `chat time ${m[1]}:${m[2]}:${m[3]} should be the server's time now (UTC ${d.toISOString()})`);
}

/**
 * Linphone's SUBSCRIBE (Event: conference) got 200 from the server, and every conference NOTIFY the server sent
 * it got a 200 back (counted on the server's side, from its SIP trace). Returns the number of NOTIFYs.
 */
export async function assertRosterExchange(srv: InteropServer, linphone: Linphone, minNotifies: number, ms = 3000): Promise<number> {
  const mine = srv.trace.withPort(linphone.sipPort);
  const subs = mine.filter((m) => m.dir === 'in' && m.startLine.startsWith('SUBSCRIBE ') && /^Event:\s*conference/im.test(m.text));
  assert.ok(subs.length >= 1, "Linphone sent SUBSCRIBE with Event: conference (the 200 OK's Contact has ';isfocus')");
  for (const s of subs) {
    const answer = mine.find((m) => m.dir === 'out' && m.callId === s.callId && m.cseq === s.cseq && /^SIP\/2\.0 [2-6]\d\d/.test(m.startLine));
    assert.ok(answer, `the server answered Linphone's SUBSCRIBE (${s.cseq})`);
    assert.match(answer.startLine, /^SIP\/2\.0 200 /, `the server's answer to Linphone's SUBSCRIBE`);
  }
  // The last NOTIFY's 200 may still be on its way: wait (bounded) until every NOTIFY sent has a final answer.
  let n = srv.trace.notifies(linphone.sipPort);
  const end = Date.now() + ms;
  while ((n.sent.length < minNotifies || n.answered.size < n.sent.length) && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 50));
    n = srv.trace.notifies(linphone.sipPort);
  }
  assert.ok(n.sent.length >= minNotifies, `the server sent Linphone at least ${minNotifies} conference NOTIFYs (sent ${n.sent.length})`);
  for (const key of n.sent) assert.equal(n.answered.get(key), 200, `Linphone answered the NOTIFY ${key} with 200`);
  return n.sent.length;
}

/**
 * Linphone's conference view lists `aors` as participants: liblinphone logs "Addition of participant with address
 * IdentityAddress(<aor>)" when a NOTIFY adds one, and "Participant <aor> added but already in the list" when a
 * later full-state NOTIFY lists one it already has (the first NOTIFY adds silently).
 */
export async function assertLinphoneSeesParticipants(linphone: Linphone, aors: readonly string[], ms = 4000): Promise<void> {
  for (const aor of aors) {
    const a = aor.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const re = new RegExp(`Addition of participant with address IdentityAddress\\(${a}\\)|Participant ${a} added but already in the list`);
    const end = Date.now() + ms;
    while (!linphone.log.find(re) && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
    assert.ok(linphone.log.find(re), `Linphone's log shows ${aor} as a participant of the conference`);
  }
}
