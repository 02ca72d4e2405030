/**
 * The ingest core: a request (or an EventBridge event) in, envelope bodies and a reply summary out. Pure: no
 * clock, no randomness, no AWS — the handler passes the time and an id, and sends the envelopes.
 */
import type { EventBridgeOptions } from '../inputs/eventbridge.ts';
import { convertEventBridgeEvent } from '../inputs/eventbridge.ts';
import { convertCompletionReport, isCompletionReport } from '../inputs/completion.ts';
import { ValidationError, UnsupportedMediaTypeError, InputError } from '../inputs/errors.ts';
import { checkPoints, type IngestLimits } from '../inputs/limits.ts';
import { convertMetricsJson, detectMetricsJsonFormat } from '../inputs/metrics-json.ts';
import type { DataflowOptions } from '../inputs/dataflow.ts';
import type { ConversionOptions, InputContext } from '../inputs/options.ts';
import { convertTextFormat, type TextFormatOptions } from '../inputs/text-format.ts';
import { buildEnvelopes } from '../envelope/envelope.ts';
import { EnvelopeTooLargeError } from '../envelope/errors.ts';
import type { Conversion, Labels } from '../model/series.ts';
import { authenticate, type AuthConfig } from './auth.ts';
import { decodeBody, type BodyLimits } from './body.ts';
import { findDuplicateKey } from './json.ts';
import type { HttpRequest } from './request.ts';
import { RouteError } from './errors.ts';
import { parseGroupingKey } from './route.ts';

export interface IngestOptions {
  auth: AuthConfig;
  staticLabels: Labels;
  body: BodyLimits;
  limits: IngestLimits;
  conversion: ConversionOptions;
  textFormat: TextFormatOptions;
  dataflow: DataflowOptions;
  eventBridge: EventBridgeOptions;
  maxEnvelopeBytes: number;
}

export type InputFormat = 'beam-java' | 'beam-python' | 'dataflow' | 'text' | 'completion' | 'eventbridge';

/** What was accepted: the envelopes to enqueue and the facts the 200 reply reports. */
export interface Accepted {
  id: string;
  format: InputFormat;
  group: Labels;
  envelopes: string[];
  series: number;
  warnings: string[];
  jobEnded: boolean;
}

function mediaType(contentType: string | undefined): { type: string; params: Record<string, string> } | undefined {
  if (!contentType) return undefined;
  const [type, ...rest] = contentType.split(';');
  const params: Record<string, string> = {};
  for (const p of rest) {
    const eq = p.indexOf('=');
    if (eq > 0) params[p.slice(0, eq).trim().toLowerCase()] = p.slice(eq + 1).trim().replace(/^"|"$/g, '');
  }
  return { type: type!.trim().toLowerCase(), params };
}

function parseJson(text: string): unknown {
  if (text.trim() === '') throw new ValidationError([{ path: '$', message: 'body is empty: expected a JSON object' }]);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    throw new ValidationError([{ path: '$', message: `body is not valid JSON (${(error as Error).message})` }]);
  }
  const duplicate = findDuplicateKey(text, body);
  if (duplicate !== undefined) {
    throw new ValidationError([{ path: duplicate, message: 'this key appears twice in its object: send each key once (JSON.parse would silently keep only the last value)' }]);
  }
  return body;
}

/** The lists each Beam JSON format reads; every entry of them makes at least one series. */
const BEAM_LISTS: Readonly<Record<string, readonly string[]>> = {
  'beam-java': ['counters', 'distributions', 'gauges', 'stringSets'],
  'beam-python': ['counters', 'distributions', 'gauges', 'string_sets'],
};

/**
 * Refuses a Beam Java or Python body listing more metrics than `maxSeries` before it is converted: validating
 * and converting 330 000 counters (19 MB of JSON, 860 KB gzipped) took 450 MB, beyond the function's memory.
 */
function checkBeamEntries(body: unknown, path: string, maxSeries: number): void {
  const lists = BEAM_LISTS[detectMetricsJsonFormat(body) ?? ''];
  if (lists === undefined) return;
  let entries = 0;
  for (const list of lists) {
    const value = (body as Record<string, unknown>)[list];
    if (Array.isArray(value)) entries += value.length;
  }
  if (entries > maxSeries) {
    throw new ValidationError([{ path, message: `the body lists ${entries} metrics, each making at least one series; the limit is ${maxSeries} series per request` }]);
  }
}

