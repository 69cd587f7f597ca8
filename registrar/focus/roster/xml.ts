/**
 * Just enough XML writing for the conference-info documents: escaping and a tiny element helper. Display names
 * come from SIP headers (anything a phone sends), so every text and attribute value goes through `escapeXml`.
 */

/**
 * XML 1.0 §2.2 Char: tab, LF, CR, U+0020–U+D7FF, U+E000–U+FFFD and the supplementary planes (as surrogate
 * pairs). Anything else (C0 controls, lone surrogates, U+FFFE/U+FFFF) cannot appear even escaped.
 */
const NOT_XML_CHAR = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\uD800-\uDBFF\uDC00-\uDFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

const ENTITIES: Readonly<Record<string, string>> = {
  '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;', '\t': '&#9;', '\n': '&#10;', '\r': '&#13;',
};

/**
 * Text safe in element content and in single- or double-quoted attributes (XML 1.0 §2.4, §3.3.3): the five
 * special characters become entities; tab, LF and CR become character references (so attribute-value
 * normalisation and our indentation cannot change them); characters XML cannot carry become U+FFFD.
 */
export function escapeXml(text: string): string {
  return text.replace(NOT_XML_CHAR, '\uFFFD').replace(/[&<>"'\t\n\r]/g, (c) => ENTITIES[c]!);
}

/** `<name attr="v">escaped text</name>` (text), or with pre-built children lines (children). */
export function el(name: string, content: string | readonly string[], attrs: Readonly<Record<string, string | number>> = {}): string {
  const a = Object.entries(attrs).map(([k, v]) => ` ${k}="${escapeXml(String(v))}"`).join('');
  if (typeof content === 'string') return `<${name}${a}>${escapeXml(content)}</${name}>`;
  if (content.length === 0) return `<${name}${a}/>`;
  // Children never hold a raw newline inside text (escapeXml), so indenting every line is safe.
  const inner = content.flatMap((child) => child.split('\n')).map((line) => `  ${line}`);
  return [`<${name}${a}>`, ...inner, `</${name}>`].join('\n');
}
