import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as v from 'valibot';
import { extraGroupLabels, jobSeries, jobTime, normaliseJobState, JOB_STATES } from '../../../lib/inputs/job-state.ts';
import { mergeConversions } from '../../../lib/model/conversion.ts';
import type { JobPlatform, JobState } from '../../../lib/inputs/job-state.ts';
import { DEFAULT_CONVERSION_OPTIONS } from '../../../lib/inputs/options.ts';
import type { InputContext } from '../../../lib/inputs/options.ts';

const NOW_MS = Date.UTC(2026, 10, 20, 12, 0, 0);
const ctx: InputContext = { nowMs: NOW_MS, options: { ...DEFAULT_CONVERSION_OPTIONS } };

describe('normaliseJobState', () => {
  const table: Array<[JobPlatform, string, JobState | null | undefined]> = [
    ['glue', 'STARTING', 'pending'],
    ['glue', 'WAITING', 'pending'],
    ['glue', 'RUNNING', 'running'],
    ['glue', 'STOPPING', 'running'],
    ['glue', 'STOPPED', 'cancelled'],
    ['glue', 'SUCCEEDED', 'succeeded'],
    ['glue', 'FAILED', 'failed'],
    ['glue', 'ERROR', 'failed'],
    ['glue', 'TIMEOUT', 'timed_out'],
    ['glue', 'EXPIRED', 'timed_out'],
    ['emr-serverless', 'SUBMITTED', 'pending'],
    ['emr-serverless', 'PENDING', 'pending'],
    ['emr-serverless', 'SCHEDULED', 'pending'],
    ['emr-serverless', 'QUEUED', 'pending'],
    ['emr-serverless', 'RUNNING', 'running'],
    ['emr-serverless', 'CANCELLING', 'running'],
    ['emr-serverless', 'SUCCESS', 'succeeded'],
    ['emr-serverless', 'FAILED', 'failed'],
    ['emr-serverless', 'CANCELLED', 'cancelled'],
    ['batch', 'SUBMITTED', 'pending'],
    ['batch', 'PENDING', 'pending'],
    ['batch', 'RUNNABLE', 'pending'],
    ['batch', 'STARTING', 'pending'],
    ['batch', 'RUNNING', 'running'],
    ['batch', 'SUCCEEDED', 'succeeded'],
    ['batch', 'FAILED', 'failed'],
    ['stepfunctions', 'PENDING_REDRIVE', 'pending'],
    ['stepfunctions', 'RUNNING', 'running'],
    ['stepfunctions', 'SUCCEEDED', 'succeeded'],
    ['stepfunctions', 'FAILED', 'failed'],
    ['stepfunctions', 'TIMED_OUT', 'timed_out'],
    ['stepfunctions', 'ABORTED', 'cancelled'],
    ['custom', 'UNKNOWN', null],
    ['custom', 'UNRECOGNIZED', null],
    ['custom', 'STOPPED', 'pending'],
    ['custom', 'RUNNING', 'running'],
    ['custom', 'DONE', 'succeeded'],
    ['custom', 'FAILED', 'failed'],
    ['custom', 'CANCELLED', 'cancelled'],
    ['custom', 'UPDATED', 'running'],
    ['webhook', 'STARTING', 'pending'],
    ['webhook', 'PENDING', 'pending'],
    ['webhook', 'DRAINING', 'running'],
    ['webhook', 'CANCELLING', 'running'],
    ['webhook', 'RESOURCE_CLEANING_UP', 'running'],
    ['webhook', 'DRAINED', 'succeeded'],
    ['webhook', 'done', 'succeeded'],
    ['webhook', 'JOB_STATE_FAILED', 'failed'],
    ['webhook', 'JOB_STATE_QUEUED', 'pending'],
    ['glue', 'DONE', undefined],
    ['batch', 'JOB_STATE_RUNNING', undefined],
    ['stepfunctions', 'toString', undefined],
    ['custom', 'SUCCEEDED', undefined],
  ];
  for (const [platform, raw, expected] of table) {
    it(`maps ${platform} ${raw} to ${String(expected)}`, () => {
      assert.equal(normaliseJobState(raw, platform), expected);
    });
  }
});

