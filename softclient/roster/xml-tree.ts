/**
 * A small, forgiving XML reader for the documents the client receives (RFC 4575 conference-info): elements,
 * attributes, text and the five predefined entities plus numeric references. Namespace prefixes are dropped from
 * names (`ci:user` → `user`). No DTDs, no external entities (nothing to expand, nothing to fetch).
 * Never throws: a malformed document gives `undefined`.
 */

export interface XmlElement {
  readonly name: string;
  readonly attrs: ReadonlyMap<string, string>;
  readonly children: XmlElement[];
  text: string;
}

const ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

export function decodeEntities(s: string): string {
  return s.replace(/&(#x[0-9a-fA-F]+|#\d+|[a-z]+);/g, (m, e: string) => {
    if (e.startsWith('#x')) return String.fromCodePoint(parseInt(e.slice(2), 16));
    if (e.startsWith('#')) return String.fromCodePoint(parseInt(e.slice(1), 10));
    return ENTITIES[e] ?? m;
  });
}

function localName(n: string): string {
  const i = n.indexOf(':');
  return i >= 0 ? n.slice(i + 1) : n;
}

const TAG = /<(\/?)([A-Za-z_][\w.:-]*)((?:\s+[\w.:-]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*(\/?)>/y;
const ATTR = /([\w.:-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g;

export function parseXml(text: string): XmlElement | undefined {
  const root: XmlElement = { name: '#root', attrs: new Map(), children: [], text: '' };
  const stack: XmlElement[] = [root];
  let i = 0;
  try {
    while (i < text.length) {
      const lt = text.indexOf('<', i);
      const top = stack[stack.length - 1]!;
      if (lt < 0) {
        top.text += decodeEntities(text.slice(i));
        break;
      }
      if (lt > i) top.text += decodeEntities(text.slice(i, lt));
      if (text.startsWith('<?', lt)) {
        const end = text.indexOf('?>', lt);
        if (end < 0) return undefined;
        i = end + 2;
        continue;
      }
      if (text.startsWith('<!--', lt)) {
        const end = text.indexOf('-->', lt);
        if (end < 0) return undefined;
        i = end + 3;
        continue;
      }
      if (text.startsWith('<![CDATA[', lt)) {
        const end = text.indexOf(']]>', lt);
        if (end < 0) return undefined;
        top.text += text.slice(lt + 9, end);
        i = end + 3;
        continue;
      }
      if (text.startsWith('<!', lt)) return undefined; // DOCTYPE: not in our documents, never expanded
      TAG.lastIndex = lt;
      const m = TAG.exec(text);
      if (!m) return undefined;
      i = TAG.lastIndex;
      const [, close, rawName, rawAttrs, selfClose] = m;
      const name = localName(rawName!);
      if (close) {
        if (top.name !== name || stack.length === 1) return undefined;
        stack.pop();
        continue;
      }
      const attrs = new Map<string, string>();
      for (const a of rawAttrs!.matchAll(ATTR)) attrs.set(localName(a[1]!), decodeEntities(a[2] ?? a[3] ?? ''));
      const el: XmlElement = { name, attrs, children: [], text: '' };
      top.children.push(el);
      if (!selfClose) stack.push(el);
    }
  } catch {
    return undefined;
  }
  if (stack.length !== 1) return undefined;
  return root.children[0];
}

/** First child element called `name`. */
export function child(el: XmlElement | undefined, name: string): XmlElement | undefined {
  return el?.children.find((c) => c.name === name);
}

export function children(el: XmlElement | undefined, name: string): XmlElement[] {
  return el ? el.children.filter((c) => c.name === name) : [];
}

export function textOf(el: XmlElement | undefined): string | undefined {
  return el === undefined ? undefined : el.text.trim();
}
