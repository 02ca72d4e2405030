/**
 * The queue envelope: what ingest puts on SQS and deliver reads back. Versioned JSON, one per SQS message.
 *
 * Points keep no timestamp of their own unless the input gave a plausible one (a Beam gauge): the envelope's
 * `receivedAt`, stamped once per request at ingest, is theirs. A redelivered message therefore writes identical
 * samples, which Prometheus treats as a no-op (DESIGN §3) — never stamp at delivery.
 */
import { familiesByName, familyOf } from '../model/families.ts';
import type { Labels, MetricFamily, MetricType, Point } from '../model/series.ts';
import { EnvelopeTooLargeError, MalformedEnvelopeError } from './errors.ts';

/**
 * The version ingest writes. A part carries each distinct label set (`labelSets`, flat `[name, value, …]` arrays)
 * and each metric name (`names`) once (version 3 on); each point's name and label set as indices, flat
 * `[name, labelSet, …]` (`layout`); then the values in the same order (`values`), and `timestamps` (`[point, ms, …]`)
 * for the few points that have their own. Version 4 moved the indices out of the points (version 3's
 * `[name, labelSet, value, …]`) into `layout`, beside the tables they index: a job pushes the same metrics in the
 * same order every period, so the families, sets, names and layout are one text push after push, which deliver
 * parses once (`metadataOf`), and per envelope only the values, a third of the numbers (JSON.parse of a 1,000-envelope
 * batch's points: 6.4 -> 2.5 ms). Deliver reads versions 1 to 4, so messages queued before an upgrade still deliver.
 */
export const ENVELOPE_VERSION = 4;

/** SQS' classic message size limit; what leaves room for the message attributes is the default budget. */
export const SQS_MAX_MESSAGE_BYTES = 256 * 1024;
export const DEFAULT_MAX_ENVELOPE_BYTES = SQS_MAX_MESSAGE_BYTES - 2048;

/** JSON has no NaN or infinities; the text format does, so they travel as Prometheus spells them. */
export type EnvelopeValue = number | 'NaN' | '+Inf' | '-Inf';

export interface EnvelopePoint {
  name: string;
  labels: Labels;
  value: EnvelopeValue;
  timestampMs?: number;
}

/**
 * A parsed envelope of any version, in version 4's shape: point `i` is `names[layout[2i]]` with the labels
 * `labelSets[layout[2i + 1]]` and the value `values[i]`. Each label set is one object, shared by its points, so a
 * reader resolves a set once for all of them; `envelopePoints` gives the points as objects.
 */
export interface Envelope {
  /** The version the body was written in. */
  v: 1 | 2 | 3 | 4;
  /** The ingest request's id; all parts of one request share it. */
  id: string;
  part: number;
  parts: number;
  /** The input format the points came from (`beam-java`, `text`, `eventbridge`, …). */
  source: string;
  /** Ingest timestamp (ms since the epoch) of every point that has none of its own. */
  receivedAt: number;
  /** The grouping key (`job` and the path's labels): the Pushgateway group, labels on every series elsewhere. */
  group: Labels;
  /** Static labels: on every series, unless the series or the group has the same name. */
  labels: Labels;
  families: MetricFamily[];
  labelSets: Labels[];
  names: string[];
  /**
   * `[name index, label set index]` per point, flat. Envelopes that carry one metadata section share the array:
   * never change it.
   */
  layout: Int32Array;
  /** Each point's value, in layout order. */
  values: EnvelopeValue[];
  /** Each point's own timestamp, NaN for those that take `receivedAt`; present only when some point has one. */
  timestampsMs?: number[];
  /** The input reported the end of the job (job event or completion report). */
  jobEnded?: boolean;
}

export interface EnvelopeHeader {
  id: string;
  source: string;
  receivedAt: number;
  group: Labels;
  labels: Labels;
  jobEnded?: boolean;
}

/** How many points an envelope holds. */
export function pointCount(e: Envelope): number {
  return e.values.length;
}

/** The points of an envelope as objects (those of one label set share its labels object). */
export function envelopePoints(e: Envelope): EnvelopePoint[] {
  const out = new Array<EnvelopePoint>(pointCount(e));
  for (let i = 0; i < e.values.length; i++) {
    const p: EnvelopePoint = { name: e.names[e.layout[2 * i]!]!, labels: e.labelSets[e.layout[2 * i + 1]!]!, value: e.values[i]! };
    const own = e.timestampsMs?.[i];
    if (own !== undefined && !Number.isNaN(own)) p.timestampMs = own;
    out[i] = p;
  }
  return out;
}

