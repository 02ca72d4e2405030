/**
 * Job-level series, the one implementation shared by EventBridge job events and completion reports.
 *
 * Every platform's own state names are normalised to one small vocabulary, so that one alert rule
 * (`beam_job_state{state="failed"} == 1`) covers Glue, EMR Serverless, Batch, Step Functions and Beam launchers.
 */
import * as v from 'valibot';
import { sanitizeLabelName } from '../model/names.ts';
import type { Conversion, Labels, MetricFamily, Point } from '../model/series.ts';
import { jsonPath, ValidationError } from './errors.ts';
import type { InputContext } from './options.ts';
import { jsonRecord, type PathSegments } from './schema.ts';

export type JobPlatform = 'glue' | 'emr-serverless' | 'batch' | 'stepfunctions' | 'custom' | 'webhook';

/** The normalised states, in the order the state set lists them. */
export const JOB_STATES = ['pending', 'running', 'succeeded', 'failed', 'cancelled', 'timed_out'] as const;
export type JobState = (typeof JOB_STATES)[number];

const TERMINAL: ReadonlySet<JobState> = new Set(['succeeded', 'failed', 'cancelled', 'timed_out']);

/** What an event or report tells about one job at one moment. */
export interface JobFact {
  platform: JobPlatform;
  /** Goes into the grouping key, not onto the points. */
  job: string;
  state: JobState;
  /** The platform's own name for the state, for messages. */
  rawState: string;
  runId?: string;
  startMs?: number;
  /** Ignored unless the state is terminal. */
  endMs?: number;
}

export interface JobSeriesOptions {
  /** Adds `run_id` to every series. Off by default: one new series per run is unbounded cardinality. */
  runIdLabel: boolean;
}

export const DEFAULT_JOB_SERIES_OPTIONS: Readonly<JobSeriesOptions> = Object.freeze({ runIdLabel: false });

/**
 * Beam runners' states: Java `PipelineResult.State`, Python `PipelineState` (a superset, taken from Dataflow's
 * `JobState`, which `normaliseJobState` also reads with its `JOB_STATE_` prefix). `null`: the runner does not know.
 */
const BEAM_STATES: Readonly<Record<string, JobState | null>> = {
  UNKNOWN: null,
  UNRECOGNIZED: null,
  // Java: "paused or not yet started".
  STOPPED: 'pending',
  STARTING: 'pending',
  PENDING: 'pending',
  QUEUED: 'pending',
  RUNNING: 'running',
  // Stopping, draining and cleaning up: the job still runs until it reaches a terminal state.
  CANCELLING: 'running',
  DRAINING: 'running',
  RESOURCE_CLEANING_UP: 'running',
  // The job was replaced by an update that carries on under the same name: for that name, it still runs.
  UPDATED: 'running',
  DONE: 'succeeded',
  // Draining is how a streaming pipeline is stopped on purpose; it ends without error.
  DRAINED: 'succeeded',
  FAILED: 'failed',
  CANCELLED: 'cancelled',
};

/** Each platform's state names (AWS API enums) → the normalised state. */
const PLATFORM_STATES: Readonly<Record<JobPlatform, Readonly<Record<string, JobState | null>>>> = {
  // Glue JobRunState (https://docs.aws.amazon.com/glue/latest/dg/job-run-statuses.html).
  glue: {
    STARTING: 'pending',
    WAITING: 'pending',
    RUNNING: 'running',
    STOPPING: 'running',
    STOPPED: 'cancelled',
    SUCCEEDED: 'succeeded',
    FAILED: 'failed',
    // "A workflow, schedule trigger, or event trigger attempted to run a deleted job."
    ERROR: 'failed',
    TIMEOUT: 'timed_out',
    // In the API enum, undocumented in the guide: a run that waited for resources past its limit.
    EXPIRED: 'timed_out',
  },
  // EMR Serverless JobRunState.
  'emr-serverless': {
    SUBMITTED: 'pending',
    PENDING: 'pending',
    SCHEDULED: 'pending',
    QUEUED: 'pending',
    RUNNING: 'running',
    CANCELLING: 'running',
    SUCCESS: 'succeeded',
    FAILED: 'failed',
    CANCELLED: 'cancelled',
  },
  // Batch JobStatus.
  batch: {
    SUBMITTED: 'pending',
    PENDING: 'pending',
    RUNNABLE: 'pending',
    STARTING: 'pending',
    RUNNING: 'running',
    SUCCEEDED: 'succeeded',
    FAILED: 'failed',
  },
  // Step Functions ExecutionStatus.
  stepfunctions: {
    PENDING_REDRIVE: 'pending',
    RUNNING: 'running',
    SUCCEEDED: 'succeeded',
    FAILED: 'failed',
    TIMED_OUT: 'timed_out',
    ABORTED: 'cancelled',
  },
  custom: BEAM_STATES,
  webhook: BEAM_STATES,
};

