/**
 * The completion report a launcher POSTs once, when a pipeline ends, to the webhook route
 * (`/metrics/job/<job>{/label/value}*`): the final Beam state, optional start and end times, optional final
 * metrics and extra grouping labels. It becomes job series (platform `webhook`) plus the converted metrics.
 */
import { mergeConversions } from '../model/conversion.ts';
import * as v from 'valibot';
import type { Conversion, Labels } from '../model/series.ts';
import { ValidationError } from './errors.ts';
import { extraGroupLabels, groupLabelsSchema, jobSeriesForRawState, jobTime } from './job-state.ts';
import { convertMetricsJson, detectMetricsJsonFormat } from './metrics-json.ts';
import type { InputContext } from './options.ts';
import { jsonObject, nonEmptyString, parseInput } from './schema.ts';

/**
 * `state`: a Beam `PipelineResult.State` name (Java or Python, Dataflow's `JOB_STATE_` prefix allowed);
 * `startTime` / `endTime`: ISO 8601 or epoch ms; `metrics`: a MetricsHttpSink, Beam Python or Dataflow body;
 * `labels`: extra grouping labels (names sanitised; never overriding the path's).
 *
 * @example
 * {"state":"DONE","startTime":"2026-11-20T10:00:00Z","endTime":1795176000000,"labels":{"env":"prod"},
 *  "metrics":{"counters":[{"attempted":88120,"name":{"name":"ordersEnriched","namespace":"enrich"},"step":"Enrich"}]}}
 */
const CompletionReportSchema = jsonObject({
  state: nonEmptyString,
  startTime: v.nullish(jobTime),
  endTime: v.nullish(jobTime),
  metrics: v.optional(v.unknown()),
  labels: v.optional(groupLabelsSchema),
});

/**
 * Whether a JSON body is a completion report: an object with a `state` key that none of the metrics JSON
 * shapes claims (by `detectMetricsJsonFormat`: no `counters`, `distributions`, `gauges`, `stringSets`,
 * `string_sets`, … lists, no Dataflow `metrics` array or `metricTime`). A report's own `metrics` is an object,
 * never an array. The type of `state` is not looked at, so that a wrong one gets the report's error message.
 */
export function isCompletionReport(body: unknown): boolean {
  return (
    typeof body === 'object' &&
    body !== null &&
    !Array.isArray(body) &&
    Object.hasOwn(body, 'state') &&
    detectMetricsJsonFormat(body) === undefined
  );
}

/**
 * Converts a completion report posted under grouping key `group`: the job series and the report's metrics
 * in one conversion, and the report's extra grouping labels (those the path does not set already). Faults
 * are ValidationErrors with paths (`$.endTime`, `$.metrics.counters[0].attempted`).
 */
export function convertCompletionReport(body: unknown, ctx: InputContext, group: Labels): { conversion: Conversion; extraGroup: Labels } {
  const report = parseInput(CompletionReportSchema, body);
  const startMs = report.startTime ?? undefined;
  const endMs = report.endTime ?? undefined;
  if (startMs !== undefined && endMs !== undefined && endMs < startMs) {
    throw new ValidationError([{ path: '$.endTime', message: 'is before startTime' }]);
  }
  const extra = extraGroupLabels(report.labels, group);
  const parts: Conversion[] = [jobSeriesForRawState({ platform: 'webhook', rawState: report.state, startMs, endMs }, ['state'], ctx)];
  if (report.metrics !== undefined) parts.push(convertMetricsJson(report.metrics, ctx, ['metrics']).conversion);
  if (extra.warnings.length > 0) parts.push({ families: [], points: [], warnings: extra.warnings });
  return { conversion: mergeConversions(...parts), extraGroup: extra.labels };
}
