/**
 * The sample model every input converts to and every encoder reads from.
 *
 * Ingest produces `Point`s: one value of one series, usually without its own timestamp (the envelope's
 * ingest timestamp applies). Delivery merges points into `TimeSeries` (sorted labels, time-ordered samples),
 * the shape the remote-write encoders take.
 */

/** Prometheus metric types, as remote-write 1.0 `MetricMetadata.MetricType` and the text format know them. */
export type MetricType = 'counter' | 'gauge' | 'summary' | 'histogram' | 'gaugehistogram' | 'info' | 'stateset' | 'unknown';

/** TYPE / HELP / unit of a metric family (`metric_family_name` in remote-write metadata). */
export interface MetricFamily {
  name: string;
  type: MetricType;
  help?: string;
  unit?: string;
}

/** Label names to values, `__name__` excluded. */
export type Labels = Record<string, string>;

/** One value of one series, as an input produces it. */
export interface Point {
  /** Metric name (`__name__`), already sanitised. */
  name: string;
  labels: Labels;
  value: number;
  /** Milliseconds since the epoch; absent means "the ingest timestamp". */
  timestampMs?: number;
}

/** What an input parser yields: the points and the families they belong to. */
export interface Conversion {
  families: MetricFamily[];
  points: Point[];
  /** Set when the input reports that a job ended (job event, completion report). */
  jobEnded?: boolean;
  /** Things the user may want to know that did not fail the request (e.g. a capped string set). */
  warnings?: string[];
}

export interface Label {
  name: string;
  value: string;
}

export interface Sample {
  value: number;
  timestampMs: number;
}

/** A series as remote-write carries it: labels sorted by name with `__name__` among them, samples in time order. */
export interface TimeSeries {
  labels: Label[];
  samples: Sample[];
}

/**
 * Samples of many series in shared columns: the deliver merge keeps a batch's samples so, because 100,000 sample
 * objects that live until the batch ends were most of what the garbage collector traced and copied per batch.
 */
export interface SampleColumns {
  readonly values: Float64Array;
  readonly timestampsMs: Float64Array;
}

/** A series whose samples are the rows `start … start + count - 1` of shared columns, in time order. */
export interface ColumnSeries {
  labels: Label[];
  columns: SampleColumns;
  start: number;
  count: number;
}

/** What an encoder takes: samples as objects or as rows of columns. */
export type AnyTimeSeries = TimeSeries | ColumnSeries;

export interface WriteRequest {
  timeseries: AnyTimeSeries[];
  metadata: MetricFamily[];
}

export function sampleCount(s: AnyTimeSeries): number {
  return 'samples' in s ? s.samples.length : s.count;
}

/** The samples of a series as objects, whichever way it holds them. */
export function samplesOf(s: AnyTimeSeries): Sample[] {
  if ('samples' in s) return s.samples;
  const out = new Array<Sample>(s.count);
  for (let i = 0; i < s.count; i++) out[i] = { value: s.columns.values[s.start + i]!, timestampMs: s.columns.timestampsMs[s.start + i]! };
  return out;
}
