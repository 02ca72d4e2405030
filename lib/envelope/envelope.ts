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

export const ENVELOPE_VERSION = 1;

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

export interface Envelope {
  v: typeof ENVELOPE_VERSION;
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
  points: EnvelopePoint[];
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

export function toEnvelopeValue(value: number): EnvelopeValue {
  if (Number.isFinite(value)) return value;
  if (Number.isNaN(value)) return 'NaN';
  return value > 0 ? '+Inf' : '-Inf';
}

export function fromEnvelopeValue(value: EnvelopeValue): number {
  if (typeof value === 'number') return value;
  if (value === 'NaN') return NaN;
  return value === '+Inf' ? Infinity : -Infinity;
}

function pointJson(p: Point): string {
  const value = toEnvelopeValue(p.value);
  let s = `{"name":${JSON.stringify(p.name)},"labels":${JSON.stringify(p.labels)},"value":${JSON.stringify(value)}`;
  if (p.timestampMs !== undefined) s += `,"timestampMs":${p.timestampMs}`;
  return s + '}';
}

/** A point as the envelope carries it; serialised by JSON.stringify exactly as `pointJson` writes it. */
function envelopePoint(p: Point): EnvelopePoint {
  return { name: p.name, labels: p.labels, value: toEnvelopeValue(p.value), timestampMs: p.timestampMs };
}

/**
 * Serialises one request's points into as few envelope bodies as fit `maxBytes` each (UTF-8), each carrying the
 * metadata of the families its points belong to. Throws EnvelopeTooLargeError when one point alone cannot fit.
 */
export function buildEnvelopes(
  header: EnvelopeHeader,
  families: readonly MetricFamily[],
  points: readonly Point[],
  maxBytes: number = DEFAULT_MAX_ENVELOPE_BYTES,
): string[] {
  const byName = familiesByName(families);
  const familyJson = new Map<string, string>();
  for (const f of families) familyJson.set(f.name, JSON.stringify(f));

  const head =
    `{"v":${ENVELOPE_VERSION},"id":${JSON.stringify(header.id)},"part":PART,"parts":PARTS` +
    `,"source":${JSON.stringify(header.source)},"receivedAt":${header.receivedAt}` +
    `,"group":${JSON.stringify(header.group)},"labels":${JSON.stringify(header.labels)}` +
    (header.jobEnded ? ',"jobEnded":true' : '');
  // 20 digits each for part and parts, the two array keys and closing brackets.
  const overhead = Buffer.byteLength(head) + 40 + 30;

  // Most requests fit one envelope: then one JSON.stringify of all points replaces one per point, with the same
  // bytes and the same budget (each point counts its length plus a comma, each family likewise).
  const single = singleEnvelope(head, overhead, byName, familyJson, points, maxBytes);
  if (single !== undefined) return [single];

  interface Part {
    families: string[];
    familyNames: Set<string>;
    points: string[];
    bytes: number;
  }
  const newPart = (): Part => ({ families: [], familyNames: new Set(), points: [], bytes: overhead });
  const parts: Part[] = [newPart()];
  const familyBytes = (f: MetricFamily | undefined, into: Part): number =>
    f && !into.familyNames.has(f.name) ? Buffer.byteLength(familyJson.get(f.name)!) + 1 : 0;

  for (const p of points) {
    const json = pointJson(p);
    const pointBytes = Buffer.byteLength(json) + 1;
    const family = familyOf(p.name, byName);
    let part = parts[parts.length - 1]!;
    if (part.points.length > 0 && part.bytes + pointBytes + familyBytes(family, part) > maxBytes) {
      part = newPart();
      parts.push(part);
    }
    const extra = familyBytes(family, part);
    if (part.bytes + pointBytes + extra > maxBytes) {
      throw new EnvelopeTooLargeError(overhead + pointBytes + extra, maxBytes);
    }
    if (family && extra > 0) {
      part.familyNames.add(family.name);
      part.families.push(familyJson.get(family.name)!);
    }
    part.points.push(json);
    part.bytes += pointBytes + extra;
  }

  return parts.map(
    (part, i) =>
      head.replace('PART', String(i)).replace('PARTS', String(parts.length)) +
      `,"families":[${part.families.join(',')}],"points":[${part.points.join(',')}]}`,
  );
}

/** The one body holding every point, or undefined when they need more than one. */
function singleEnvelope(
  head: string,
  overhead: number,
  byName: ReadonlyMap<string, MetricFamily>,
  familyJson: ReadonlyMap<string, string>,
  points: readonly Point[],
  maxBytes: number,
): string | undefined {
  const pointsJson = JSON.stringify(points.map(envelopePoint));
  // "[a,b,c]": every point's bytes plus one separator each, less the two brackets, plus one.
  let bytes = overhead + Buffer.byteLength(pointsJson) - 1;
  if (bytes > maxBytes) return undefined;
  const used: string[] = [];
  const usedFamilies = new Set<string>();
  const seenNames = new Set<string>();
  for (const p of points) {
    if (seenNames.has(p.name)) continue;
    seenNames.add(p.name);
    const family = familyOf(p.name, byName);
    if (family === undefined || usedFamilies.has(family.name)) continue;
    usedFamilies.add(family.name);
    const json = familyJson.get(family.name)!;
    used.push(json);
    bytes += Buffer.byteLength(json) + 1;
  }
  if (bytes > maxBytes) return undefined;
  return head.replace('PART', '0').replace('PARTS', '1') + `,"families":[${used.join(',')}],"points":${pointsJson}}`;
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
 * Parses and checks an SQS message body. Hand-written rather than schema-driven: deliver reads thousands of these
 * per batch, and the producer is our own ingest function, so the check guards against foreign or corrupt messages,
 * not against users.
 */
export function parseEnvelope(body: string): Envelope {
  let raw: unknown;
  try {
    raw = JSON.parse(body);
  } catch (cause) {
    throw new MalformedEnvelopeError('$', 'body is not JSON', { cause });
  }
  if (!isPlainObject(raw)) throw new MalformedEnvelopeError('$', 'must be a JSON object');
  if (raw.v !== ENVELOPE_VERSION) {
    throw new MalformedEnvelopeError('$.v', `unsupported envelope version ${JSON.stringify(raw.v)} (this reader knows ${ENVELOPE_VERSION})`);
  }
  if (typeof raw.id !== 'string') throw new MalformedEnvelopeError('$.id', 'must be a string');
  if (typeof raw.source !== 'string') throw new MalformedEnvelopeError('$.source', 'must be a string');
  if (!Number.isSafeInteger(raw.receivedAt)) throw new MalformedEnvelopeError('$.receivedAt', 'must be an integer (ms)');
  if (!Number.isSafeInteger(raw.part) || !Number.isSafeInteger(raw.parts)) {
    throw new MalformedEnvelopeError('$.part', 'part and parts must be integers');
  }
  checkLabels(raw.group, '$.group');
  checkLabels(raw.labels, '$.labels');
  if (!Array.isArray(raw.families)) throw new MalformedEnvelopeError('$.families', 'must be an array');
  raw.families.forEach((f: unknown, i: number) => {
    if (!isPlainObject(f) || typeof f.name !== 'string' || !METRIC_TYPES.has(f.type as MetricType)) {
      throw new MalformedEnvelopeError(`$.families[${i}]`, 'must be {name, type} with a known type');
    }
  });
  if (!Array.isArray(raw.points)) throw new MalformedEnvelopeError('$.points', 'must be an array');
  const points = raw.points as unknown[];
  for (let i = 0; i < points.length; i++) {
    const p = points[i];
    if (!isPlainObject(p) || typeof p.name !== 'string') {
      throw new MalformedEnvelopeError(`$.points[${i}]`, 'must be an object with a string name');
    }
    checkLabels(p.labels, `$.points[${i}].labels`);
    const v = p.value;
    if (typeof v !== 'number' && v !== 'NaN' && v !== '+Inf' && v !== '-Inf') {
      throw new MalformedEnvelopeError(`$.points[${i}].value`, 'must be a number, "NaN", "+Inf" or "-Inf"');
    }
    if (p.timestampMs !== undefined && !Number.isSafeInteger(p.timestampMs)) {
      throw new MalformedEnvelopeError(`$.points[${i}].timestampMs`, 'must be an integer (ms)');
    }
  }
  return raw as unknown as Envelope;
}
