/**
 * The ingest function's configuration, read from the environment once per cold start. Defaults live in the frozen
 * DEFAULT_* objects of the modules they configure; this file only maps variables onto them.
 */
import { DEFAULT_BODY_LIMITS } from './body.ts';
import type { IngestOptions } from './ingest.ts';
import { DEFAULT_ACCEPTED_EVENTS, parseAcceptedEvents } from '../inputs/eventbridge.ts';
import { DEFAULT_DATAFLOW_OPTIONS } from '../inputs/dataflow.ts';
import { DEFAULT_INGEST_LIMITS } from '../inputs/limits.ts';
import { DEFAULT_CONVERSION_OPTIONS } from '../inputs/options.ts';
import { DEFAULT_MAX_ENVELOPE_BYTES } from '../envelope/envelope.ts';
import { ConfigError } from '../config/errors.ts';
import { boolean, integer, labelList, oneOf, optional, required, type Env } from '../config/env.ts';

export interface IngestConfig {
  queueUrl: string;
  /** FIFO queues need a group id per message; the grouping key keeps one job's snapshots in order. */
  fifo: boolean;
  sqsEndpoint?: string;
  region?: string;
  options: IngestOptions;
}

export function loadIngestConfig(env: Env): IngestConfig {
  const queueUrl = required(env, 'QUEUE_URL', 'the SQS queue the envelopes are sent to');
  const token = optional(env, 'INGEST_TOKEN');
  const hmacSecret = optional(env, 'INGEST_HMAC_SECRET');
  // A short shared secret is guessable; 16 characters is the least we accept.
  if (token !== undefined && token.length < 16) throw new ConfigError('INGEST_TOKEN', 'must be at least 16 characters (use a random value: openssl rand -hex 24)');
  if (hmacSecret !== undefined && hmacSecret.length < 16) throw new ConfigError('INGEST_HMAC_SECRET', 'must be at least 16 characters');
  const prefix = optional(env, 'METRIC_PREFIX') ?? DEFAULT_CONVERSION_OPTIONS.prefix;
  if (!/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(prefix)) throw new ConfigError('METRIC_PREFIX', `"${prefix}" is not a valid metric name prefix`);
  const acceptedEvents = optional(env, 'EVENT_SOURCES');
  let accept = DEFAULT_ACCEPTED_EVENTS;
  if (acceptedEvents !== undefined) {
    try {
      accept = parseAcceptedEvents(acceptedEvents);
    } catch (error) {
      throw new ConfigError('EVENT_SOURCES', (error as Error).message);
    }
  }
  const sqsEndpoint = optional(env, 'AWS_ENDPOINT_URL_SQS');
  const region = optional(env, 'AWS_REGION');
  return {
    queueUrl,
    fifo: queueUrl.endsWith('.fifo'),
    ...(sqsEndpoint ? { sqsEndpoint } : {}),
    ...(region ? { region } : {}),
    options: {
      auth: { ...(token ? { token } : {}), ...(hmacSecret ? { hmacSecret } : {}) },
      staticLabels: labelList(env, 'STATIC_LABELS'),
      body: {
        maxBodyBytes: integer(env, 'MAX_BODY_BYTES', DEFAULT_BODY_LIMITS.maxBodyBytes, 1024, 6 * 1024 * 1024),
        maxDecompressedBytes: integer(env, 'MAX_DECOMPRESSED_BYTES', DEFAULT_BODY_LIMITS.maxDecompressedBytes, 1024, 256 * 1024 * 1024),
      },
      limits: {
        ...DEFAULT_INGEST_LIMITS,
        maxSeries: integer(env, 'MAX_SERIES_PER_REQUEST', DEFAULT_INGEST_LIMITS.maxSeries, 1, 10_000_000),
        maxLabelsPerSeries: integer(env, 'MAX_LABELS_PER_SERIES', DEFAULT_INGEST_LIMITS.maxLabelsPerSeries, 1, 1000),
        maxLabelValueLength: integer(env, 'MAX_LABEL_VALUE_LENGTH', DEFAULT_INGEST_LIMITS.maxLabelValueLength, 1, 1024 * 1024),
      },
      conversion: {
        ...DEFAULT_CONVERSION_OPTIONS,
        prefix,
        results: oneOf(env, 'BEAM_RESULTS', ['preferred', 'both'] as const, DEFAULT_CONVERSION_OPTIONS.results),
        stringSetCap: integer(env, 'STRING_SET_CAP', DEFAULT_CONVERSION_OPTIONS.stringSetCap, 0, 100_000),
      },
      textFormat: { timestamps: oneOf(env, 'TEXT_TIMESTAMPS', ['reject', 'drop'] as const, 'reject') },
      eventBridge: { accept, runIdLabel: boolean(env, 'JOB_RUN_ID_LABEL', false) },
      dataflow: {
        ...DEFAULT_DATAFLOW_OPTIONS,
        systemMetrics: oneOf(env, 'DATAFLOW_SYSTEM_METRICS', ['skip', 'export'] as const, DEFAULT_DATAFLOW_OPTIONS.systemMetrics),
      },
      maxEnvelopeBytes: integer(env, 'MAX_MESSAGE_BYTES', DEFAULT_MAX_ENVELOPE_BYTES, 16 * 1024, 1024 * 1024),
    },
  };
}