describe('jobSeries', () => {
  const stateSet = (current: JobState, labels: Record<string, string> = { platform: 'glue' }) =>
    JOB_STATES.map((s) => ({ name: 'beam_job_state', labels: { ...labels, state: s }, value: s === current ? 1 : 0 }));

  it('emits only the state set for a running job without a known start', () => {
    const out = jobSeries({ platform: 'glue', state: 'running', rawState: 'RUNNING' }, ctx);

    assert.deepEqual(out.points, stateSet('running'));
    assert.deepEqual(out.families, [
      { name: 'beam_job_state', type: 'stateset', help: 'Current state of the job: 1 for the state it is in, 0 for the others.' },
    ]);
    assert.equal(out.jobEnded, undefined);
  });

  it('emits start, end, duration and last success for a succeeded run with both times', () => {
    const startMs = NOW_MS - 3_600_000;
    const endMs = NOW_MS - 60_000;

    const out = jobSeries({ platform: 'batch', state: 'succeeded', rawState: 'SUCCEEDED', startMs, endMs }, ctx);

    assert.ok(out.points.every((p) => p.timestampMs === undefined));
    const l = { platform: 'batch' };
    assert.deepEqual(out.points, [
      ...stateSet('succeeded', l),
      { name: 'beam_job_start_timestamp_seconds', labels: l, value: startMs / 1000 },
      { name: 'beam_job_end_timestamp_seconds', labels: l, value: endMs / 1000 },
      { name: 'beam_job_duration_seconds', labels: l, value: 3540 },
      { name: 'beam_job_last_success_timestamp_seconds', labels: l, value: endMs / 1000 },
    ]);
    assert.deepEqual(out.families.map((f) => [f.name, f.type]), [
      ['beam_job_state', 'stateset'],
      ['beam_job_start_timestamp_seconds', 'gauge'],
      ['beam_job_end_timestamp_seconds', 'gauge'],
      ['beam_job_duration_seconds', 'gauge'],
      ['beam_job_last_success_timestamp_seconds', 'gauge'],
    ]);
    assert.equal(out.jobEnded, true);
  });

  it('ends a terminal run without an end time at the ingest time and emits no duration', () => {
    const out = jobSeries({ platform: 'glue', state: 'succeeded', rawState: 'SUCCEEDED', startMs: NOW_MS - 5000 }, ctx);

    const names = out.points.map((p) => p.name);
    assert.ok(!names.includes('beam_job_duration_seconds'));
    const end = out.points.find((p) => p.name === 'beam_job_end_timestamp_seconds');
    const success = out.points.find((p) => p.name === 'beam_job_last_success_timestamp_seconds');
    assert.equal(end?.value, NOW_MS / 1000);
    assert.equal(success?.value, NOW_MS / 1000);
  });

  for (const state of ['failed', 'timed_out'] as const) {
    it(`records the last failure time for a ${state} run`, () => {
      const endMs = NOW_MS - 1000;

      const out = jobSeries({ platform: 'stepfunctions', state, rawState: 'X', endMs }, ctx);

      const l = { platform: 'stepfunctions' };
      assert.deepEqual(out.points.slice(JOB_STATES.length), [
        { name: 'beam_job_end_timestamp_seconds', labels: l, value: endMs / 1000 },
        { name: 'beam_job_last_failure_timestamp_seconds', labels: l, value: endMs / 1000 },
      ]);
      assert.equal(out.jobEnded, true);
    });
  }

  it('records neither success nor failure for a cancelled run, but marks it ended', () => {
    const out = jobSeries({ platform: 'emr-serverless', state: 'cancelled', rawState: 'CANCELLED' }, ctx);

    assert.deepEqual(out.points.slice(JOB_STATES.length).map((p) => p.name), ['beam_job_end_timestamp_seconds']);
    assert.equal(out.jobEnded, true);
  });

  it('ignores an end time for a state that is not terminal', () => {
    const out = jobSeries(
      { platform: 'emr-serverless', state: 'running', rawState: 'RUNNING', startMs: NOW_MS - 2000, endMs: NOW_MS - 1000 },
      ctx,
    );

    assert.deepEqual(out.points.slice(JOB_STATES.length).map((p) => p.name), ['beam_job_start_timestamp_seconds']);
  });

  it('emits no duration when the end precedes the start', () => {
    const out = jobSeries({ platform: 'batch', state: 'failed', rawState: 'FAILED', startMs: NOW_MS, endMs: NOW_MS - 1 }, ctx);

    assert.ok(!out.points.some((p) => p.name === 'beam_job_duration_seconds'));
  });

  it('labels every series with run_id only when the option asks for it', () => {
    const fact = { platform: 'glue', state: 'failed', rawState: 'FAILED', runId: 'jr_1' } as const;

    const without = jobSeries(fact, ctx);
    const withRunId = jobSeries(fact, ctx, { runIdLabel: true });

    assert.ok(without.points.every((p) => !('run_id' in p.labels)));
    assert.ok(withRunId.points.every((p) => p.labels.run_id === 'jr_1' && p.labels.platform === 'glue'));
  });

  it('names the series with the configured prefix', () => {
    const out = jobSeries({ platform: 'custom', state: 'succeeded', rawState: 'DONE' }, { ...ctx, options: { ...ctx.options, prefix: 'pipeline_' } });

    assert.deepEqual([...new Set(out.points.map((p) => p.name))], [
      'pipeline_job_state',
      'pipeline_job_end_timestamp_seconds',
      'pipeline_job_last_success_timestamp_seconds',
    ]);
    assert.deepEqual(out.families.map((f) => f.name), [...new Set(out.points.map((p) => p.name))]);
  });

  it('gives each point its own labels object', () => {
    const out = jobSeries({ platform: 'glue', state: 'succeeded', rawState: 'SUCCEEDED' }, ctx);

    const objects = new Set(out.points.map((p) => p.labels));
    assert.equal(objects.size, out.points.length);
  });
});

