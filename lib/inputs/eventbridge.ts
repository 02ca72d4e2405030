/**
 * EventBridge events: AWS job state changes (Glue, EMR Serverless, Batch, Step Functions) become job-level
 * series; the custom "Beam Pipeline Metrics" event carries a job state, Beam metrics, or both.
 *
 * Envelope (https://docs.aws.amazon.com/eventbridge/latest/ref/overiew-event-structure.html):
 * `version, id, detail-type, source, account, time, region, resources, detail`.
 */
import { mergeConversions } from '../model/conversion.ts';
import * as v from 'valibot';
import type { Conversion, Labels } from '../model/series.ts';
import { jsonPath, ValidationError } from './errors.ts';
import {
  DEFAULT_JOB_SERIES_OPTIONS,
  extraGroupLabels,
  groupLabelsSchema,
  jobSeriesForRawState,
  jobTime,
  type JobFact,
} from './job-state.ts';
import { convertMetricsJson } from './metrics-json.ts';
import type { InputContext } from './options.ts';
import { jsonObject, nonEmptyString, parseInput, type PathSegments } from './schema.ts';

/** An event kind to accept: `*` as the source or detail-type matches any. */
export interface AcceptedEvent {
  source: string;
  detailType: string;
}

export interface EventBridgeOptions {
  accept: readonly AcceptedEvent[];
  /** Adds `run_id` to job series (off by default: unbounded cardinality). */
  runIdLabel?: boolean;
}

/** The detail-type of the event users publish themselves, from any source. */
export const CUSTOM_DETAIL_TYPE = 'Beam Pipeline Metrics';

export const DEFAULT_ACCEPTED_EVENTS: readonly AcceptedEvent[] = Object.freeze([
  Object.freeze({ source: 'aws.glue', detailType: 'Glue Job State Change' }),
  Object.freeze({ source: 'aws.emr-serverless', detailType: 'EMR Serverless Job Run State Change' }),
  Object.freeze({ source: 'aws.batch', detailType: 'Batch Job State Change' }),
  Object.freeze({ source: 'aws.states', detailType: 'Step Functions Execution Status Change' }),
  Object.freeze({ source: '*', detailType: CUSTOM_DETAIL_TYPE }),
]);

export const DEFAULT_EVENTBRIDGE_OPTIONS: Readonly<EventBridgeOptions> = Object.freeze({ accept: DEFAULT_ACCEPTED_EVENTS });

/**
 * Reads the accepted-events setting: comma-separated `source:detail-type` pairs, split at the first `:`
 * (sources have none), e.g. `aws.glue:Glue Job State Change,aws.batch:*,*:Beam Pipeline Metrics`.
 * Throws an Error naming the faulty entry.
 */
export function parseAcceptedEvents(text: string): AcceptedEvent[] {
  const accepted: AcceptedEvent[] = [];
  for (const entry of text.split(',')) {
    const trimmed = entry.trim();
    if (trimmed === '') continue;
    const colon = trimmed.indexOf(':');
    const source = colon === -1 ? '' : trimmed.slice(0, colon).trim();
    const detailType = colon === -1 ? '' : trimmed.slice(colon + 1).trim();
    if (source === '' || detailType === '') {
      throw new Error(`accepted event ${JSON.stringify(trimmed)} is not "source:detail-type" (use * for any detail-type)`);
    }
    accepted.push({ source, detailType });
  }
  if (accepted.length === 0) throw new Error('no accepted events given: every event would be ignored');
  return accepted;
}

export type EventBridgeResult =
  | { kind: 'converted'; group: Labels; conversion: Conversion }
  | { kind: 'ignored'; reason: string };

const envelopeSchema = jsonObject({ source: nonEmptyString, 'detail-type': nonEmptyString });

/** Envelope fields a job event needs besides `detail`: `time` ends a run that reports no end of its own. */
function jobEvent<const E extends v.ObjectEntries>(detail: E) {
  return jsonObject({ time: v.optional(jobTime), detail: jsonObject(detail, 'expected "detail" to be a JSON object') });
}

const optionalTime = v.nullish(jobTime);

/**
 * Glue "Glue Job State Change"
 * (https://docs.aws.amazon.com/glue/latest/dg/automating-awsglue-with-cloudwatch-events.html).
 *
 * @example
 * {"detail-type":"Glue Job State Change","source":"aws.glue","time":"2026-11-20T10:21:07Z",
 *  "detail":{"jobName":"beam-wordcount","severity":"INFO","state":"SUCCEEDED","jobRunId":"jr_6f0a…","message":"Job run succeeded"}}
 */
const GlueEventSchema = jobEvent({ jobName: nonEmptyString, state: nonEmptyString, jobRunId: v.nullish(v.string()) });

