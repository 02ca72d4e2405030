import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  convertEventBridgeEvent,
  DEFAULT_ACCEPTED_EVENTS,
  parseAcceptedEvents,
} from '../../../lib/inputs/eventbridge.ts';
import type { EventBridgeResult } from '../../../lib/inputs/eventbridge.ts';
import { ValidationError } from '../../../lib/inputs/errors.ts';
import type { InputIssue } from '../../../lib/inputs/errors.ts';
import { JOB_STATES } from '../../../lib/inputs/job-state.ts';
import type { JobState } from '../../../lib/inputs/job-state.ts';
import { DEFAULT_CONVERSION_OPTIONS } from '../../../lib/inputs/options.ts';
import type { InputContext } from '../../../lib/inputs/options.ts';
import type { Conversion, Labels, Point } from '../../../lib/model/series.ts';

const ctx: InputContext = { nowMs: Date.UTC(2026, 10, 20, 14, 5), options: { ...DEFAULT_CONVERSION_OPTIONS } };

type Event = { source: string; 'detail-type': string; time?: string; detail: Record<string, unknown> } & Record<string, unknown>;

function fixture(name: string): Event {
  return JSON.parse(readFileSync(new URL(`../../fixtures/eventbridge/${name}.json`, import.meta.url), 'utf8')) as Event;
}

/** A fixture with `detail` fields replaced (undefined removes one). */
function withDetail(name: string, detail: Record<string, unknown>): Event {
  const event = fixture(name);
  event.detail = { ...event.detail, ...detail };
  for (const [k, val] of Object.entries(detail)) if (val === undefined) delete event.detail[k];
  return event;
}

function converted(result: EventBridgeResult): { group: Labels; conversion: Conversion } {
  assert.equal(result.kind, 'converted', result.kind === 'ignored' ? result.reason : '');
  return result as Extract<EventBridgeResult, { kind: 'converted' }>;
}

function issuesOf(event: unknown): InputIssue[] {
  try {
    convertEventBridgeEvent(event, ctx);
  } catch (err) {
    assert.ok(err instanceof ValidationError, `expected a ValidationError, got ${String(err)}`);
    return err.issues;
  }
  assert.fail('expected the event to be rejected');
}

const seconds = (iso: string): number => Date.parse(iso) / 1000;

function stateSet(platform: string, current: JobState): Point[] {
  return JOB_STATES.map((s) => ({ name: 'beam_job_state', labels: { platform, state: s }, value: s === current ? 1 : 0 }));
}

