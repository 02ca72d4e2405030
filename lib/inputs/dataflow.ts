/**
 * Dataflow `JobMetrics`, the reply of `projects.locations.jobs.getMetrics`: a list of `MetricUpdate`s.
 *
 * User metrics (`name.origin == "user"`) carry Beam's namespace and step in `name.context`; the service reports
 * each twice, committed and `context.tentative == "true"` (attempted), which are joined back into one Beam
 * metric. Aggregation kinds (case-insensitive, per the REST reference) map as:
 * `Sum` → counter, `Max` / `Min` → gauge, `Mean` → summary from `meanSum` / `meanCount`, `Distribution` →
 * distribution, `Set` → string set. Other kinds (`And`, `Or`, none) have no Prometheus form and are skipped with
 * a warning. System metrics (any other origin) are skipped, or, with `systemMetrics: 'export'`, exported under
 * `systemPrefix` with every context key as a label.
 *
 * Only entries that are converted are validated further than their `name`, so an unfamiliar system metric
 * shape cannot fail a request that skips it. Unknown keys are ignored.
 */
import { mergeConversions } from '../model/conversion.ts';
import * as v from 'valibot';
import type { Conversion } from '../model/series.ts';
import {
  convertBeamMetrics,
  emptyBeamMetrics,
  type BeamMetric,
  type BeamMetrics,
} from './beam-metrics.ts';
import { jsonPath, ValidationError, type InputIssue } from './errors.ts';
import type { InputContext } from './options.ts';
import { capIssues, checkInput, finiteNumber, jsonObject, jsonRecord, MAX_REPORTED_ISSUES, nonEmptyString, parseInput, type PathSegments } from './schema.ts';

/** What to do with Dataflow's own metrics. Not part of `ConversionOptions`: only this input has them. */
export interface DataflowOptions {
  /** `skip` (default) keeps only user metrics; `export` adds Dataflow's own (ElementCount, MeanByteCount, …). */
  systemMetrics: 'export' | 'skip';
  /** Name prefix for exported system metrics. */
  systemPrefix: string;
}

export const DEFAULT_DATAFLOW_OPTIONS: Readonly<DataflowOptions> = Object.freeze({
  // System metrics are many per step and mostly duplicate what Dataflow's own monitoring shows.
  systemMetrics: 'skip',
  systemPrefix: 'dataflow_',
});

/** A Google API number: JSON number, or the decimal string Google's JSON mapping uses for 64-bit integers. */
const apiNumber = v.union(
  [
    finiteNumber,
    v.pipe(
      v.string(),
      v.regex(/^-?\d+(\.\d+)?([eE][+-]?\d+)?$/),
      v.transform(Number),
      v.check((n: number) => Number.isFinite(n), 'must be a finite number'),
    ),
  ],
  'expected a number, or a decimal string as Google APIs write 64-bit integers',
);

const counterNumber = v.pipe(
  apiNumber,
  v.minValue(0, (issue) => `a Sum cannot be negative (got ${issue.input}): it is exported as a Prometheus counter, which only goes up`),
);

const countNumber = v.pipe(
  apiNumber,
  v.minValue(0, (issue) => `a count cannot be negative (got ${issue.input})`),
);

/** `MetricStructuredName`: origin, name and context (for user metrics `namespace`, `step`, `tentative`). */
const structuredName = v.object({
  origin: v.string(),
  name: nonEmptyString,
  context: v.nullish(jsonRecord(v.string())),
});

/** What every entry must have: enough to decide whether it is converted. */
const metricUpdateHead = v.object({ name: structuredName, kind: v.nullish(v.string()), cumulative: v.nullish(v.boolean()) });

/** The value fields each converted kind reads. */
const kindValues = {
  sum: v.object({ scalar: counterNumber }),
  max: v.object({ scalar: apiNumber }),
  min: v.object({ scalar: apiNumber }),
  mean: v.object({ meanSum: apiNumber, meanCount: countNumber }),
  distribution: v.object({
    distribution: v.object({
      count: countNumber,
      sum: apiNumber,
      min: v.nullish(apiNumber),
      max: v.nullish(apiNumber),
    }),
  }),
  set: v.object({ set: v.array(v.string()) }),
} as const;

type Kind = keyof typeof kindValues;

/**
 * A `JobMetrics` response. Each `metrics[]` entry is a `MetricUpdate`.
 *
 * @example
 * {"metricTime":"2026-11-20T10:20:31.004Z","metrics":[
 *  {"name":{"origin":"user","name":"wordsProcessed","context":{"step":"s2","namespace":"WordCount$ExtractWordsFn"}},
 *   "scalar":58190,"updateTime":"2026-11-20T10:20:30.112Z","kind":"Sum","cumulative":true},
 *  {"name":{"origin":"user","name":"wordsProcessed","context":{"step":"s2","namespace":"WordCount$ExtractWordsFn","tentative":"true"}},
 *   "scalar":58213,"updateTime":"2026-11-20T10:20:30.112Z","kind":"Sum","cumulative":true},
 *  {"name":{"origin":"dataflow/v1b3","name":"ElementCount","context":{"original_name":"ReadLines.out0","output_user_name":"ReadLines.out0"}},
 *   "scalar":9812,"updateTime":"2026-11-20T10:20:30.112Z","kind":"Sum","cumulative":true}]}
 *
 * @see https://cloud.google.com/dataflow/docs/reference/rest/v1b3/JobMetrics
 * @see https://cloud.google.com/dataflow/docs/reference/rest/v1b3/MetricUpdate
 */
export const DataflowJobMetricsSchema = jsonObject({
  metricTime: v.nullish(v.string()),
  metrics: v.nullish(v.array(v.unknown())),
});

