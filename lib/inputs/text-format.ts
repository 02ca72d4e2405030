/**
 * Prometheus text exposition format 0.0.4 (`text/plain; version=0.0.4`), as Flink's
 * PrometheusPushGatewayReporter, prom-client's Pushgateway and Python's `push_to_gateway` send it.
 * Rules from prometheus/docs `content/docs/instrumenting/exposition_formats.md`; where the document is silent
 * the Pushgateway's parser (Go `expfmt.TextParser`) decides.
 *
 * A hand-written scanner, one pass per line and no regular expressions over the input, so that a pathological
 * line costs time linear in its length.
 */
import type { Conversion, Labels, MetricFamily, MetricType, Point } from '../model/series.ts';
import { isValidLabelName, isValidMetricName } from '../model/names.ts';
import { ValidationError } from './errors.ts';
import type { InputIssue } from './errors.ts';
import type { InputContext } from './options.ts';

export interface TextFormatOptions {
  /**
   * `reject`: a sample with a timestamp fails the request, as on the Pushgateway ("pushed metrics must not
   * have timestamps"). `drop`: the timestamp is ignored and the ingest time applies.
   */
  timestamps: 'reject' | 'drop';
  /**
   * Stop with an issue at `$` once the body has more series than this (the ingest limit), rather than build
   * points for a million lines only to refuse them: 13 MB of lines took 300 MB of memory.
   */
  maxSeries?: number;
}

export const DEFAULT_TEXT_FORMAT_OPTIONS: Readonly<TextFormatOptions> = Object.freeze({ timestamps: 'reject' });

/** More issues than this and the body is not worth reading further. */
const MAX_ISSUES = 20;
/** Quoted input in messages is cut to this many characters: a line may be a megabyte long. */
const MAX_QUOTE = 60;

const TYPES: Readonly<Record<string, MetricType>> = {
  counter: 'counter',
  gauge: 'gauge',
  summary: 'summary',
  histogram: 'histogram',
  untyped: 'unknown',
};

interface FamilyState {
  family: MetricFamily;
  typed: boolean;
  helped: boolean;
  sampled: boolean;
}

/** A fault on the current line; caught per line and turned into an issue with the line's path. */
class LineFault extends Error {}

/**
 * Parses a text exposition body into points named as in the body (no prefix) with the body's labels and no
 * timestamps, and a family per name that has samples (`untyped` becomes `unknown`; a summary or histogram
 * family covers its `_sum`, `_count`, `_bucket` and quantile samples). Throws a ValidationError whose issues
 * have paths `$line[<n>]` (1-based). A missing final line feed and CRLF line ends are accepted.
 */