describe('convertEventBridgeEvent: AWS job events', () => {
  it('turns a Glue success into job series ending at the event time', () => {
    const { group, conversion } = converted(convertEventBridgeEvent(fixture('glue-job-succeeded'), ctx));

    const l = { platform: 'glue' };
    const end = seconds('2026-11-20T10:21:07Z');
    assert.deepEqual(group, { job: 'beam-wordcount' });
    assert.deepEqual(conversion.points, [
      ...stateSet('glue', 'succeeded'),
      { name: 'beam_job_end_timestamp_seconds', labels: l, value: end },
      { name: 'beam_job_last_success_timestamp_seconds', labels: l, value: end },
    ]);
    assert.equal(conversion.jobEnded, true);
  });

  it('turns an EMR Serverless failure into series timed by createdAt and updatedAt', () => {
    const { group, conversion } = converted(convertEventBridgeEvent(fixture('emr-serverless-job-failed'), ctx));

    const l = { platform: 'emr-serverless' };
    const start = seconds('2026-11-20T10:41:12.004Z');
    const end = seconds('2026-11-20T11:02:43.918Z');
    assert.deepEqual(group, { job: 'beam-sessionize' });
    assert.deepEqual(conversion.points, [
      ...stateSet('emr-serverless', 'failed'),
      { name: 'beam_job_start_timestamp_seconds', labels: l, value: start },
      { name: 'beam_job_end_timestamp_seconds', labels: l, value: end },
      { name: 'beam_job_duration_seconds', labels: l, value: 1291.914 },
      { name: 'beam_job_last_failure_timestamp_seconds', labels: l, value: end },
    ]);
    assert.equal(conversion.jobEnded, true);
  });

  it('turns a Batch success into series timed by startedAt and stoppedAt', () => {
    const { group, conversion } = converted(convertEventBridgeEvent(fixture('batch-job-succeeded'), ctx));

    const l = { platform: 'batch' };
    const end = seconds('2026-11-20T12:29:59Z');
    assert.deepEqual(group, { job: 'beam-direct-backfill' });
    assert.deepEqual(conversion.points, [
      ...stateSet('batch', 'succeeded'),
      { name: 'beam_job_start_timestamp_seconds', labels: l, value: seconds('2026-11-20T12:00:00Z') },
      { name: 'beam_job_end_timestamp_seconds', labels: l, value: end },
      { name: 'beam_job_duration_seconds', labels: l, value: 1799 },
      { name: 'beam_job_last_success_timestamp_seconds', labels: l, value: end },
    ]);
  });

  it('names a Step Functions execution by its state machine and records the timeout as a failure', () => {
    const { group, conversion } = converted(convertEventBridgeEvent(fixture('stepfunctions-execution-timed-out'), ctx));

    const l = { platform: 'stepfunctions' };
    const end = seconds('2026-11-20T13:00:05Z');
    assert.deepEqual(group, { job: 'nightly-beam' });
    assert.deepEqual(conversion.points, [
      ...stateSet('stepfunctions', 'timed_out'),
      { name: 'beam_job_start_timestamp_seconds', labels: l, value: seconds('2026-11-20T03:00:00Z') },
      { name: 'beam_job_end_timestamp_seconds', labels: l, value: end },
      { name: 'beam_job_duration_seconds', labels: l, value: 36005 },
      { name: 'beam_job_last_failure_timestamp_seconds', labels: l, value: end },
    ]);
  });

  it('emits only the state set and start for a running Step Functions execution (stopDate null)', () => {
    const event = withDetail('stepfunctions-execution-timed-out', { status: 'RUNNING', stopDate: null });

    const { conversion } = converted(convertEventBridgeEvent(event, ctx));

    assert.deepEqual(conversion.points.slice(JOB_STATES.length).map((p) => p.name), ['beam_job_start_timestamp_seconds']);
    assert.equal(conversion.jobEnded, undefined);
  });

  it('takes the state machine name from the execution ARN, express workflows included, when stateMachineArn is absent', () => {
    const standard = withDetail('stepfunctions-execution-timed-out', { stateMachineArn: undefined });
    const express = withDetail('stepfunctions-execution-timed-out', {
      stateMachineArn: undefined,
      executionArn: 'arn:aws:states:eu-west-1:123456789012:express:hourly-beam:run-7:4f1c2d3e',
    });

    assert.deepEqual(converted(convertEventBridgeEvent(standard, ctx)).group, { job: 'nightly-beam' });
    assert.deepEqual(converted(convertEventBridgeEvent(express, ctx)).group, { job: 'hourly-beam' });
  });

  it('groups an EMR Serverless run without a name under its application', () => {
    const event = withDetail('emr-serverless-job-failed', { jobRunName: undefined });

    assert.deepEqual(converted(convertEventBridgeEvent(event, ctx)).group, { job: '00fkp9a8b7c6d5e4' });
  });

  it('adds the run id label only when asked', () => {
    const options = { accept: DEFAULT_ACCEPTED_EVENTS, runIdLabel: true };

    const { conversion } = converted(convertEventBridgeEvent(fixture('batch-job-succeeded'), ctx, options));

    assert.ok(conversion.points.every((p) => p.labels.run_id === '5f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b'));
  });
});