export function fromEnvelopeValue(value: EnvelopeValue): number {
  if (typeof value === 'number') return value;
  if (value === 'NaN') return NaN;
  return value === '+Inf' ? Infinity : -Infinity;
}

/** A label set as version 2 writes it: `["name","value",…]`, in the object's own order (converters keep it sorted). */
function labelSetJson(labels: Labels): string {
  // Label names and values rarely hold anything JSON escapes; those that do go through JSON.stringify.
  let json = '[';
  for (const n in labels) {
    const v = labels[n]!;
    if (NEEDS_ESCAPE.test(n) || NEEDS_ESCAPE.test(v)) return escapedLabelSetJson(labels);
    json += json.length === 1 ? `"${n}","${v}"` : `,"${n}","${v}"`;
  }
  return json + ']';
}

/** What JSON.stringify escapes in a string (RFC 8259 §7; lone surrogates since ES2019's well-formed stringify). */
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

function escapedLabelSetJson(labels: Labels): string {
  const flat: string[] = [];
  for (const n in labels) flat.push(n, labels[n]!);
  return JSON.stringify(flat);
}

/** A value as the envelope carries it: JSON has no NaN or infinities, so those travel as Prometheus spells them. */
function valueJson(value: number): string {
  if (Number.isFinite(value)) return String(value);
  if (Number.isNaN(value)) return '"NaN"';
  return value > 0 ? '"+Inf"' : '"-Inf"';
}

/** A label set's JSON, and where it sits in the part being filled (stamped, to spare a lookup per point). */
interface SetText {
  json: string;
  bytes: number;
  part: Part | undefined;
  index: number;
}

/** A family's JSON, and whether the part being filled carries it. */
interface FamilyText {
  json: string;
  bytes: number;
  part: Part | undefined;
}

/** A metric name's JSON, its family's, and where the name sits in the part being filled. */
interface NameText {
  json: string;
  bytes: number;
  family: FamilyText | undefined;
  part: Part | undefined;
  index: number;
}

interface Part {
  families: string[];
  sets: string[];
  names: string[];
  /** `name,set` per point. */
  layout: string[];
  /** Each point's value. */
  values: string[];
  /** `point,ms` per point with a timestamp of its own. */
  timestamps: string[];
  bytes: number;
}

/**
 * Serialises one request's points into as few version 4 envelope bodies as fit `maxBytes` each (UTF-8), each
 * carrying the metadata of the families, the label sets and the names its points use. Throws EnvelopeTooLargeError
 * when one point alone cannot fit.
 */