describe('jobTime', () => {
  const table: Array<[unknown, number | string]> = [
    ['2026-11-20T10:41:12.004Z', Date.UTC(2026, 10, 20, 10, 41, 12, 4)],
    ['2022-05-31T21:07:42.299487Z', Date.UTC(2022, 4, 31, 21, 7, 42, 299)],
    ['2026-11-20T11:41:12+01:00', Date.UTC(2026, 10, 20, 10, 41, 12)],
    [1795176000000, 1795176000000],
    ['2026-11-20', 'expected an ISO 8601 timestamp with a time zone, e.g. 2026-11-20T10:41:12Z'],
    ['Nov 20 2026', 'expected an ISO 8601 timestamp with a time zone, e.g. 2026-11-20T10:41:12Z'],
    [1795176000, 'looks like epoch seconds; expected epoch milliseconds'],
    [Infinity, 'must be a finite number'],
    [true, 'expected epoch milliseconds or an ISO 8601 timestamp'],
  ];
  for (const [input, expected] of table) {
    it(`reads ${JSON.stringify(input)} as ${JSON.stringify(expected)}`, () => {
      const result = v.safeParse(jobTime, input);

      if (typeof expected === 'number') assert.deepEqual(result.output, expected);
      else assert.deepEqual(result.issues?.map((i) => i.message), [expected]);
    });
  }
});

describe('extraGroupLabels', () => {
  it('sanitises names and leaves out labels the grouping key already has, with a warning each', () => {
    const out = extraGroupLabels({ 'team-name': 'data', job: 'x', env: 'prod', 'run.kind': 'batch', run_kind: 'stream' }, { job: 'orders', env: 'staging' });

    assert.deepEqual(out.labels, { team_name: 'data', run_kind: 'batch' });
    assert.deepEqual(out.warnings, [
      'label "job" ignored: the grouping key already has "job"',
      'label "env" ignored: the grouping key already has "env"',
      'label "run_kind" ignored: the grouping key already has "run_kind"',
    ]);
  });
});

describe('mergeConversions', () => {
  it('keeps points and warnings in order, each family once, and jobEnded from any part', () => {
    const family = { name: 'a', type: 'gauge' as const };
    const first = { families: [family], points: [{ name: 'a', labels: {}, value: 1 }], jobEnded: true };
    const second = { families: [family, { name: 'b', type: 'counter' as const }], points: [{ name: 'b', labels: {}, value: 2 }], warnings: ['w'] };

    const merged = mergeConversions(first, second);

    assert.deepEqual(merged, {
      families: [family, { name: 'b', type: 'counter' }],
      points: [
        { name: 'a', labels: {}, value: 1 },
        { name: 'b', labels: {}, value: 2 },
      ],
      jobEnded: true,
      warnings: ['w'],
    });
  });
});