describe('convertEventBridgeEvent: the custom "Beam Pipeline Metrics" event', () => {
  it('merges the job series and the converted metrics under the job and its extra labels', () => {
    const { group, conversion } = converted(convertEventBridgeEvent(fixture('custom-beam-metrics'), ctx));

    const l = { platform: 'custom' };
    const end = seconds('2026-11-20T14:00:00Z');
    assert.deepEqual(group, { job: 'orders-enrichment', env: 'prod', runner: 'FlinkRunner' });
    assert.deepEqual(conversion.points, [
      ...stateSet('custom', 'succeeded'),
      { name: 'beam_job_end_timestamp_seconds', labels: l, value: end },
      { name: 'beam_job_last_success_timestamp_seconds', labels: l, value: end },
      { name: 'beam_ordersEnriched_total', labels: { namespace: 'enrich', step: 'Enrich/ParMultiDo(Lookup)' }, value: 88120 },
    ]);
    assert.deepEqual(conversion.families.map((f) => [f.name, f.type]), [
      ['beam_job_state', 'stateset'],
      ['beam_job_end_timestamp_seconds', 'gauge'],
      ['beam_job_last_success_timestamp_seconds', 'gauge'],
      ['beam_ordersEnriched_total', 'counter'],
    ]);
    assert.equal(conversion.jobEnded, true);
  });

  it('accepts metrics without a state, from any source', () => {
    const event = { ...withDetail('custom-beam-metrics', { state: undefined, labels: undefined }), source: 'my.launcher' };

    const { group, conversion } = converted(convertEventBridgeEvent(event, ctx));

    assert.deepEqual(group, { job: 'orders-enrichment' });
    assert.deepEqual(conversion.points.map((p) => p.name), ['beam_ordersEnriched_total']);
    assert.equal(conversion.jobEnded, undefined);
  });

  it('accepts a state without metrics', () => {
    const event = withDetail('custom-beam-metrics', { state: 'RUNNING', metrics: undefined });

    const { conversion } = converted(convertEventBridgeEvent(event, ctx));

    assert.deepEqual(conversion.points, stateSet('custom', 'running'));
  });

  it('keeps the metrics and warns when the state is UNKNOWN', () => {
    const event = withDetail('custom-beam-metrics', { state: 'UNKNOWN' });

    const { conversion } = converted(convertEventBridgeEvent(event, ctx));

    assert.deepEqual(conversion.points.map((p) => p.name), ['beam_ordersEnriched_total']);
    assert.deepEqual(conversion.warnings, ['state "UNKNOWN" says nothing about the job: no job series']);
  });

  it('sanitises extra label names and never lets them override job', () => {
    const event = withDetail('custom-beam-metrics', { labels: { 'team-name': 'data', job: 'other' } });

    const { group, conversion } = converted(convertEventBridgeEvent(event, ctx));

    assert.deepEqual(group, { job: 'orders-enrichment', team_name: 'data' });
    assert.deepEqual(conversion.warnings, ['label "job" ignored: the grouping key already has "job"']);
  });
});

describe('convertEventBridgeEvent: ignored events', () => {
  it('ignores an event no rule accepts', () => {
    const event = { ...fixture('glue-job-succeeded'), source: 'aws.ec2', 'detail-type': 'EC2 Instance State-change Notification' };

    assert.deepEqual(convertEventBridgeEvent(event, ctx), {
      kind: 'ignored',
      reason: 'event "aws.ec2" / "EC2 Instance State-change Notification" is not among the accepted events',
    });
  });

  it('ignores an accepted kind that no reader knows', () => {
    const options = { accept: parseAcceptedEvents('aws.batch:*') };
    const event = { ...fixture('batch-job-succeeded'), 'detail-type': 'Batch Job Queue Blocked' };

    assert.deepEqual(convertEventBridgeEvent(event, ctx, options), {
      kind: 'ignored',
      reason: 'event "aws.batch" / "Batch Job Queue Blocked" is accepted but no reader knows it',
    });
  });

  it('ignores a known kind the configuration leaves out', () => {
    const options = { accept: parseAcceptedEvents('aws.glue:Glue Job State Change') };

    const result = convertEventBridgeEvent(fixture('custom-beam-metrics'), ctx, options);

    assert.equal(result.kind, 'ignored');
  });
});

