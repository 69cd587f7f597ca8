/**
 * The roster notifier's port (port.ts) implemented with the SIP dialog layer: a SUBSCRIBE to a meeting URI
 * creates a notifier dialog (RFC 6665 §4.2.1.1); a SUBSCRIBE inside a participant's call dialog reuses that dialog.
 */
import type { Dialog } from '../../sip/dialog/dialog.ts';
import type { DialogLayer, ServerTxPort } from '../../sip/dialog/dialog-layer.ts';
import { createResponse, newTag } from '../../sip/message/build.ts';
import type { SipRequest } from '../../sip/message/types.ts';
import { type NotifyContent, notifyHeaders, type SubscriptionPort } from './port.ts';

export interface SubscriptionHandle {
  readonly dialog: Dialog;
  /** The dialog is a participant's call (in-dialog SUBSCRIBE): never forget it when the subscription ends. */
  readonly shared: boolean;
}

export function dialogSubscriptionPort(opts: {
  dialogs: DialogLayer;
  /** The focus's Contact for a meeting (`<sip:conf-42@host:port>;isfocus`). */
  contactFor: (meetingId: string) => string;
  /** In-dialog requests on a notifier dialog (refresh SUBSCRIBEs) go here. */
  onDialogRequest: (meetingId: string, req: SipRequest, tx: ServerTxPort) => void;
}): SubscriptionPort<ServerTxPort, SubscriptionHandle> {
  const { dialogs } = opts;
  return {
    accept(tx, req, expires) {
      if (req.toTag !== undefined) {
        const d = dialogs.find(req.callId, req.toTag, req.fromTag ?? '');
        if (d) {
          tx.respond(createResponse(req, 200, 'OK', { headers: [['Expires', String(expires)], ['Contact', d.localContact]] }));
          return { dialog: d, shared: true };
        }
      }
      const meetingId = req.uri.user ?? '';
      const dialog = dialogs.acceptNonInvite(
        tx,
        { localContact: opts.contactFor(meetingId), headers: [['Expires', String(expires)]] },
        {
          onRequest: (_d, r, t) => {
            if (r.method === 'SUBSCRIBE') opts.onDialogRequest(meetingId, r, t);
            else t.respond(createResponse(r, 405, 'Method Not Allowed', { headers: [['Allow', 'SUBSCRIBE, NOTIFY']] }));
          },
        },
      );
      return { dialog, shared: false };
    },
    respond(tx, req, status, reason, headers) {
      tx.respond(createResponse(req, status, reason, { headers, ...(req.toTag === undefined ? { toTag: newTag() } : {}) }));
    },
    async notify(handle, content: NotifyContent) {
      if (handle.dialog.state === 'terminated') return 481;
      const headers = notifyHeaders(content).filter(([n]) => n.toLowerCase() !== 'content-type');
      try {
        const res = await dialogs.request(handle.dialog, 'NOTIFY', {
          headers,
          ...(content.body !== undefined ? { body: content.body, contentType: content.contentType ?? 'application/conference-info+xml' } : {}),
        });
        return res.status;
      } catch {
        return 481;
      }
    },
    release(handle) {
      if (!handle.shared) dialogs.forget(handle.dialog);
    },
  };
}