/**
 * Maps a platform's state name to the normalised state. Case-insensitive; for `custom` and `webhook` (Beam
 * states) Dataflow's `JOB_STATE_` prefix is accepted. Returns `null` for a state that says the runner does
 * not know (Beam `UNKNOWN`, `UNRECOGNIZED`) and `undefined` for a name the platform does not have.
 */
export function normaliseJobState(raw: string, platform: JobPlatform): JobState | null | undefined {
  const states = PLATFORM_STATES[platform];
  let key = raw.toUpperCase();
  if (states === BEAM_STATES && key.startsWith('JOB_STATE_')) key = key.slice('JOB_STATE_'.length);
  return Object.hasOwn(states, key) ? states[key] : undefined;
}

/** The state names a platform reports, for error messages. */
export function platformStateNames(platform: JobPlatform): string[] {
  return Object.keys(PLATFORM_STATES[platform]);
}

export function isTerminalJobState(state: JobState): boolean {
  return TERMINAL.has(state);
}

/**
 * The job-level series for one fact: the `job_state` state set, start / end timestamps, duration, and the
 * last success or failure time. `platform` labels every point; the job name belongs in the grouping key.
 * Points carry no timestamp (the ingest time applies). A terminal state without a known end time ends at
 * the ingest time. "Failure" means failed or timed out: a cancelled run was stopped on purpose, and counting
 * it would page someone for a deliberate act.
 */
export function jobSeries(
  fact: Omit<JobFact, 'job'>,
  ctx: InputContext,
  options: JobSeriesOptions = DEFAULT_JOB_SERIES_OPTIONS,
): Conversion {
  const prefix = ctx.options.prefix;
  const labels: Labels = { platform: fact.platform };
  if (options.runIdLabel && fact.runId !== undefined && fact.runId !== '') labels.run_id = fact.runId;

  const families: MetricFamily[] = [];
  const points: Point[] = [];
  const add = (family: MetricFamily, value: number, extra?: Labels): void => {
    if (families[families.length - 1]?.name !== family.name) families.push(family);
    points.push({ name: family.name, labels: extra ? { ...labels, ...extra } : { ...labels }, value });
  };

  const stateFamily: MetricFamily = {
    name: `${prefix}job_state`,
    type: 'stateset',
    help: 'Current state of the job: 1 for the state it is in, 0 for the others.',
  };
  for (const s of JOB_STATES) add(stateFamily, s === fact.state ? 1 : 0, { state: s });

  const terminal = isTerminalJobState(fact.state);
  const endMs = terminal ? (fact.endMs ?? ctx.nowMs) : undefined;

  if (fact.startMs !== undefined) {
    add(gauge(`${prefix}job_start_timestamp_seconds`, 'When the job run started.'), fact.startMs / 1000);
  }
  if (endMs !== undefined) {
    add(gauge(`${prefix}job_end_timestamp_seconds`, 'When the job run reached a terminal state.'), endMs / 1000);
  }
  if (fact.startMs !== undefined && terminal && fact.endMs !== undefined && fact.endMs >= fact.startMs) {
    add(gauge(`${prefix}job_duration_seconds`, 'How long the job run took, start to end.'), (fact.endMs - fact.startMs) / 1000);
  }
  if (endMs !== undefined && fact.state === 'succeeded') {
    add(gauge(`${prefix}job_last_success_timestamp_seconds`, 'When the job last succeeded.'), endMs / 1000);
  }
  if (endMs !== undefined && (fact.state === 'failed' || fact.state === 'timed_out')) {
    add(gauge(`${prefix}job_last_failure_timestamp_seconds`, 'When the job last failed or timed out.'), endMs / 1000);
  }

  const conversion: Conversion = { families, points };
  if (terminal) conversion.jobEnded = true;
  return conversion;
}