/**
 * EMR Serverless "EMR Serverless Job Run State Change"
 * (https://docs.aws.amazon.com/emr/latest/EMR-Serverless-UserGuide/using-eventbridge.html).
 *
 * @example
 * {"detail-type":"EMR Serverless Job Run State Change","source":"aws.emr-serverless","time":"2026-11-20T11:02:44Z",
 *  "detail":{"jobRunId":"00fkq1b2c3d4e5f6","jobRunName":"beam-sessionize","applicationId":"00fkp9a8b7c6d5e4",
 *            "state":"FAILED","previousState":"RUNNING","createdAt":"2026-11-20T10:41:12.004Z","updatedAt":"2026-11-20T11:02:43.918Z"}}
 */
const EmrServerlessEventSchema = jobEvent({
  jobRunId: v.nullish(v.string()),
  jobRunName: v.nullish(v.string()),
  applicationId: nonEmptyString,
  state: nonEmptyString,
  createdAt: optionalTime,
  updatedAt: optionalTime,
});

/**
 * Batch "Batch Job State Change": the detail is a DescribeJobs job, times in epoch ms
 * (https://docs.aws.amazon.com/batch/latest/userguide/batch_job_events.html).
 *
 * @example
 * {"detail-type":"Batch Job State Change","source":"aws.batch","time":"2026-11-20T12:30:00Z",
 *  "detail":{"jobName":"beam-direct-backfill","jobId":"5f1e2d3c-…","status":"SUCCEEDED","startedAt":1763640000000,"stoppedAt":1763641799000}}
 */
const BatchEventSchema = jobEvent({
  jobName: nonEmptyString,
  jobId: v.nullish(v.string()),
  status: nonEmptyString,
  startedAt: optionalTime,
  stoppedAt: optionalTime,
});

/**
 * Step Functions "Step Functions Execution Status Change", times in epoch ms, `stopDate` null while running
 * (https://docs.aws.amazon.com/step-functions/latest/dg/cw-events.html).
 *
 * @example
 * {"detail-type":"Step Functions Execution Status Change","source":"aws.states","time":"2026-11-20T13:00:05Z",
 *  "detail":{"executionArn":"arn:aws:states:eu-west-1:123456789012:execution:nightly-beam:run-2026-11-20",
 *            "stateMachineArn":"arn:aws:states:eu-west-1:123456789012:stateMachine:nightly-beam",
 *            "name":"run-2026-11-20","status":"TIMED_OUT","startDate":1763607600000,"stopDate":1763643605000}}
 */
const StepFunctionsEventSchema = jobEvent({
  executionArn: v.nullish(v.string()),
  stateMachineArn: v.nullish(v.string()),
  name: v.nullish(v.string()),
  status: nonEmptyString,
  startDate: optionalTime,
  stopDate: optionalTime,
});

/**
 * The event users publish (PutEvents) from any source: `job` names the grouping key, `labels` extend it,
 * `state` is a Beam `PipelineResult.State` name, `metrics` a MetricsHttpSink, Beam Python or Dataflow body.
 *
 * @example
 * {"detail-type":"Beam Pipeline Metrics","source":"com.example.pipelines","time":"2026-11-20T14:00:00Z",
 *  "detail":{"job":"orders-enrichment","labels":{"env":"prod"},"state":"DONE",
 *            "metrics":{"counters":[{"attempted":88120,"committed":88120,"name":{"name":"ordersEnriched","namespace":"enrich"},"step":"Enrich"}]}}}
 */
const CustomEventSchema = jobEvent({
  job: nonEmptyString,
  labels: v.optional(groupLabelsSchema),
  state: v.optional(nonEmptyString),
  metrics: v.optional(v.unknown()),
});

type Converted = Extract<EventBridgeResult, { kind: 'converted' }>;
type Reader = (event: unknown, ctx: InputContext, options: EventBridgeOptions) => Converted;

const AWS_READERS: ReadonlyMap<string, Reader> = new Map<string, Reader>([
  [key('aws.glue', 'Glue Job State Change'), readGlue],
  [key('aws.emr-serverless', 'EMR Serverless Job Run State Change'), readEmrServerless],
  [key('aws.batch', 'Batch Job State Change'), readBatch],
  [key('aws.states', 'Step Functions Execution Status Change'), readStepFunctions],
]);

/**
 * Converts one EventBridge event into a grouping key (`job` and any extra labels) and the conversion, or
 * says why it is ignored (not accepted, or a kind no reader knows): the handler logs and acknowledges those,
 * so they are never retried. A malformed accepted event throws a ValidationError with paths (`$.detail.state`).
 */
export function convertEventBridgeEvent(
  event: unknown,
  ctx: InputContext,
  options: EventBridgeOptions = DEFAULT_EVENTBRIDGE_OPTIONS,
): EventBridgeResult {
  const envelope = parseInput(envelopeSchema, event);
  const source = envelope.source;
  const detailType = envelope['detail-type'];
  const described = `${JSON.stringify(source)} / ${JSON.stringify(detailType)}`;
  const accepted = options.accept.some(
    (a) => (a.source === '*' || a.source === source) && (a.detailType === '*' || a.detailType === detailType),
  );
  if (!accepted) return { kind: 'ignored', reason: `event ${described} is not among the accepted events` };
  const reader = detailType === CUSTOM_DETAIL_TYPE ? readCustom : AWS_READERS.get(key(source, detailType));
  if (reader === undefined) return { kind: 'ignored', reason: `event ${described} is accepted but no reader knows it` };
  return reader(event, ctx, options);
}