export function buildEnvelopes(
  header: EnvelopeHeader,
  families: readonly MetricFamily[],
  points: readonly Point[],
  maxBytes: number = DEFAULT_MAX_ENVELOPE_BYTES,
): string[] {
  const byName = familiesByName(families);
  const familyTexts = new Map<string, FamilyText>();

  const head =
    `{"v":${ENVELOPE_VERSION},"id":${JSON.stringify(header.id)},"part":PART,"parts":PARTS` +
    `,"source":${JSON.stringify(header.source)},"receivedAt":${header.receivedAt}` +
    `,"group":${JSON.stringify(header.group)},"labels":${JSON.stringify(header.labels)}` +
    (header.jobEnded ? ',"jobEnded":true' : '');
  // 20 digits each for part and parts, and the lists' keys and brackets. Every list item counts its bytes plus a
  // separator, so each list counts one separator more than it has.
  const overhead = Buffer.byteLength(head) + 40 + EMPTY_LISTS.length;

  // Converters often give the points of one label set one object; then it is serialised once.
  const setTexts = new Map<Labels, SetText>();
  const byJson = new Map<string, SetText>();
  const nameTexts = new Map<string, NameText>();
  const newPart = (): Part => ({ families: [], sets: [], names: [], layout: [], values: [], timestamps: [], bytes: overhead });
  const parts: Part[] = [newPart()];

  for (const p of points) {
    let set = setTexts.get(p.labels);
    if (set === undefined) {
      const json = labelSetJson(p.labels);
      set = byJson.get(json);
      if (set === undefined) byJson.set(json, (set = { json, bytes: Buffer.byteLength(json), part: undefined, index: 0 }));
      setTexts.set(p.labels, set);
    }
    let name = nameTexts.get(p.name);
    if (name === undefined) {
      const json = JSON.stringify(p.name);
      const family = familyText(familyOf(p.name, byName), familyTexts);
      nameTexts.set(p.name, (name = { json, bytes: Buffer.byteLength(json), family, part: undefined, index: 0 }));
    }
    const value = valueJson(p.value);
    const timestamp = p.timestampMs === undefined ? undefined : String(p.timestampMs);

    let part = parts[parts.length - 1]!;
    let cost = pointCost(part, set, name, value, timestamp);
    if (part.values.length > 0 && part.bytes + cost > maxBytes) {
      part = newPart();
      parts.push(part);
      cost = pointCost(part, set, name, value, timestamp);
    }
    if (part.bytes + cost > maxBytes) throw new EnvelopeTooLargeError(overhead + cost, maxBytes);

    const family = name.family;
    if (family !== undefined && family.part !== part) {
      family.part = part;
      part.families.push(family.json);
    }
    if (set.part !== part) {
      set.part = part;
      set.index = part.sets.length;
      part.sets.push(set.json);
    }
    if (name.part !== part) {
      name.part = part;
      name.index = part.names.length;
      part.names.push(name.json);
    }
    if (timestamp !== undefined) part.timestamps.push(`${part.values.length},${timestamp}`);
    part.layout.push(`${name.index},${set.index}`);
    part.values.push(value);
    part.bytes += cost;
  }

  return parts.map(
    (part, i) =>
      head.replace('PART', String(i)).replace('PARTS', String(parts.length)) +
      `,"families":[${part.families.join(',')}],"labelSets":[${part.sets.join(',')}],"names":[${part.names.join(',')}]` +
      `,"layout":[${part.layout.join(',')}]${part.timestamps.length > 0 ? `,"timestamps":[${part.timestamps.join(',')}]` : ''}` +
      // Values last: a reader takes them from where the section before them ends to the body's end (parseSplit).
      `,"values":[${part.values.join(',')}]}`,
  );
}

function familyText(family: MetricFamily | undefined, texts: Map<string, FamilyText>): FamilyText | undefined {
  if (family === undefined) return undefined;
  let text = texts.get(family.name);
  if (text === undefined) {
    const json = JSON.stringify(family);
    texts.set(family.name, (text = { json, bytes: Buffer.byteLength(json), part: undefined }));
  }
  return text;
}

/** The lists of a part's body after its header, empty. */
const EMPTY_LISTS = ',"families":[],"labelSets":[],"names":[],"layout":[],"values":[],"timestamps":[]}';

/** The bytes a point adds to a part: its own, and its label set's, name's and family's if the part lacks them. */
function pointCost(part: Part, set: SetText, name: NameText, value: string, timestamp: string | undefined): number {
  // `name,set` and a separator in the layout, the value and a separator; `point,ms` and a separator for a timestamp
  // of its own.
  let bytes = value.length + 3;
  if (timestamp !== undefined) bytes += decimalDigits(part.values.length) + timestamp.length + 2;
  if (set.part === part) bytes += decimalDigits(set.index);
  else bytes += set.bytes + 1 + decimalDigits(part.sets.length);
  if (name.part === part) bytes += decimalDigits(name.index);
  else bytes += name.bytes + 1 + decimalDigits(part.names.length);
  const family = name.family;
  if (family !== undefined && family.part !== part) bytes += family.bytes + 1;
  return bytes;
}

function decimalDigits(n: number): number {
  let digits = 1;
  while (n >= 10) {
    n = Math.floor(n / 10);
    digits++;
  }
  return digits;
}

const METRIC_TYPES = new Set<MetricType>(['counter', 'gauge', 'summary', 'histogram', 'gaugehistogram', 'info', 'stateset', 'unknown']);

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkLabels(v: unknown, path: string): Labels {
  if (!isPlainObject(v)) throw new MalformedEnvelopeError(path, 'must be an object of strings');
  for (const k in v) {
    if (typeof v[k] !== 'string') throw new MalformedEnvelopeError(`${path}.${k}`, 'must be a string');
  }
  return v as Labels;
}

