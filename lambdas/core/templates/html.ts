/**
 * A small HTML scanner for message templates: enough to find where output lands (text, a quoted or unquoted attribute
 * value, a script) and the URL attributes of a rendered message. Not a full parser: it follows the tokenizer's rules
 * for tags, attributes, comments and raw-text elements, which is where injection happens.
 */

export interface HtmlAttribute {
  /** Lower-cased. */
  name: string;
  value: string;
  /** Where the value is in the scanned text (`valueEnd` exclusive); -1 when the attribute has no value. */
  valueStart: number;
  valueEnd: number;
  quoted: boolean;
}

export interface HtmlTag {
  name: string;
  attributes: HtmlAttribute[];
}

export interface HtmlScan {
  tags: HtmlTag[];
  /** The contents of `<script>` and `<style>` elements, by element name. */
  rawText: { element: string; text: string }[];
}

const RAW_TEXT = new Set(['script', 'style', 'textarea', 'title', 'xmp', 'iframe', 'noembed', 'noframes', 'noscript']);
const isSpace = (c: string) => c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f';

export function scanHtml(html: string): HtmlScan {
  const tags: HtmlTag[] = [];
  const rawText: HtmlScan['rawText'] = [];
  let i = 0;
  while (i < html.length) {
    const lt = html.indexOf('<', i);
    if (lt < 0) break;
    if (html.startsWith('<!--', lt)) {
      const end = html.indexOf('-->', lt + 4);
      i = end < 0 ? html.length : end + 3;
      continue;
    }
    const closing = html[lt + 1] === '/';
    const nameStart = closing ? lt + 2 : lt + 1;
    if (!/[A-Za-z]/.test(html[nameStart] ?? '')) {
      i = lt + 1;
      continue;
    }
    let j = nameStart;
    while (j < html.length && !isSpace(html[j]) && html[j] !== '>' && html[j] !== '/') j++;
    const name = html.slice(nameStart, j).toLowerCase();
    const tag: HtmlTag = { name, attributes: [] };
    // Attributes until `>`.
    while (j < html.length && html[j] !== '>') {
      if (isSpace(html[j]) || html[j] === '/') {
        j++;
        continue;
      }
      const attrStart = j;
      const endsName = (c: string) => isSpace(c) || c === '>' || c === '=' || (c === '/' && html[j + 1] === '>');
      while (j < html.length && !endsName(html[j])) j++;
      const attrName = html.slice(attrStart, j).toLowerCase();
      while (j < html.length && isSpace(html[j])) j++;
      if (html[j] !== '=') {
        if (attrName === '') j++;
        tag.attributes.push({ name: attrName, value: '', valueStart: -1, valueEnd: -1, quoted: false });
        continue;
      }
      j++;
      while (j < html.length && isSpace(html[j])) j++;
      const quote = html[j];
      if (quote === '"' || quote === "'") {
        const end = html.indexOf(quote, j + 1);
        const valueEnd = end < 0 ? html.length : end;
        const valueStart = j + 1;
        tag.attributes.push({ name: attrName, value: html.slice(valueStart, valueEnd), valueStart, valueEnd, quoted: true });
        j = valueEnd + 1;
      } else {
        const valueStart = j;
        while (j < html.length && !isSpace(html[j]) && html[j] !== '>') j++;
        tag.attributes.push({ name: attrName, value: html.slice(valueStart, j), valueStart, valueEnd: j, quoted: false });
      }
    }
    if (!closing) tags.push(tag);
    i = j + 1;
    if (!closing && RAW_TEXT.has(name)) {
      const end = html.toLowerCase().indexOf(`</${name}`, i);
      rawText.push({ element: name, text: html.slice(i, end < 0 ? html.length : end) });
      i = end < 0 ? html.length : end;
    }
  }
  return { tags, rawText };
}

/** Attributes whose value is a URL a mail client may follow or load. */
export const URL_ATTRIBUTES = new Set([
  'href',
  'src',
  'action',
  'formaction',
  'background',
  'poster',
  'cite',
  'xlink:href',
  'longdesc',
  'lowsrc',
  'dynsrc',
  'data',
]);

const NAMED: Record<string, string> = Object.assign(Object.create(null) as Record<string, string>, {
  colon: ':',
  tab: '\t',
  newline: '\n',
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  sol: '/',
  nbsp: ' ',
});

/** Decodes the character references a browser would before reading the URL (the usual ones; others stay). */
function decodeReferences(value: string): string {
  return value.replace(/&(#[xX][0-9a-fA-F]+|#[0-9]+|[A-Za-z]+);?/g, (whole, ref: string) => {
    if (ref[0] === '#') {
      const hex = ref[1] === 'x' || ref[1] === 'X';
      const code = hex ? Number.parseInt(ref.slice(2), 16) : Number.parseInt(ref.slice(1), 10);
      return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : '';
    }
    const named = NAMED[ref.toLowerCase()];
    return named ?? whole;
  });
}

const SAFE_SCHEMES = new Set(['http', 'https', 'mailto']);

/** The scheme of a URL as a browser reads it (lower case), undefined when relative. */
export function urlScheme(attributeValue: string): string | undefined {
  // Browsers drop ASCII tab and newlines anywhere in a URL and leading/trailing C0 controls and spaces.
  // eslint-disable-next-line no-control-regex
  const url = decodeReferences(attributeValue).replace(/[\u0000-\u0020\u007f-\u009f]/g, '');
  return /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(url)?.[1].toLowerCase();
}

/** A link a message may carry: http(s), mailto, or relative (no scheme). */
export function isSafeUrl(attributeValue: string): boolean {
  const scheme = urlScheme(attributeValue);
  return scheme === undefined || SAFE_SCHEMES.has(scheme);
}

/** The rendered HTML with every unsafe URL attribute value replaced by `#` (the link is disabled, the message goes). */
export function disableUnsafeLinks(html: string): string {
  const unsafe = scanHtml(html)
    .tags.flatMap((tag) => tag.attributes)
    .filter((a) => a.valueStart >= 0 && URL_ATTRIBUTES.has(a.name) && !isSafeUrl(a.value))
    .sort((a, b) => b.valueStart - a.valueStart);
  let out = html;
  for (const a of unsafe) out = `${out.slice(0, a.valueStart)}#${out.slice(a.valueEnd)}`;
  return out;
}
