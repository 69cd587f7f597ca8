/**
 * Meeting chat (RFC 3428 MESSAGE): what a relayed message looks like to each receiver, and the commands a
 * plain phone can type (`/end`, `/who`, `/help`).
 *
 * - A `text/plain` phone (Linphone, baresip) only shows the text and the focus's address, so the sender and the
 *   server's time go into the text itself: `[14:03:27] Alice <sip:alice@10.0.0.5>: hello`.
 * - A participant that asked for structured chat (`Accept: message/cpim` on its INVITE — the bundled client does)
 *   gets `message/cpim` (RFC 3862) with `From: "Alice" <sip:alice@…>` and `DateTime:` (RFC 3339), wrapping the
 *   original text/plain body untouched.
 */

export interface ChatMessage {
  readonly fromName: string;
  readonly fromAor: string;
  /** Server wall-clock time (ms since epoch) when the focus received it. */
  readonly at: number;
  readonly text: string;
}

/** HH:MM:SS in UTC (the server's reference time; the CPIM form carries the full RFC 3339 timestamp). */
export function clockTime(ms: number): string {
  return new Date(ms).toISOString().slice(11, 19);
}

export function plainChat(m: ChatMessage): string {
  return `[${clockTime(m.at)}] ${m.fromName} <${m.fromAor}>: ${m.text}`;
}

function cpimQuote(name: string): string {
  return `"${name.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}

/** RFC 3862 §3: CPIM message headers, a blank line, then the encapsulated MIME object. */
export function cpimChat(m: ChatMessage, meetingUri: string): string {
  const text = Buffer.from(m.text, 'utf8');
  return (
    `From: ${cpimQuote(m.fromName)} <${m.fromAor}>\r\n` +
    `To: <${meetingUri}>\r\n` +
    `DateTime: ${new Date(m.at).toISOString()}\r\n` +
    `\r\n` +
    `Content-Type: text/plain;charset=utf-8\r\n` +
    `Content-Length: ${text.length}\r\n` +
    `\r\n` +
    m.text
  );
}

/** Extract the text a participant typed from a MESSAGE body (text/plain, or the text inside message/cpim). */
export function chatText(contentType: string | undefined, body: Buffer): { ok: true; text: string } | { ok: false; reason: string } {
  const ct = (contentType ?? 'text/plain').toLowerCase();
  if (ct === 'text/plain') return { ok: true, text: body.toString('utf8') };
  if (ct === 'message/cpim') {
    const s = body.toString('utf8');
    // RFC 3862 §2: message headers, blank line, MIME headers, blank line, content.
    const first = s.search(/\r?\n\r?\n/);
    if (first < 0) return { ok: false, reason: 'malformed message/cpim' };
    const rest = s.slice(first).replace(/^\r?\n\r?\n/, '');
    const second = rest.search(/\r?\n\r?\n/);
    if (second < 0) return { ok: false, reason: 'malformed message/cpim' };
    const mimeHeaders = rest.slice(0, second);
    if (!/content-type:\s*text\/plain/i.test(mimeHeaders)) return { ok: false, reason: 'only text/plain inside message/cpim' };
    return { ok: true, text: rest.slice(second).replace(/^\r?\n\r?\n/, '') };
  }
  return { ok: false, reason: `unsupported chat type ${ct}` };
}

export type ChatCommand = { kind: 'end' } | { kind: 'who' } | { kind: 'help' } | { kind: 'unknown'; word: string };

/** `/end`, `/who`, `/help` typed as a chat line; anything else starting with '/' is unknown; else not a command. */
export function parseCommand(text: string): ChatCommand | undefined {
  const t = text.trim();
  if (!t.startsWith('/')) return undefined;
  const word = t.slice(1).split(/\s+/)[0]!.toLowerCase();
  if (word === 'end') return { kind: 'end' };
  if (word === 'who') return { kind: 'who' };
  if (word === 'help') return { kind: 'help' };
  return { kind: 'unknown', word };
}

/** Chat body types the focus accepts (RFC 3428 text/plain, RFC 3862 message/cpim). */
export const CHAT_ACCEPT = 'text/plain, message/cpim';

export const HELP_TEXT = 'commands: /who (list participants), /end (host only: end the meeting for everyone), /help';