/**
 * Parses and checks an SQS message body of any version. Hand-written rather than schema-driven: deliver reads
 * thousands of these per batch, and the producer is our own ingest function, so the check guards against foreign or
 * corrupt messages, not against users.
 */
export function parseEnvelope(body: string): Envelope {
  return (body.startsWith(V4_START) ? parseSplit(body) : undefined) ?? parseWhole(body);
}

const V4_START = '{"v":4,';
const METADATA_START = ',"families":[';
const VALUES_START = ',"values":[';
const CONTEXT_START = ',"group":';
const TIMESTAMPS_START = ',"timestamps":[';

/** The metadata section of a version 4 body: families, label sets, names and layout, as ingest writes them in a row. */
interface Metadata {
  families: MetricFamily[];
  labelSets: Labels[];
  names: string[];
  layout: Int32Array;
}

/**
 * What sections of bodies parsed to, by their exact text, in buckets (`bucketOf`): the text itself, hashed, or
 * its length, where a lookup compares the few strings of one length instead of hashing one of kilobytes. Bounded:
 * dropped whole past `maxChars`.
 */
class TextCache<T> {
  private buckets = new Map<string | number, Array<{ text: string; value: T }>>();
  private chars = 0;

  constructor(
    private readonly bucketOf: (text: string) => string | number,
    private readonly maxChars: number,
  ) {}

  get(text: string): T | undefined {
    const bucket = this.buckets.get(this.bucketOf(text));
    if (bucket !== undefined) for (const known of bucket) if (known.text === text) return known.value;
    return undefined;
  }

  add(text: string, value: T): T {
    if (this.chars + text.length > this.maxChars) {
      this.buckets = new Map();
      this.chars = 0;
    }
    this.chars += text.length;
    // `text` is a slice of the body, which V8 keeps alive whole for it (a 250 KB body for a 2 KB section): keep a copy.
    const own = JSON.parse(JSON.stringify(text)) as string;
    const key = this.bucketOf(own);
    const bucket = this.buckets.get(key);
    if (bucket === undefined) this.buckets.set(key, [{ text: own, value }]);
    else bucket.push({ text: own, value });
    return value;
  }
}