export function convertTextFormat(
  body: string,
  _ctx: InputContext,
  options: TextFormatOptions = DEFAULT_TEXT_FORMAT_OPTIONS,
): Conversion {
  const families = new Map<string, FamilyState>();
  const familyOrder: MetricFamily[] = [];
  /** Sample name → the line it first appeared on (for "TYPE after samples"). */
  const sampleNames = new Map<string, number>();
  /** Series identity → the line it first appeared on. */
  const seriesLines = new Map<string, number>();
  const points: Point[] = [];
  const issues: InputIssue[] = [];
  let droppedTimestamps = 0;

  const familyFor = (name: string): FamilyState => {
    let state = families.get(name);
    if (state === undefined) {
      state = { family: { name, type: 'unknown' }, typed: false, helped: false, sampled: false };
      families.set(name, state);
    }
    return state;
  };

  // Samples `x_sum`, `x_count` (and `x_bucket`) belong to family `x` when it is a summary (histogram), unless
  // a family of their own name exists: the same lookup order as the Go parser.
  const sampleFamily = (name: string): FamilyState => {
    const own = families.get(name);
    if (own !== undefined) return own;
    for (const suffix of ['_bucket', '_sum', '_count']) {
      if (!name.endsWith(suffix)) continue;
      const base = families.get(name.slice(0, -suffix.length));
      if (base?.family.type === 'histogram' || (base?.family.type === 'summary' && suffix !== '_bucket')) return base;
    }
    return familyFor(name);
  };

  let lineNo = 0;
  let start = 0;
  while (start < body.length && issues.length < MAX_ISSUES) {
    lineNo++;
    let end = body.indexOf('\n', start);
    if (end === -1) end = body.length;
    const next = end + 1;
    try {
      const s = new LineScanner(body, start, end);
      s.skipBlanks();
      if (s.atEnd()) {
        // Empty lines are ignored.
      } else if (s.peek() === HASH) {
        s.pos++;
        s.skipBlanks();
        const keyword = s.token();
        if (keyword === 'HELP') {
          s.skipBlanks();
          const name = s.token();
          checkMetricName(name, 'HELP');
          s.skipBlanks();
          const help = s.helpText();
          const state = familyFor(name);
          if (state.helped) throw new LineFault(`second HELP line for ${quote(name)}`);
          state.helped = true;
          state.family.help = help;
        } else if (keyword === 'TYPE') {
          s.skipBlanks();
          const name = s.token();
          checkMetricName(name, 'TYPE');
          s.skipBlanks();
          const typeToken = s.token();
          if (typeToken === '') throw new LineFault(`TYPE line for ${quote(name)} has no type`);
          const type = TYPES[typeToken.toLowerCase()];
          if (type === undefined) {
            throw new LineFault(`unknown metric type ${quote(typeToken)}; expected counter, gauge, histogram, summary or untyped`);
          }
          s.skipBlanks();
          if (!s.atEnd()) throw new LineFault(`unexpected ${quote(s.rest())} after the type`);
          const state = familyFor(name);
          if (state.typed) throw new LineFault(`second TYPE line for ${quote(name)}`);
          const sampledOn = sampleNames.get(name);
          if (sampledOn !== undefined) {
            throw new LineFault(`TYPE line for ${quote(name)} comes after its samples (line ${sampledOn})`);
          }
          state.typed = true;
          state.family.type = type;
        }
        // Any other comment is ignored.
      } else {
        const name = s.nameToken();
        if (!isValidMetricName(name)) throw new LineFault(`invalid metric name ${quote(name)}`);
        s.skipBlanks();
        const labels: Labels = {};
        if (s.peek() === OPEN_BRACE) {
          s.pos++;
          s.labels(labels);
        }
        s.skipBlanks();
        const valueToken = s.token();
        if (valueToken === '') throw new LineFault(`sample ${quote(name)} has no value`);
        const value = parseFloatToken(valueToken);
        if (value === undefined) throw new LineFault(`invalid value ${quote(valueToken)}`);
        s.skipBlanks();
        if (!s.atEnd()) {
          const timestamp = s.token();
          if (!isIntegerToken(timestamp)) throw new LineFault(`invalid timestamp ${quote(timestamp)}`);
          s.skipBlanks();
          if (!s.atEnd()) throw new LineFault(`unexpected ${quote(s.rest())} after the timestamp`);
          if (options.timestamps === 'reject') {
            throw new LineFault(`sample has a timestamp (${quote(timestamp)}): pushed metrics must not have timestamps`);
          }
          droppedTimestamps++;
        }

        const state = sampleFamily(name);
        checkSummaryOrHistogram(state.family, name, labels);
        // Exposition formats: a counter's value only goes up from zero; a negative one is a producer bug.
        if (state.family.type === 'counter' && value < 0) throw new LineFault(`counter ${quote(name)} has a negative value ${quote(valueToken)}`);
        const key = seriesKey(name, labels);
        const firstLine = seriesLines.get(key);
        if (firstLine !== undefined) throw new LineFault(`duplicate series ${quote(name)}, first on line ${firstLine}`);
        seriesLines.set(key, lineNo);
        if (!sampleNames.has(name)) sampleNames.set(name, lineNo);
        if (!state.sampled) {
          state.sampled = true;
          familyOrder.push(state.family);
        }
        points.push({ name, labels, value });
        if (options.maxSeries !== undefined && points.length > options.maxSeries) {
          issues.push({ path: '$', message: `the body has more than ${options.maxSeries} series (line ${lineNo}); the limit is ${options.maxSeries} per request` });
          break;
        }
      }
    } catch (err) {
      if (!(err instanceof LineFault)) throw err;
      issues.push({ path: `$line[${lineNo}]`, message: err.message });
    }
    start = next;
  }

  if (issues.length > 0) throw new ValidationError(issues);
  const conversion: Conversion = { families: familyOrder, points };
  if (droppedTimestamps > 0) {
    conversion.warnings = [`dropped the timestamps of ${droppedTimestamps} samples; the ingest time applies`];
  }
  return conversion;
}