function key(source: string, detailType: string): string {
  return `${source}\u0000${detailType}`;
}

function readGlue(event: unknown, ctx: InputContext, options: EventBridgeOptions): Converted {
  const { time, detail } = parseInput(GlueEventSchema, event);
  return jobEventResult(
    { platform: 'glue', job: detail.jobName, rawState: detail.state, runId: detail.jobRunId ?? undefined, endMs: time },
    ['detail', 'state'],
    ctx,
    options,
  );
}

function readEmrServerless(event: unknown, ctx: InputContext, options: EventBridgeOptions): Converted {
  const { time, detail } = parseInput(EmrServerlessEventSchema, event);
  return jobEventResult(
    {
      platform: 'emr-serverless',
      // Runs without a name are grouped under their application.
      job: detail.jobRunName || detail.applicationId,
      rawState: detail.state,
      runId: detail.jobRunId ?? undefined,
      startMs: detail.createdAt ?? undefined,
      // updatedAt is when the run entered this state: for a terminal state, its end.
      endMs: detail.updatedAt ?? time,
    },
    ['detail', 'state'],
    ctx,
    options,
  );
}

function readBatch(event: unknown, ctx: InputContext, options: EventBridgeOptions): Converted {
  const { time, detail } = parseInput(BatchEventSchema, event);
  return jobEventResult(
    {
      platform: 'batch',
      job: detail.jobName,
      rawState: detail.status,
      runId: detail.jobId ?? undefined,
      startMs: detail.startedAt ?? undefined,
      endMs: detail.stoppedAt ?? time,
    },
    ['detail', 'status'],
    ctx,
    options,
  );
}

function readStepFunctions(event: unknown, ctx: InputContext, options: EventBridgeOptions): Converted {
  const { time, detail } = parseInput(StepFunctionsEventSchema, event);
  const job = stateMachineName(detail.stateMachineArn) ?? stateMachineName(detail.executionArn);
  if (job === undefined) {
    throw new ValidationError([
      {
        path: jsonPath(['detail', 'stateMachineArn']),
        message: 'expected a state machine ARN (arn:aws:states:<region>:<account>:stateMachine:<name>) or an execution ARN',
      },
    ]);
  }
  return jobEventResult(
    {
      platform: 'stepfunctions',
      job,
      rawState: detail.status,
      runId: detail.name ?? undefined,
      startMs: detail.startDate ?? undefined,
      endMs: detail.stopDate ?? time,
    },
    ['detail', 'status'],
    ctx,
    options,
  );
}

/**
 * The state machine's name from its ARN (`…:stateMachine:<name>[:version|alias]`) or from an execution ARN
 * (`…:execution:<machine>:<execution>`, express workflows `…:express:<machine>:<execution>:<id>`).
 */
function stateMachineName(arn: string | null | undefined): string | undefined {
  const parts = arn?.split(':');
  if (parts === undefined || parts[0] !== 'arn' || parts[2] !== 'states') return undefined;
  const resource = parts[5];
  if (resource !== 'stateMachine' && resource !== 'execution' && resource !== 'express') return undefined;
  return parts[6] || undefined;
}

function readCustom(event: unknown, ctx: InputContext, options: EventBridgeOptions): Converted {
  const { time, detail } = parseInput(CustomEventSchema, event);
  if (detail.state === undefined && detail.metrics === undefined) {
    throw new ValidationError([{ path: jsonPath(['detail']), message: 'expected "state", "metrics" or both' }]);
  }
  const job: Labels = { job: detail.job };
  const extra = extraGroupLabels(detail.labels, job);
  const parts: Conversion[] = [];
  if (detail.state !== undefined) {
    parts.push(
      jobConversion({ platform: 'custom', job: detail.job, rawState: detail.state, endMs: time }, ['detail', 'state'], ctx, options),
    );
  }
  if (detail.metrics !== undefined) parts.push(convertMetricsJson(detail.metrics, ctx, ['detail', 'metrics']).conversion);
  if (extra.warnings.length > 0) parts.push({ families: [], points: [], warnings: extra.warnings });
  return { kind: 'converted', group: { ...job, ...extra.labels }, conversion: mergeConversions(...parts) };
}

function jobEventResult(fact: Omit<JobFact, 'state'>, statePath: PathSegments, ctx: InputContext, options: EventBridgeOptions): Converted {
  return { kind: 'converted', group: { job: fact.job }, conversion: jobConversion(fact, statePath, ctx, options) };
}

function jobConversion(fact: Omit<JobFact, 'state'>, statePath: PathSegments, ctx: InputContext, options: EventBridgeOptions): Conversion {
  return jobSeriesForRawState(fact, statePath, ctx, { ...DEFAULT_JOB_SERIES_OPTIONS, runIdLabel: options.runIdLabel ?? false });
}