/** A section of a body (`,"key":…,"key":…`) parsed as an object, or undefined when it is not one. */
function sectionObject(text: string): Record<string, unknown> | undefined {
  try {
    const raw: unknown = JSON.parse('{' + text.slice(1) + '}');
    return isPlainObject(raw) ? raw : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Metadata sections met before, by length. Every push of a pipeline carries the same families, label sets, names
 * and layout — the job and the values are elsewhere — so a batch of 1,000 envelopes holds a handful of distinct
 * sections.
 */
const knownMetadata = new TextCache<Metadata>((text) => text.length, 4 * 1024 * 1024);

function metadataOf(text: string): Metadata | undefined {
  const known = knownMetadata.get(text);
  if (known !== undefined) return known;
  // Read and checked once; a section that does not parse or check is left to the whole-body path and its error.
  const raw = sectionObject(text);
  if (raw === undefined || Object.keys(raw).length !== 4) return undefined;
  try {
    const labelSets = labelSetsOf(raw.labelSets);
    const names = checkNames(raw.names);
    return knownMetadata.add(text, { families: checkFamilies(raw.families), labelSets, names, layout: checkLayout(raw.layout, names.length, labelSets.length) });
  } catch {
    return undefined;
  }
}

/** A header's grouping key, static labels and end flag: the same for every push of a job. */
interface HeaderContext {
  group: Labels;
  labels: Labels;
  jobEnded: boolean | undefined;
}

/**
 * Header contexts met before. Envelopes with one text share its parsed objects, so deliver's merge finds their
 * context by identity instead of by a key string built from their labels (lib/deliver/merge.ts). Found by hash, not
 * by length as the sections are: a batch holds hundreds of contexts of one length (one per job), and a lookup by
 * length compared each (parse 5 -> 10 ms per batch).
 */
const knownContexts = new TextCache<HeaderContext>((text) => text, 1024 * 1024);

function contextOf(text: string): HeaderContext | undefined {
  const known = knownContexts.get(text);
  if (known !== undefined) return known;
  const raw = sectionObject(text);
  if (raw === undefined) return undefined;
  for (const k in raw) if (k !== 'group' && k !== 'labels' && k !== 'jobEnded') return undefined;
  try {
    return knownContexts.add(text, { group: checkLabels(raw.group, '$.group'), labels: checkLabels(raw.labels, '$.labels'), jobEnded: raw.jobEnded === undefined ? undefined : raw.jobEnded === true });
  } catch {
    return undefined;
  }
}

/** The length of the last metadata section read (`parseSplit`). */
let lastSectionChars = 0;

/**
 * A version 4 body whose metadata section was met before: only the header and the values are parsed, and the
 * envelope shares the section's parsed families, label sets, names and layout with the others that carry it — most
 * of the bytes and all but one array of the objects JSON.parse would make. The header's context (grouping key,
 * static labels, end flag), which ingest writes last in the header, is shared the same way. Undefined when the body
 * is not laid out as ingest writes it; `parseWhole` then reads it, or says what is wrong.
 */
function parseSplit(body: string): Envelope | undefined {
  const from = body.indexOf(METADATA_START);
  if (from === -1) return undefined;
  // The section's end: where the last body's ended, which in a batch of one pipeline's pushes is nearly always
  // right (a key cannot start inside a string, whose quotes are escaped), else found by a search of the kilobytes.
  let to = from + lastSectionChars;
  if (!body.startsWith(VALUES_START, to) && !body.startsWith(TIMESTAMPS_START, to)) {
    to = body.indexOf(VALUES_START, from);
    const stamps = to === -1 ? -1 : body.lastIndexOf(TIMESTAMPS_START, to);
    if (stamps > from) to = stamps;
  }
  if (to === -1) return undefined;
  const metadata = metadataOf(body.slice(from, to));
  if (metadata === undefined) return undefined;
  lastSectionChars = to - from;
  // The first `,"group":` is the header's own key: a string before it cannot hold an unescaped quote.
  const at = body.indexOf(CONTEXT_START);
  const context = at === -1 || at > from ? undefined : contextOf(body.slice(at, from));
  if (context === undefined) return undefined;
  let raw: unknown;
  let values: unknown;
  try {
    // No timestamps (the usual case): the header and the values are parsed apart, the values from a slice of the
    // body, so that no copy of it is made to join the two.
    if (body.startsWith(VALUES_START, to) && body.endsWith(']}')) {
      raw = JSON.parse(body.slice(0, at) + '}');
      values = JSON.parse(body.slice(to + VALUES_START.length - 1, body.length - 1));
    } else {
      raw = JSON.parse(body.slice(0, at) + body.slice(to));
      values = isPlainObject(raw) ? raw.values : undefined;
    }
  } catch {
    return undefined;
  }
  if (!isPlainObject(raw) || 'families' in raw || 'labelSets' in raw || 'names' in raw || 'layout' in raw || 'group' in raw || 'labels' in raw || 'jobEnded' in raw) return undefined;
  const envelope = headerOf(raw, context);
  envelope.families = metadata.families;
  envelope.labelSets = metadata.labelSets;
  envelope.names = metadata.names;
  envelope.layout = metadata.layout;
  readValues(envelope, values, raw.timestamps);
  return envelope;
}

function parseWhole(body: string): Envelope {
  let raw: unknown;
  try {
    raw = JSON.parse(body);
  } catch (cause) {
    throw new MalformedEnvelopeError('$', 'body is not JSON', { cause });
  }
  if (!isPlainObject(raw)) throw new MalformedEnvelopeError('$', 'must be a JSON object');
  const envelope = headerOf(raw);
  envelope.families = checkFamilies(raw.families);
  if (raw.v === 4) {
    envelope.labelSets = labelSetsOf(raw.labelSets);
    envelope.names = checkNames(raw.names);
    envelope.layout = checkLayout(raw.layout, envelope.names.length, envelope.labelSets.length);
    readValues(envelope, raw.values, raw.timestamps);
  } else if (raw.v === 3) {
    envelope.labelSets = labelSetsOf(raw.labelSets);
    envelope.names = checkNames(raw.names);
    readPointsV3(envelope, raw.points, raw.timestamps);
  } else if (raw.v === 2) {
    readPointsV2(envelope, labelSetsOf(raw.labelSets), checkPointsArray(raw.points));
  } else {
    readPointsV1(envelope, checkPointsArray(raw.points));
  }
  return envelope;
}

/** The checked header of a parsed body; families, label sets, names and points are filled in after. */
/** The header's fields; its grouping key, static labels and end flag from `context` when given (checked when cached). */
function headerOf(raw: Record<string, unknown>, context?: HeaderContext): Envelope {
  if (raw.v !== 1 && raw.v !== 2 && raw.v !== 3 && raw.v !== 4) {
    throw new MalformedEnvelopeError('$.v', `unsupported envelope version ${JSON.stringify(raw.v)} (this reader knows 1 to 4)`);
  }
  if (typeof raw.id !== 'string') throw new MalformedEnvelopeError('$.id', 'must be a string');
  if (typeof raw.source !== 'string') throw new MalformedEnvelopeError('$.source', 'must be a string');
  if (!Number.isSafeInteger(raw.receivedAt)) throw new MalformedEnvelopeError('$.receivedAt', 'must be an integer (ms)');
  if (!Number.isSafeInteger(raw.part) || !Number.isSafeInteger(raw.parts)) {
    throw new MalformedEnvelopeError('$.part', 'part and parts must be integers');
  }
  const group = context?.group ?? checkLabels(raw.group, '$.group');
  const labels = context?.labels ?? checkLabels(raw.labels, '$.labels');
  const jobEnded = context ? context.jobEnded : raw.jobEnded === undefined ? undefined : raw.jobEnded === true;
  const envelope: Envelope = {
    v: raw.v,
    id: raw.id,
    part: raw.part as number,
    parts: raw.parts as number,
    source: raw.source,
    receivedAt: raw.receivedAt as number,
    group,
    labels,
    families: [],
    labelSets: [],
    names: [],
    layout: NO_POINTS,
    values: [],
  };
  if (jobEnded !== undefined) envelope.jobEnded = jobEnded;
  return envelope;
}

function checkFamilies(raw: unknown): MetricFamily[] {
  if (!Array.isArray(raw)) throw new MalformedEnvelopeError('$.families', 'must be an array');
  raw.forEach((f: unknown, i: number) => {
    if (!isPlainObject(f) || typeof f.name !== 'string' || !METRIC_TYPES.has(f.type as MetricType)) {
      throw new MalformedEnvelopeError(`$.families[${i}]`, 'must be {name, type} with a known type');
    }
  });
  return raw as MetricFamily[];
}

function checkNames(raw: unknown): string[] {
  if (!Array.isArray(raw)) throw new MalformedEnvelopeError('$.names', 'must be an array');
  for (let i = 0; i < raw.length; i++) if (typeof raw[i] !== 'string') throw new MalformedEnvelopeError(`$.names[${i}]`, 'must be a string');
  return raw as string[];
}

/** The layout of an envelope without points (never written to: see `Envelope.layout`). */
const NO_POINTS = new Int32Array(0);

/** Version 4's layout, checked against the names and label sets it indexes. */
function checkLayout(raw: unknown, nameCount: number, setCount: number): Int32Array {
  if (!Array.isArray(raw) || raw.length % 2 !== 0) throw new MalformedEnvelopeError('$.layout', 'must hold [name, labelSet] pairs');
  const layout = new Int32Array(raw.length);
  for (let k = 0; k < raw.length; k += 2) {
    const n: unknown = raw[k];
    const s: unknown = raw[k + 1];
    // Indices are non-negative integers below their table's length: `x >>> 0 === x` is that test for numbers.
    if (typeof n !== 'number' || n >>> 0 !== n || n >= nameCount) throw new MalformedEnvelopeError(`$.layout[${k}]`, `must index one of the ${nameCount} names`);
    if (typeof s !== 'number' || s >>> 0 !== s || s >= setCount) throw new MalformedEnvelopeError(`$.layout[${k + 1}]`, `must index one of the ${setCount} label sets`);
    layout[k] = n;
    layout[k + 1] = s;
  }
  return layout;
}

/** Version 4's values (one per pair of the layout) and own timestamps. */
function readValues(e: Envelope, rawValues: unknown, rawTimestamps: unknown): void {
  if (!Array.isArray(rawValues)) throw new MalformedEnvelopeError('$.values', 'must be an array');
  if (rawValues.length !== e.layout.length / 2) {
    throw new MalformedEnvelopeError('$.values', `must hold one value per point of the layout (${e.layout.length / 2}), not ${rawValues.length}`);
  }
  for (let i = 0; i < rawValues.length; i++) {
    const v: unknown = rawValues[i];
    if (typeof v !== 'number') checkValue(v, `$.values[${i}]`);
  }
  e.values = rawValues as EnvelopeValue[];
  readTimestamps(e, rawTimestamps);
}

/** `[point, ms]` pairs for the points with a timestamp of their own (versions 3 and 4). */
function readTimestamps(e: Envelope, rawTimestamps: unknown): void {
  if (rawTimestamps === undefined) return;
  const stamps = rawTimestamps;
  if (!Array.isArray(stamps) || stamps.length % 2 !== 0) throw new MalformedEnvelopeError('$.timestamps', 'must hold [point, ms] pairs');
  const count = e.values.length;
  const timestamps = new Array<number>(count).fill(NaN);
  for (let k = 0; k < stamps.length; k += 2) {
    const i = stamps[k];
    if (typeof i !== 'number' || i >>> 0 !== i || i >= count) {
      throw new MalformedEnvelopeError(`$.timestamps[${k}]`, `must index one of the ${count} points`);
    }
    if (!Number.isSafeInteger(stamps[k + 1])) throw new MalformedEnvelopeError(`$.timestamps[${k + 1}]`, 'must be an integer (ms)');
    timestamps[i] = stamps[k + 1] as number;
  }
  e.timestampsMs = timestamps;
}

function checkPointsArray(raw: unknown): unknown[] {
  if (!Array.isArray(raw)) throw new MalformedEnvelopeError('$.points', 'must be an array');
  return raw;
}

function checkValue(v: unknown, path: string): void {
  if (typeof v !== 'number' && v !== 'NaN' && v !== '+Inf' && v !== '-Inf') {
    throw new MalformedEnvelopeError(path, 'must be a number, "NaN", "+Inf" or "-Inf"');
  }
}

/** Version 3's points (`[name, labelSet, value]` triples) and own timestamps, checked and split into layout and values. */
function readPointsV3(e: Envelope, rawPoints: unknown, rawTimestamps: unknown): void {
  const points = checkPointsArray(rawPoints);
  if (points.length % 3 !== 0) throw new MalformedEnvelopeError('$.points', 'must hold [name, labelSet, value] triples');
  const nameCount = e.names.length;
  const setCount = e.labelSets.length;
  const layout = new Int32Array((2 * points.length) / 3);
  const values = new Array<EnvelopeValue>(points.length / 3);
  for (let k = 0, i = 0; k < points.length; k += 3, i++) {
    const n = points[k];
    const s = points[k + 1];
    const v = points[k + 2];
    if (typeof n !== 'number' || n >>> 0 !== n || n >= nameCount) {
      throw new MalformedEnvelopeError(`$.points[${k}]`, `must index one of the ${nameCount} names`);
    }
    if (typeof s !== 'number' || s >>> 0 !== s || s >= setCount) {
      throw new MalformedEnvelopeError(`$.points[${k + 1}]`, `must index one of the ${setCount} label sets`);
    }
    if (typeof v !== 'number') checkValue(v, `$.points[${k + 2}]`);
    layout[2 * i] = n;
    layout[2 * i + 1] = s;
    values[i] = v as EnvelopeValue;
  }
  e.layout = layout;
  e.values = values;
  readTimestamps(e, rawTimestamps);
}

/** Name indices for versions 1 and 2, which carry a name per point. */
function nameIndex(e: Envelope, indices: Map<string, number>, name: string): number {
  let i = indices.get(name);
  if (i === undefined) {
    indices.set(name, (i = e.names.length));
    e.names.push(name);
  }
  return i;
}

/** Version 1's `{name, labels, value, timestampMs?}` points; each labels object becomes a set of its own. */
function readPointsV1(e: Envelope, points: unknown[]): void {
  const indices = new Map<string, number>();
  const layout = new Int32Array(2 * points.length);
  const values = new Array<EnvelopeValue>(points.length);
  const timestamps: number[] = [];
  let ownTimestamps = false;
  for (let i = 0; i < points.length; i++) {
    const p = points[i];
    if (!isPlainObject(p) || typeof p.name !== 'string') {
      throw new MalformedEnvelopeError(`$.points[${i}]`, 'must be an object with a string name');
    }
    e.labelSets.push(checkLabels(p.labels, `$.points[${i}].labels`));
    checkValue(p.value, `$.points[${i}].value`);
    if (p.timestampMs !== undefined && !Number.isSafeInteger(p.timestampMs)) {
      throw new MalformedEnvelopeError(`$.points[${i}].timestampMs`, 'must be an integer (ms)');
    }
    layout[2 * i] = nameIndex(e, indices, p.name);
    layout[2 * i + 1] = i;
    values[i] = p.value as EnvelopeValue;
    if (p.timestampMs !== undefined) ownTimestamps = true;
    timestamps.push((p.timestampMs as number | undefined) ?? NaN);
  }
  e.layout = layout;
  e.values = values;
  if (ownTimestamps) e.timestampsMs = timestamps;
}

/** The label sets of versions 2 to 4, each made into one labels object its points will share. */
function labelSetsOf(raw: unknown): Labels[] {
  if (!Array.isArray(raw)) throw new MalformedEnvelopeError('$.labelSets', 'must be an array');
  const sets = new Array<Labels>(raw.length);
  for (let i = 0; i < raw.length; i++) {
    const flat: unknown = raw[i];
    if (!Array.isArray(flat) || flat.length % 2 !== 0) {
      throw new MalformedEnvelopeError(`$.labelSets[${i}]`, 'must be an array of names and values, in pairs');
    }
    const labels: Labels = {};
    for (let k = 0; k < flat.length; k += 2) {
      const name: unknown = flat[k];
      const value: unknown = flat[k + 1];
      if (typeof name !== 'string' || typeof value !== 'string') {
        throw new MalformedEnvelopeError(`$.labelSets[${i}][${typeof name !== 'string' ? k : k + 1}]`, 'must be a string');
      }
      if (Object.hasOwn(labels, name)) throw new MalformedEnvelopeError(`$.labelSets[${i}][${k}]`, `repeats the label ${JSON.stringify(name)}`);
      // An assignment to "__proto__" would set the prototype; JSON.parse makes it an own property, and so must we.
      if (name === '__proto__') Object.defineProperty(labels, name, { value, enumerable: true, writable: true, configurable: true });
      else labels[name] = value;
    }
    sets[i] = labels;
  }
  return sets;
}

/** Version 2's `[name, labelSet, value, timestampMs?]` points. */
function readPointsV2(e: Envelope, sets: Labels[], raw: unknown[]): void {
  e.labelSets = sets;
  const indices = new Map<string, number>();
  const layout = new Int32Array(2 * raw.length);
  const values = new Array<EnvelopeValue>(raw.length);
  const timestamps: number[] = [];
  let ownTimestamps = false;
  for (let i = 0; i < raw.length; i++) {
    const p: unknown = raw[i];
    if (!Array.isArray(p) || p.length < 3 || p.length > 4) {
      throw new MalformedEnvelopeError(`$.points[${i}]`, 'must be [name, labelSet, value] or [name, labelSet, value, timestampMs]');
    }
    const name: unknown = p[0];
    if (typeof name !== 'string') throw new MalformedEnvelopeError(`$.points[${i}][0]`, 'must be a string');
    const set: unknown = p[1];
    if (typeof set !== 'number' || !Number.isInteger(set) || sets[set] === undefined) {
      throw new MalformedEnvelopeError(`$.points[${i}][1]`, `must index one of the ${sets.length} label sets`);
    }
    const value: unknown = p[2];
    checkValue(value, `$.points[${i}][2]`);
    layout[2 * i] = nameIndex(e, indices, name);
    layout[2 * i + 1] = set;
    values[i] = value as EnvelopeValue;
    if (p.length === 4) {
      const timestampMs: unknown = p[3];
      if (!Number.isSafeInteger(timestampMs)) throw new MalformedEnvelopeError(`$.points[${i}][3]`, 'must be an integer (ms)');
      ownTimestamps = true;
      timestamps.push(timestampMs as number);
    } else {
      timestamps.push(NaN);
    }
  }
  e.layout = layout;
  e.values = values;
  if (ownTimestamps) e.timestampsMs = timestamps;
}