const HASH = 0x23;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const COMMA = 0x2c;
const EQUALS = 0x3d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const SPACE = 0x20;
const TAB = 0x09;
const CR = 0x0d;

/** Reads one line of `body`, `[pos, end)`, without copying it. */
class LineScanner {
  pos: number;
  readonly end: number;

  constructor(
    readonly text: string,
    start: number,
    end: number,
  ) {
    this.pos = start;
    // Leading and trailing blanks are ignored (exposition_formats.md); a CR is the rest of a CRLF line end.
    let e = end;
    while (e > start && isBlankOrCr(text.charCodeAt(e - 1))) e--;
    this.end = e;
  }

  atEnd(): boolean {
    return this.pos >= this.end;
  }

  peek(): number {
    return this.pos < this.end ? this.text.charCodeAt(this.pos) : -1;
  }

  skipBlanks(): void {
    while (this.pos < this.end && isBlank(this.text.charCodeAt(this.pos))) this.pos++;
  }

  /** Up to the next blank or the end of the line. */
  token(): string {
    const from = this.pos;
    while (this.pos < this.end && !isBlank(this.text.charCodeAt(this.pos))) this.pos++;
    return this.text.slice(from, this.pos);
  }

  /** A metric name ends at a blank or `{`; whatever else it holds is reported as an invalid name. */
  nameToken(): string {
    const from = this.pos;
    while (this.pos < this.end) {
      const c = this.text.charCodeAt(this.pos);
      if (isBlank(c) || c === OPEN_BRACE) break;
      this.pos++;
    }
    return this.text.slice(from, this.pos);
  }

  rest(): string {
    return this.text.slice(this.pos, this.end);
  }

  /** HELP docstring: the rest of the line, with `\\` and `\n` escapes (exposition_formats.md). */
  helpText(): string {
    return this.unescape(this.end, false, 'HELP text');
  }

  /**
   * `{` already read; reads `name="value"` pairs up to `}`, blanks allowed between tokens and a trailing comma
   * allowed, as the Go parser does.
   */
  labels(into: Labels): void {
    for (;;) {
      this.skipBlanks();
      if (this.peek() === CLOSE_BRACE) {
        this.pos++;
        return;
      }
      const from = this.pos;
      while (this.pos < this.end) {
        const c = this.text.charCodeAt(this.pos);
        if (isBlank(c) || c === EQUALS || c === COMMA || c === CLOSE_BRACE || c === QUOTE) break;
        this.pos++;
      }
      const name = this.text.slice(from, this.pos);
      if (name === '') {
        throw new LineFault(this.atEnd() ? 'label set is not closed with "}"' : `expected a label name at ${quote(this.rest())}`);
      }
      if (!isValidLabelName(name)) throw new LineFault(`invalid label name ${quote(name)}`);
      this.skipBlanks();
      if (this.peek() !== EQUALS) throw new LineFault(`expected "=" after label name ${quote(name)}`);
      this.pos++;
      this.skipBlanks();
      if (this.peek() !== QUOTE) throw new LineFault(`expected a quoted value for label ${quote(name)}`);
      this.pos++;
      const value = this.unescape(this.end, true, `value of label ${quote(name)}`);
      if (Object.hasOwn(into, name)) throw new LineFault(`duplicate label name ${quote(name)}`);
      into[name] = value;
      this.skipBlanks();
      const c = this.peek();
      if (c === COMMA) this.pos++;
      else if (c !== CLOSE_BRACE) {
        throw new LineFault(this.atEnd() ? 'label set is not closed with "}"' : `expected "," or "}" at ${quote(this.rest())}`);
      }
    }
  }

  /**
   * Decodes escapes up to `limit`. With `quoted`, stops after the closing `"` (and `\"` is an escape);
   * any other escape is an error, as in the Go parser.
   */
  private unescape(limit: number, quoted: boolean, what: string): string {
    let out = '';
    let chunk = this.pos;
    while (this.pos < limit) {
      const c = this.text.charCodeAt(this.pos);
      if (quoted && c === QUOTE) {
        out += this.text.slice(chunk, this.pos);
        this.pos++;
        return out;
      }
      if (c === BACKSLASH) {
        out += this.text.slice(chunk, this.pos);
        const e = this.pos + 1 < limit ? this.text.charCodeAt(this.pos + 1) : -1;
        if (e === BACKSLASH) out += '\\';
        else if (e === 0x6e) out += '\n';
        else if (quoted && e === QUOTE) out += '"';
        else {
          const seq = e === -1 ? '\\' : this.text.slice(this.pos, this.pos + 2);
          throw new LineFault(`invalid escape sequence ${quote(seq)} in ${what}`);
        }
        this.pos += 2;
        chunk = this.pos;
      } else {
        this.pos++;
      }
    }
    if (quoted) throw new LineFault(`${what} is not closed with '"'`);
    return out + this.text.slice(chunk, this.pos);
  }
}

