/**
 * Meeting chat relay (RFC 3428): a participant's MESSAGE (in its dialog or to the meeting URI) goes to every other
 * participant in its own dialog, rendered for each receiver (chat.ts); `/end`, `/who`, `/help` are commands.
 */
import type { Logger } from '../log.ts';
import type { Clock } from '../sip/clock.ts';
import type { SipRequest } from '../sip/message/types.ts';
import { createResponse } from '../sip/message/build.ts';
import type { DialogLayer, ServerTxPort } from '../sip/dialog/dialog-layer.ts';
import { chatText, cpimChat, type ChatMessage, CHAT_ACCEPT, HELP_TEXT, parseCommand, plainChat } from './chat.ts';
import type { Meeting } from './meeting.ts';
import type { Participant } from './participant.ts';

export interface ChatRelayDeps {
  dialogs: DialogLayer;
  clock: Clock;
  logger: Logger;
  /** Digest check for `/end` when a users file is configured (answers the challenge itself when it fails). */
  authenticate(req: SipRequest, tx: ServerTxPort): { ok: boolean };
  /** The host ended the meeting. */
  endMeeting(meeting: Meeting): Promise<void>;
  /** One chat message relayed (for /metrics). */
  counted(): void;
}

export class ChatRelay {
  constructor(private readonly d: ChatRelayDeps) {}

  async fromParticipant(meeting: Meeting, p: Participant, req: SipRequest, tx: ServerTxPort, toTag = p.dialog?.id.localTag): Promise<void> {
    const ok = (headers: Array<readonly [string, string]> = []) => tx.respond(createResponse(req, 200, 'OK', { ...(toTag ? { toTag } : {}), headers }));
    const t = chatText(req.contentType, req.body);
    if (!t.ok) {
      tx.respond(createResponse(req, 415, `Unsupported Media Type - ${t.reason}`, { ...(toTag ? { toTag } : {}), headers: [['Accept', CHAT_ACCEPT]] }));
      return;
    }
    const cmd = parseCommand(t.text);
    if (cmd?.kind === 'end') {
      if (p.aor !== meeting.creatorAor) {
        tx.respond(createResponse(req, 403, 'Forbidden - only the host can end the meeting', toTag ? { toTag } : {}));
        return;
      }
      if (!this.d.authenticate(req, tx).ok) return;
      ok();
      this.d.logger.info({ meeting: meeting.id, by: p.aor }, 'meeting ended by the host (chat command)');
      await this.d.endMeeting(meeting);
      return;
    }
    if (cmd) {
      ok();
      const reply =
        cmd.kind === 'who'
          ? `in ${meeting.id}: ${meeting.present().map((x) => `${x.displayName} <${x.aor}>${x.aor === meeting.creatorAor ? ' (host)' : ''}`).join(', ')}`
          : cmd.kind === 'help'
            ? HELP_TEXT
            : `unknown command /${cmd.word}; ${HELP_TEXT}`;
      this.sendText(p, reply);
      return;
    }
    ok();
    this.d.counted();
    const msg: ChatMessage = { fromName: p.displayName, fromAor: p.aor, at: this.d.clock.wallNow(), text: t.text };
    for (const other of meeting.present()) {
      if (other === p || !other.dialog) continue;
      const body = other.wantsCpim ? cpimChat(msg, meeting.uri) : plainChat(msg);
      const contentType = other.wantsCpim ? 'message/cpim' : 'text/plain;charset=utf-8';
      this.d.dialogs
        .request(other.dialog, 'MESSAGE', { body, contentType })
        .then((res) => {
          if (res.status >= 300) this.d.logger.info({ meeting: meeting.id, to: other.id, status: res.status }, 'chat not delivered');
        })
        .catch((err: Error) => this.d.logger.info({ meeting: meeting.id, to: other.id, err: err.message }, 'chat not delivered'));
    }
  }

  /** A notice from the focus itself to one participant. */
  sendText(p: Participant, text: string): void {
    if (!p.dialog) return;
    this.d.dialogs.request(p.dialog, 'MESSAGE', { body: text, contentType: 'text/plain;charset=utf-8' }).catch(() => undefined);
  }
}