function isKind(kind: string): kind is Kind {
  return Object.hasOwn(kindValues, kind);
}

/** Where a parsed entry goes in the Beam form, keyed by everything but `tentative`. */
interface Slot {
  kind: Kind;
  user: boolean;
  metric: BeamMetric<unknown>;
  /** Path of the entry that filled each side, to name both when one appears twice. */
  committedAt?: PathSegments;
  attemptedAt?: PathSegments;
}

/**
 * Validates and converts a Dataflow `JobMetrics` body. `at` prefixes error paths as in `convertBeamJava`.
 * Throws `ValidationError` (400) listing every fault with its path, among them non-cumulative (delta) updates.
 */
export function convertDataflow(
  body: unknown,
  ctx: InputContext,
  at: PathSegments = [],
  options: Readonly<DataflowOptions> = DEFAULT_DATAFLOW_OPTIONS,
): Conversion {
  const jobMetrics = parseInput(DataflowJobMetricsSchema, body, at);
  const issues: InputIssue[] = [];
  const skippedKinds = new Map<string, number>();
  const slots = new Map<string, Slot>();
  let unchecked = 0;

  (jobMetrics.metrics ?? []).forEach((entry, i) => {
    // Past what a reply shows, checking more entries only costs memory: a million bad entries fit in 2 MB of JSON.
    if (issues.length >= MAX_REPORTED_ISSUES) {
      unchecked++;
      return;
    }
    const path = [...at, 'metrics', i];
    const head = checkInput(metricUpdateHead, entry, path);
    if (!head.success) {
      issues.push(...head.issues);
      return;
    }
    const { name, cumulative } = head.output;
    const user = name.origin === 'user';
    if (!user && options.systemMetrics === 'skip') return;

    const kind = (head.output.kind ?? '').toLowerCase();
    if (!isKind(kind)) {
      const shown = head.output.kind || '(none)';
      skippedKinds.set(shown, (skippedKinds.get(shown) ?? 0) + 1);
      return;
    }
    if (cumulative === false) {
      issues.push({
        path: jsonPath([...path, 'cumulative']),
        message: 'delta (non-cumulative) metric updates are not accepted: the relay exports cumulative values; send the JobMetrics of projects.locations.jobs.getMetrics',
      });
    }
    const values = checkInput(kindValues[kind], entry, path);
    if (!values.success) {
      issues.push(...values.issues);
      return;
    }

    const { tentative, namespace, step, ...rest } = name.context ?? {};
    const key = JSON.stringify([user, name.name, kind, namespace, step, Object.entries(rest).sort()]);
    let slot = slots.get(key);
    if (slot === undefined) {
      slot = {
        kind,
        user,
        metric: {
          path,
          name: { namespace: namespace ?? '', name: name.name },
          step,
          // User metrics keep Beam's labels only; a system metric's context is all it has to tell series apart.
          labels: user ? undefined : rest,
        },
      };
      slots.set(key, slot);
    }
    const side = tentative === 'true' ? 'attempted' : 'committed';
    const sideAt = side === 'attempted' ? 'attemptedAt' : 'committedAt';
    const earlier = slot[sideAt];
    if (earlier !== undefined) {
      issues.push({ path: jsonPath(path), message: `the same metric and context already appear at ${jsonPath(earlier)}` });
      return;
    }
    slot[sideAt] = path;
    slot.metric[side] = kindValue(values.output);
  });

  if (unchecked > 0) {
    throw new ValidationError([
      ...issues.slice(0, MAX_REPORTED_ISSUES),
      { path: jsonPath([...at, 'metrics']), message: `checking stopped after ${MAX_REPORTED_ISSUES} faults; ${unchecked} entries were not checked` },
    ]);
  }
  if (issues.length > 0) throw new ValidationError(capIssues(issues));

  const userMetrics = emptyBeamMetrics();
  const systemMetrics = emptyBeamMetrics();
  for (const [shown, count] of skippedKinds) {
    userMetrics.warnings.push(`skipped ${count} metrics of kind ${shown}: no Prometheus form`);
  }
  for (const slot of slots.values()) {
    place(slot.user ? userMetrics : systemMetrics, slot);
  }

  const conversion = convertBeamMetrics(userMetrics, ctx);
  if (systemMetrics.counters.length + systemMetrics.distributions.length + systemMetrics.gauges.length + systemMetrics.stringSets.length === 0) {
    return conversion;
  }
  const system = convertBeamMetrics(systemMetrics, { ...ctx, options: { ...ctx.options, prefix: options.systemPrefix } }, 'Dataflow system');
  return mergeConversions(conversion, system);
}

/** The Beam-form value of a validated entry. */
function kindValue(values: v.InferOutput<(typeof kindValues)[Kind]>): unknown {
  if ('scalar' in values) return values.scalar;
  if ('meanSum' in values) return { count: values.meanCount, sum: values.meanSum };
  if ('distribution' in values) {
    const d = values.distribution;
    return { count: d.count, sum: d.sum, min: d.min ?? undefined, max: d.max ?? undefined };
  }
  return values.set;
}

function place(target: BeamMetrics, slot: Slot): void {
  switch (slot.kind) {
    case 'sum':
      target.counters.push(slot.metric as BeamMetric<number>);
      break;
    case 'max':
    case 'min': {
      const m = slot.metric as BeamMetric<number>;
      target.gauges.push({
        ...m,
        attempted: m.attempted === undefined ? undefined : { value: m.attempted },
        committed: m.committed === undefined ? undefined : { value: m.committed },
      });
      break;
    }
    case 'mean':
    case 'distribution':
      target.distributions.push(slot.metric as BeamMetrics['distributions'][number]);
      break;
    case 'set':
      target.stringSets.push(slot.metric as BeamMetric<string[]>);
      break;
  }
}