function isBlank(c: number): boolean {
  return c === SPACE || c === TAB;
}

function isBlankOrCr(c: number): boolean {
  return c === SPACE || c === TAB || c === CR;
}

function checkMetricName(name: string, keyword: string): void {
  if (name === '') throw new LineFault(`${keyword} line has no metric name`);
  if (!isValidMetricName(name)) throw new LineFault(`invalid metric name ${quote(name)} in ${keyword} line`);
}

/** A summary's own-named samples carry a `quantile`, a histogram's `_bucket` samples an `le` (exposition_formats.md). */
function checkSummaryOrHistogram(family: MetricFamily, name: string, labels: Labels): void {
  if (family.type === 'summary' && name === family.name) {
    checkBoundLabel(labels, 'quantile', name);
  } else if (family.type === 'histogram') {
    if (name === family.name) {
      throw new LineFault(`histogram ${quote(name)} has a sample without the _bucket, _sum or _count suffix`);
    }
    if (name === `${family.name}_bucket`) checkBoundLabel(labels, 'le', name);
  }
}

function checkBoundLabel(labels: Labels, label: string, name: string): void {
  const bound = labels[label];
  if (bound === undefined) throw new LineFault(`sample ${quote(name)} has no ${quote(label)} label`);
  if (parseFloatToken(bound) === undefined) throw new LineFault(`${quote(label)} label of ${quote(name)} is not a number: ${quote(bound)}`);
}

/** A series' identity: its name and its labels in name order. */
function seriesKey(name: string, labels: Labels): string {
  const names = Object.keys(labels);
  if (names.length > 1) names.sort();
  let key = name;
  for (const n of names) key += `\u0000${n}\u0000${labels[n]}`;
  return key;
}

/**
 * A float as Go's `strconv.ParseFloat` reads it in decimal: `[+-]digits[.digits][e[+-]digits]`, `NaN`,
 * `[+-]Inf`, `[+-]Infinity` (any case). Hex floats are not accepted.
 */
function parseFloatToken(token: string): number | undefined {
  let i = 0;
  const n = token.length;
  let sign = 1;
  const first = token.charCodeAt(0);
  if (first === 0x2b || first === 0x2d) {
    if (first === 0x2d) sign = -1;
    i = 1;
  }
  if (n - i <= 8) {
    const word = token.slice(i).toLowerCase();
    if (word === 'inf' || word === 'infinity') return sign * Infinity;
    if (word === 'nan') return i === 0 ? NaN : undefined;
  }
  let digits = 0;
  while (i < n && isDigit(token.charCodeAt(i))) {
    i++;
    digits++;
  }
  if (i < n && token.charCodeAt(i) === 0x2e) {
    i++;
    while (i < n && isDigit(token.charCodeAt(i))) {
      i++;
      digits++;
    }
  }
  if (digits === 0) return undefined;
  if (i < n && (token.charCodeAt(i) | 0x20) === 0x65) {
    i++;
    if (i < n && (token.charCodeAt(i) === 0x2b || token.charCodeAt(i) === 0x2d)) i++;
    const expStart = i;
    while (i < n && isDigit(token.charCodeAt(i))) i++;
    if (i === expStart) return undefined;
  }
  return i === n ? Number(token) : undefined;
}

function isIntegerToken(token: string): boolean {
  let i = token.charCodeAt(0) === 0x2d || token.charCodeAt(0) === 0x2b ? 1 : 0;
  if (i === token.length) return false;
  for (; i < token.length; i++) if (!isDigit(token.charCodeAt(i))) return false;
  return true;
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function quote(s: string): string {
  return JSON.stringify(s.length > MAX_QUOTE ? `${s.slice(0, MAX_QUOTE)}…` : s);
}
