/**
 * Object keys a JSON body gives twice. JSON.parse keeps the last value without a word (RFC 8259 §4 leaves
 * duplicate names to the parser); Jackson and Python's json never write one, so a repeated key comes from a
 * broken or hostile sender, and taking either value would silently drop the other.
 *
 * The common case costs one scan of the text and one walk of the parsed value, both without recursion (a body
 * may nest 100 000 levels deep); only a body that has a duplicate is tokenised a second time to name its path.
 */
import { jsonPath } from '../inputs/errors.ts';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const COMMA = 0x2c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

/** Index of the quote closing the string opened at `open`, in text known to be valid JSON. */
function stringEnd(text: string, open: number): number {
  let from = open + 1;
  for (;;) {
    const quote = text.indexOf('"', from);
    let backslashes = 0;
    while (text.charCodeAt(quote - 1 - backslashes) === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return quote;
    from = quote + 1;
  }
}

/** Name/value pairs the text writes: in valid JSON, exactly its colons outside strings. */
function membersInText(text: string): number {
  let members = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === COLON) members++;
    else if (c === QUOTE) i = stringEnd(text, i);
  }
  return members;
}

/** Name/value pairs the parsed value holds. */
function membersInValue(value: unknown): number {
  let members = 0;
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v !== 'object' || v === null) continue;
    if (Array.isArray(v)) {
      for (const item of v) stack.push(item);
    } else {
      for (const key in v) {
        members++;
        stack.push((v as Record<string, unknown>)[key]);
      }
    }
  }
  return members;
}

interface Frame {
  /** Keys seen so far, for an object. */
  keys?: Set<string>;
  /** Where in the container the scan is: the current key, or the current index. */
  at: string | number;
}

/** The path of the first key that repeats a key of the same object, by tokenising the text. */
function locateDuplicate(text: string): string | undefined {
  const frames: Frame[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const top = frames[frames.length - 1];
    if (c === QUOTE) {
      const end = stringEnd(text, i);
      let next = end + 1;
      while (next < text.length && text.charCodeAt(next) <= 0x20) next++;
      if (top?.keys && text.charCodeAt(next) === COLON) {
        const key = JSON.parse(text.slice(i, end + 1)) as string;
        if (top.keys.has(key)) return jsonPath([...frames.slice(0, -1).map((f) => f.at), key]);
        top.keys.add(key);
        top.at = key;
      }
      i = end;
    } else if (c === OPEN_BRACE) frames.push({ keys: new Set(), at: '' });
    else if (c === OPEN_BRACKET) frames.push({ at: 0 });
    else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) frames.pop();
    else if (c === COMMA && top && !top.keys) top.at = (top.at as number) + 1;
  }
  return undefined;
}

/**
 * The JSON path (`$.counters[0].attempted`) of the first object key `text` writes twice in one object, or
 * `undefined` when there is none. `value` is `JSON.parse(text)`.
 */
export function findDuplicateKey(text: string, value: unknown): string | undefined {
  if (membersInText(text) === membersInValue(value)) return undefined;
  return locateDuplicate(text);
}