describe('convertEventBridgeEvent: malformed accepted events name the path', () => {
  const cases: Array<[string, unknown, InputIssue[]]> = [
    ['an event that is not an object', [1, 2], [{ path: '$', message: 'expected a JSON object' }]],
    ['an event without a source', { 'detail-type': 'Glue Job State Change', detail: {} }, [{ path: '$.source', message: 'is required' }]],
    ['a detail that is not an object', { ...fixture('glue-job-succeeded'), detail: 'x' }, [{ path: '$.detail', message: 'expected "detail" to be a JSON object' }]],
    ['a Glue event without a state', withDetail('glue-job-succeeded', { state: undefined }), [{ path: '$.detail.state', message: 'is required' }]],
    [
      'a Glue state Glue does not have',
      withDetail('glue-job-succeeded', { state: 'EXPLODED' }),
      [
        {
          path: '$.detail.state',
          message: 'unknown glue state "EXPLODED"; expected one of STARTING, WAITING, RUNNING, STOPPING, STOPPED, SUCCEEDED, FAILED, ERROR, TIMEOUT, EXPIRED',
        },
      ],
    ],
    ['a Batch status that is not a string', withDetail('batch-job-succeeded', { status: 3 }), [{ path: '$.detail.status', message: 'Invalid type: Expected string but received 3' }]],
    [
      'a Batch start time in seconds',
      withDetail('batch-job-succeeded', { startedAt: 1795176000 }),
      [{ path: '$.detail.startedAt', message: 'looks like epoch seconds; expected epoch milliseconds' }],
    ],
    [
      'an EMR Serverless createdAt that is not a timestamp',
      withDetail('emr-serverless-job-failed', { createdAt: 'yesterday' }),
      [{ path: '$.detail.createdAt', message: 'expected an ISO 8601 timestamp with a time zone, e.g. 2026-11-20T10:41:12Z' }],
    ],
    [
      'a Step Functions event without a usable ARN',
      withDetail('stepfunctions-execution-timed-out', { stateMachineArn: 'nightly-beam', executionArn: undefined }),
      [
        {
          path: '$.detail.stateMachineArn',
          message: 'expected a state machine ARN (arn:aws:states:<region>:<account>:stateMachine:<name>) or an execution ARN',
        },
      ],
    ],
    ['a custom event without job', withDetail('custom-beam-metrics', { job: undefined }), [{ path: '$.detail.job', message: 'is required' }]],
    [
      'a custom event with neither state nor metrics',
      withDetail('custom-beam-metrics', { state: undefined, metrics: undefined }),
      [{ path: '$.detail', message: 'expected "state", "metrics" or both' }],
    ],
    ['a custom label value that is empty', withDetail('custom-beam-metrics', { labels: { env: '' } }), [{ path: '$.detail.labels.env', message: 'must not be empty' }]],
    [
      'a custom state Beam does not have',
      withDetail('custom-beam-metrics', { state: 'SUCCEEDED' }),
      [
        {
          path: '$.detail.state',
          message:
            'unknown custom state "SUCCEEDED"; expected one of UNKNOWN, UNRECOGNIZED, STOPPED, STARTING, PENDING, QUEUED, RUNNING, CANCELLING, DRAINING, RESOURCE_CLEANING_UP, UPDATED, DONE, DRAINED, FAILED, CANCELLED',
        },
      ],
    ],
  ];
  for (const [what, event, expected] of cases) {
    it(`rejects ${what}`, () => {
      assert.deepEqual(issuesOf(event), expected);
    });
  }

  it('rejects faulty custom metrics with their path inside detail.metrics', () => {
    const event = withDetail('custom-beam-metrics', {
      metrics: { counters: [{ attempted: 'many', name: { name: 'n', namespace: 'ns' }, step: 's' }] },
    });

    const paths = issuesOf(event).map((i) => i.path);

    assert.deepEqual(paths, ['$.detail.metrics.counters[0].attempted']);
  });
});

describe('parseAcceptedEvents', () => {
  it('reads source:detail-type pairs, * for any, detail-types with spaces', () => {
    const accepted = parseAcceptedEvents(' aws.glue:Glue Job State Change , aws.batch:*,*:Beam Pipeline Metrics,');

    assert.deepEqual(accepted, [
      { source: 'aws.glue', detailType: 'Glue Job State Change' },
      { source: 'aws.batch', detailType: '*' },
      { source: '*', detailType: 'Beam Pipeline Metrics' },
    ]);
  });

  it('lists the five default kinds', () => {
    assert.deepEqual(
      DEFAULT_ACCEPTED_EVENTS.map((a) => `${a.source}:${a.detailType}`),
      [
        'aws.glue:Glue Job State Change',
        'aws.emr-serverless:EMR Serverless Job Run State Change',
        'aws.batch:Batch Job State Change',
        'aws.states:Step Functions Execution Status Change',
        '*:Beam Pipeline Metrics',
      ],
    );
  });

  const bad: Array<[string, string]> = [
    ['aws.glue', 'accepted event "aws.glue" is not "source:detail-type" (use * for any detail-type)'],
    [':Glue Job State Change', 'accepted event ":Glue Job State Change" is not "source:detail-type" (use * for any detail-type)'],
    ['aws.glue:', 'accepted event "aws.glue:" is not "source:detail-type" (use * for any detail-type)'],
    [' , ', 'no accepted events given: every event would be ignored'],
  ];
  for (const [text, message] of bad) {
    it(`refuses ${JSON.stringify(text)}`, () => {
      assert.throws(() => parseAcceptedEvents(text), { message });
    });
  }
});