function convertHttpBody(req: HttpRequest, text: string, ctx: InputContext, options: IngestOptions, pathGroup: Labels): { format: InputFormat; conversion: Conversion; group: Labels } {
  const media = mediaType(req.headers['content-type']);
  if (!media) {
    throw new UnsupportedMediaTypeError('Content-Type is missing: send application/json (Beam metrics, completion report) or text/plain; version=0.0.4 (Prometheus text format)');
  }
  if (media.type === 'application/json' || media.type.endsWith('+json')) {
    const body = parseJson(text);
    const completion = isCompletionReport(body);
    checkBeamEntries(completion ? (body as { metrics?: unknown }).metrics : body, completion ? '$.metrics' : '$', options.limits.maxSeries);
    if (completion) {
      const { conversion, extraGroup } = convertCompletionReport(body, ctx, pathGroup);
      // Path labels win over labels from the body, as everywhere on this route.
      return { format: 'completion', conversion, group: { ...extraGroup, ...pathGroup } };
    }
    const { format, conversion } = convertMetricsJson(body, ctx, [], { dataflow: options.dataflow });
    return { format, conversion, group: pathGroup };
  }
  if (media.type === 'text/plain') {
    const version = media.params.version;
    if (version !== undefined && version !== '0.0.4') {
      throw new UnsupportedMediaTypeError(`text format version ${version} is not supported: send version=0.0.4`);
    }
    return { format: 'text', conversion: convertTextFormat(text, ctx, { ...options.textFormat, maxSeries: options.limits.maxSeries }), group: pathGroup };
  }
  throw new UnsupportedMediaTypeError(
    `Content-Type "${media.type}" is not supported: send application/json (Beam metrics, completion report) or text/plain; version=0.0.4`,
  );
}

function finish(id: string, format: InputFormat, group: Labels, conversion: Conversion, nowMs: number, options: IngestOptions): Accepted {
  // The group overrides point labels and static labels yield to both, as delivery will merge them (deliver/merge.ts).
  const issues = checkPoints(conversion.points, options.staticLabels, options.limits, group);
  if (issues.length > 0) throw new ValidationError(issues);
  let envelopes: string[] = [];
  if (conversion.points.length > 0) {
    try {
      envelopes = buildEnvelopes(
        { id, source: format, receivedAt: nowMs, group, labels: options.staticLabels, ...(conversion.jobEnded ? { jobEnded: true } : {}) },
        conversion.families,
        conversion.points,
        options.maxEnvelopeBytes,
      );
    } catch (error) {
      if (error instanceof EnvelopeTooLargeError) throw new InputError(413, [{ path: '$', message: error.message }]);
      throw error;
    }
  }
  return { id, format, group, envelopes, series: conversion.points.length, warnings: conversion.warnings ?? [], jobEnded: conversion.jobEnded === true };
}

/** Accepts a webhook request or throws an InputError (4xx) saying what is wrong and where. */
export function acceptHttpRequest(req: HttpRequest, options: IngestOptions, nowMs: number, id: string): Accepted {
  if (req.method !== 'POST' && req.method !== 'PUT') {
    throw new RouteError(405, `method ${req.method} is not allowed: POST (or PUT) the metrics to /metrics/job/<job>`);
  }
  // Credentials first: a caller without them learns nothing about the route or the body rules.
  authenticate(req, options.auth);
  const pathGroup = parseGroupingKey(req.path);
  const text = decodeBody(req.body, req.headers['content-encoding'], options.body);
  const ctx: InputContext = { nowMs, options: options.conversion };
  const { format, conversion, group } = convertHttpBody(req, text, ctx, options, pathGroup);
  return finish(id, format, group, conversion, nowMs, options);
}

export type EventResult = { kind: 'accepted'; accepted: Accepted } | { kind: 'ignored'; reason: string };

/** Accepts an EventBridge event, ignores one not configured, or throws a ValidationError for a malformed one. */
export function acceptEvent(event: unknown, options: IngestOptions, nowMs: number, id: string): EventResult {
  const ctx: InputContext = { nowMs, options: options.conversion };
  const result = convertEventBridgeEvent(event, ctx, options.eventBridge);
  if (result.kind === 'ignored') return result;
  return { kind: 'accepted', accepted: finish(id, 'eventbridge', result.group, result.conversion, nowMs, options) };
}

/** The 200 reply. Beam's MetricsHttpSink treats any other status, 202 and 204 included, as a failure. */
export function acceptedReply(a: Accepted): Record<string, unknown> {
  return {
    status: 'accepted',
    id: a.id,
    format: a.format,
    group: a.group,
    series: a.series,
    messages: a.envelopes.length,
    ...(a.warnings.length > 0 ? { warnings: a.warnings } : {}),
  };
}
