/**
 * `application/json` metrics bodies: which of the three accepted shapes a body has, and its conversion.
 *
 * Detection rules, first match wins (only the top level and the first entry of a list are looked at):
 * 1. not a JSON object → none;
 * 2. `metrics` is an array, or `metricTime` is present → `dataflow` (a JobMetrics response);
 * 3. the first entry of `counters`, `distributions`, `gauges`, `string_sets` or `stringSets` has a `key`
 *    object → `beam-python`; has a `name` → `beam-java`;
 * 4. all those lists are empty or absent: `string_sets`, `bounded_tries` or `histograms` present →
 *    `beam-python`; any of `counters`, `distributions`, `gauges`, `stringSets`, `perWorkerHistograms` present →
 *    `beam-java` (an idle pipeline's MetricsHttpSink body: `{"counters":[],"distributions":[],"gauges":[]}`);
 * 5. otherwise none.
 * Detection only picks the parser; the parser's schema then reports any fault with its path.
 */
import type { Conversion } from '../model/series.ts';
import { convertBeamJava } from './beam-java.ts';
import { convertBeamPython } from './beam-python.ts';
import { convertDataflow, DEFAULT_DATAFLOW_OPTIONS, type DataflowOptions } from './dataflow.ts';
import { jsonPath, ValidationError } from './errors.ts';
import type { InputContext } from './options.ts';
import type { PathSegments } from './schema.ts';

export type MetricsJsonFormat = 'beam-java' | 'beam-python' | 'dataflow';

const ENTRY_LISTS = ['counters', 'distributions', 'gauges', 'string_sets', 'stringSets'] as const;
const PYTHON_ONLY = ['string_sets', 'bounded_tries', 'histograms'] as const;
const JAVA_KEYS = ['counters', 'distributions', 'gauges', 'stringSets', 'perWorkerHistograms'] as const;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Which metrics JSON shape `body` has, by the rules in the module comment; `undefined` when none. */
export function detectMetricsJsonFormat(body: unknown): MetricsJsonFormat | undefined {
  if (!isObject(body)) return undefined;
  if (Array.isArray(body.metrics) || 'metricTime' in body) return 'dataflow';
  for (const list of ENTRY_LISTS) {
    const first: unknown = Array.isArray(body[list]) ? (body[list] as unknown[])[0] : undefined;
    if (!isObject(first)) continue;
    if (isObject(first.key)) return 'beam-python';
    if ('name' in first) return 'beam-java';
  }
  if (PYTHON_ONLY.some((key) => key in body)) return 'beam-python';
  if (JAVA_KEYS.some((key) => key in body)) return 'beam-java';
  return undefined;
}

export interface MetricsJsonOptions {
  dataflow?: Readonly<DataflowOptions>;
}

/**
 * Detects the shape of a metrics JSON body and converts it. `at` prefixes error paths (see `convertBeamJava`).
 * Throws `ValidationError` (400): at `at` naming the accepted shapes when none matches, else the parser's issues.
 */
export function convertMetricsJson(
  body: unknown,
  ctx: InputContext,
  at: PathSegments = [],
  options: MetricsJsonOptions = {},
): { format: MetricsJsonFormat; conversion: Conversion } {
  const format = detectMetricsJsonFormat(body);
  switch (format) {
    case 'beam-java':
      return { format, conversion: convertBeamJava(body, ctx, at) };
    case 'beam-python':
      return { format, conversion: convertBeamPython(body, ctx, at) };
    case 'dataflow':
      return { format, conversion: convertDataflow(body, ctx, at, options.dataflow ?? DEFAULT_DATAFLOW_OPTIONS) };
    case undefined:
      throw new ValidationError([
        {
          path: jsonPath(at),
          message:
            'not a metrics body this endpoint reads; expected one of: Beam Java MetricsHttpSink JSON ' +
            '({"counters":[{"attempted":…,"name":{"namespace":…,"name":…},"step":…}],"distributions":[…],"gauges":[…],"stringSets":[…]}), ' +
            'Beam Python MetricResults.query() JSON ({"counters":[{"key":{"step":…,"metric":{"namespace":…,"name":…}},"attempted":…,"committed":…}],…,"string_sets":[…]}), ' +
            'or a Dataflow JobMetrics response ({"metrics":[MetricUpdate…]})',
        },
      ]);
  }
}