/**
 * The job series for a platform's own state name. A name the platform does not have is a ValidationError at
 * `statePath`; a state saying the runner does not know (Beam `UNKNOWN`, `UNRECOGNIZED`) yields no series and a
 * warning, so that the metrics sent with it still count.
 */
export function jobSeriesForRawState(
  fact: Omit<JobFact, 'job' | 'state'>,
  statePath: PathSegments,
  ctx: InputContext,
  options: JobSeriesOptions = DEFAULT_JOB_SERIES_OPTIONS,
): Conversion {
  const state = normaliseJobState(fact.rawState, fact.platform);
  if (state === undefined) {
    const expected = platformStateNames(fact.platform).join(', ');
    throw new ValidationError([
      { path: jsonPath(statePath), message: `unknown ${fact.platform} state ${JSON.stringify(fact.rawState)}; expected one of ${expected}` },
    ]);
  }
  if (state === null) {
    return { families: [], points: [], warnings: [`state ${JSON.stringify(fact.rawState)} says nothing about the job: no job series`] };
  }
  return jobSeries({ ...fact, state }, ctx, options);
}

function gauge(name: string, help: string): MetricFamily {
  return { name, type: 'gauge', help };
}

/** Epoch milliseconds below this (March 1973) are taken for epoch seconds sent by mistake. */
const MIN_EPOCH_MS = 1e11;

/**
 * A job's start or end time as events and reports carry it: epoch milliseconds or an ISO 8601 timestamp
 * (with a zone), read as epoch milliseconds.
 */
export const jobTime = v.pipe(
  v.union(
    [
      v.config(
        v.pipe(
          v.string(),
          v.isoTimestamp('expected an ISO 8601 timestamp with a time zone, e.g. 2026-11-20T10:41:12Z'),
          v.check((s) => Number.isFinite(Date.parse(s)), 'expected an ISO 8601 timestamp'),
        ),
        { abortPipeEarly: true },
      ),
      v.config(
        v.pipe(
          v.number(),
          v.finite('must be a finite number'),
          v.minValue(MIN_EPOCH_MS, 'looks like epoch seconds; expected epoch milliseconds'),
        ),
        { abortPipeEarly: true },
      ),
    ],
    'expected epoch milliseconds or an ISO 8601 timestamp',
  ),
  // Outside the union: a transformation after a failed check would hide the check's message behind the union's.
  v.transform((t) => (typeof t === 'string' ? Date.parse(t) : t)),
);

/** Extra grouping labels a job event or report asks for; values must not be empty (remote-write 1.0 spec). */
export const groupLabelsSchema = jsonRecord(v.pipe(v.string(), v.minLength(1, 'must not be empty')));

/**
 * The extra grouping labels an event or report asks for, under sanitised names. A label the grouping key
 * already has (`job` above all) is not overridden: it is left out with a warning, as the Pushgateway lets
 * path labels win over body labels.
 */
export function extraGroupLabels(
  extra: Readonly<Record<string, string>> | undefined,
  group: Readonly<Labels>,
): { labels: Labels; warnings: string[] } {
  const labels: Labels = {};
  const warnings: string[] = [];
  for (const [raw, value] of Object.entries(extra ?? {})) {
    const name = sanitizeLabelName(raw);
    if (Object.hasOwn(group, name) || Object.hasOwn(labels, name)) {
      warnings.push(`label ${JSON.stringify(raw)} ignored: the grouping key already has ${JSON.stringify(name)}`);
    } else {
      labels[name] = value;
    }
  }
  return { labels, warnings };
}

