import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { convertCompletionReport, isCompletionReport } from '../../../lib/inputs/completion.ts';
import { ValidationError } from '../../../lib/inputs/errors.ts';
import type { InputIssue } from '../../../lib/inputs/errors.ts';
import { JOB_STATES } from '../../../lib/inputs/job-state.ts';
import type { JobState } from '../../../lib/inputs/job-state.ts';
import { DEFAULT_CONVERSION_OPTIONS } from '../../../lib/inputs/options.ts';
import type { InputContext } from '../../../lib/inputs/options.ts';
import type { Point } from '../../../lib/model/series.ts';

const NOW_MS = Date.UTC(2026, 10, 20, 12, 5);
const ctx: InputContext = { nowMs: NOW_MS, options: { ...DEFAULT_CONVERSION_OPTIONS } };
const group = { job: 'orders-enrichment' };

function fixture(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(new URL(`../../fixtures/completion/${name}.json`, import.meta.url), 'utf8')) as Record<string, unknown>;
}

function issuesOf(body: unknown): InputIssue[] {
  try {
    convertCompletionReport(body, ctx, group);
  } catch (err) {
    assert.ok(err instanceof ValidationError, `expected a ValidationError, got ${String(err)}`);
    return err.issues;
  }
  assert.fail('expected the report to be rejected');
}

function stateSet(current: JobState): Point[] {
  return JOB_STATES.map((s) => ({ name: 'beam_job_state', labels: { platform: 'webhook', state: s }, value: s === current ? 1 : 0 }));
}

const l = { platform: 'webhook' };

describe('convertCompletionReport', () => {
  it('turns a successful run with metrics into job series, the metrics and extra grouping labels', () => {
    const { conversion, extraGroup } = convertCompletionReport(fixture('done-with-metrics'), ctx, group);

    const start = Date.UTC(2026, 10, 20, 10) / 1000;
    const end = Date.UTC(2026, 10, 20, 12) / 1000;
    assert.deepEqual(extraGroup, { env: 'prod', runner_name: 'FlinkRunner' });
    assert.deepEqual(conversion.points, [
      ...stateSet('succeeded'),
      { name: 'beam_job_start_timestamp_seconds', labels: l, value: start },
      { name: 'beam_job_end_timestamp_seconds', labels: l, value: end },
      { name: 'beam_job_duration_seconds', labels: l, value: 7200 },
      { name: 'beam_job_last_success_timestamp_seconds', labels: l, value: end },
      { name: 'beam_ordersEnriched_total', labels: { namespace: 'enrich', step: 'Enrich/ParMultiDo(Lookup)' }, value: 88120 },
    ]);
    assert.equal(conversion.jobEnded, true);
    assert.equal(conversion.warnings, undefined);
  });

  it('records a failed run with its failure time', () => {
    const { conversion, extraGroup } = convertCompletionReport(fixture('failed'), ctx, group);

    const end = Date.UTC(2026, 10, 20, 10, 30, 12, 500) / 1000;
    assert.deepEqual(extraGroup, {});
    assert.deepEqual(conversion.points, [
      ...stateSet('failed'),
      { name: 'beam_job_start_timestamp_seconds', labels: l, value: Date.UTC(2026, 10, 20, 10) / 1000 },
      { name: 'beam_job_end_timestamp_seconds', labels: l, value: end },
      { name: 'beam_job_duration_seconds', labels: l, value: 1812.5 },
      { name: 'beam_job_last_failure_timestamp_seconds', labels: l, value: end },
    ]);
    assert.equal(conversion.jobEnded, true);
  });

  it('ends a report without times or metrics at the ingest time', () => {
    const { conversion } = convertCompletionReport({ state: 'CANCELLED' }, ctx, group);

    assert.deepEqual(conversion.points, [
      ...stateSet('cancelled'),
      { name: 'beam_job_end_timestamp_seconds', labels: l, value: NOW_MS / 1000 },
    ]);
  });

  it("reads Python's and Dataflow's state names", () => {
    const drained = convertCompletionReport({ state: 'DRAINED' }, ctx, group);
    const dataflow = convertCompletionReport({ state: 'JOB_STATE_FAILED' }, ctx, group);

    assert.equal(drained.conversion.points.find((p) => p.value === 1)?.labels.state, 'succeeded');
    assert.equal(dataflow.conversion.points.find((p) => p.value === 1)?.labels.state, 'failed');
  });

  it('never lets report labels override the grouping key from the path, and says so', () => {
    const { extraGroup, conversion } = convertCompletionReport(
      { state: 'DONE', labels: { job: 'other', env: 'dev', team: 'data' } },
      ctx,
      { job: 'orders-enrichment', env: 'prod' },
    );

    assert.deepEqual(extraGroup, { team: 'data' });
    assert.deepEqual(conversion.warnings, [
      'label "job" ignored: the grouping key already has "job"',
      'label "env" ignored: the grouping key already has "env"',
    ]);
  });

  it('keeps the metrics and warns when the state is UNKNOWN', () => {
    const report = { ...fixture('done-with-metrics'), state: 'UNKNOWN' };

    const { conversion } = convertCompletionReport(report, ctx, group);

    assert.deepEqual(conversion.points.map((p) => p.name), ['beam_ordersEnriched_total']);
    assert.deepEqual(conversion.warnings, ['state "UNKNOWN" says nothing about the job: no job series']);
  });

  const bad: Array<[string, unknown, InputIssue[]]> = [
    ['a start time that is not a timestamp', { state: 'DONE', startTime: 'this morning' }, [{ path: '$.startTime', message: 'expected an ISO 8601 timestamp with a time zone, e.g. 2026-11-20T10:41:12Z' }]],
    ['an end time in epoch seconds', { state: 'DONE', endTime: 1795176000 }, [{ path: '$.endTime', message: 'looks like epoch seconds; expected epoch milliseconds' }]],
    ['an end time of the wrong type', { state: 'DONE', endTime: true }, [{ path: '$.endTime', message: 'expected epoch milliseconds or an ISO 8601 timestamp' }]],
    ['an end before the start', { state: 'DONE', startTime: 1795176000000, endTime: '2026-11-20T11:00:00Z' }, [{ path: '$.endTime', message: 'is before startTime' }]],
    ['a state that is not a string', { state: 3 }, [{ path: '$.state', message: 'Invalid type: Expected string but received 3' }]],
    [
      'a state Beam does not have',
      { state: 'SUCCESS' },
      [
        {
          path: '$.state',
          message:
            'unknown webhook state "SUCCESS"; expected one of UNKNOWN, UNRECOGNIZED, STOPPED, STARTING, PENDING, QUEUED, RUNNING, CANCELLING, DRAINING, RESOURCE_CLEANING_UP, UPDATED, DONE, DRAINED, FAILED, CANCELLED',
        },
      ],
    ],
    ['a label that is not a string', { state: 'DONE', labels: { env: 1 } }, [{ path: '$.labels.env', message: 'Invalid type: Expected string but received 1' }]],
  ];
  for (const [what, body, expected] of bad) {
    it(`rejects ${what} with its path`, () => {
      assert.deepEqual(issuesOf(body), expected);
    });
  }

  it('rejects metrics in no known shape at $.metrics', () => {
    const [issue, ...more] = issuesOf({ state: 'DONE', metrics: { rows: 1 } });

    assert.equal(issue?.path, '$.metrics');
    assert.match(issue?.message ?? '', /^not a metrics body this endpoint reads/);
    assert.deepEqual(more, []);
  });

  it('rejects faulty metrics with their path under $.metrics', () => {
    const report = { state: 'DONE', metrics: { counters: [{ attempted: -1, name: { name: 'n', namespace: 'ns' }, step: 's' }] } };

    assert.deepEqual(issuesOf(report).map((i) => i.path), ['$.metrics.counters[0].attempted']);
  });
});

describe('isCompletionReport', () => {
  const table: Array<[string, unknown, boolean]> = [
    ['a report with a state only', { state: 'DONE' }, true],
    ['a report with metrics and labels', fixture('done-with-metrics'), true],
    ['a report whose state is not a string', { state: 7 }, true],
    ['a MetricsHttpSink body', { counters: [], distributions: [], gauges: [] }, false],
    ['a MetricsHttpSink body that also has a state', { state: 'DONE', counters: [] }, false],
    ['a Beam Python body', { counters: [], string_sets: [] }, false],
    ['a Dataflow JobMetrics body', { metricTime: '2026-11-20T10:00:00Z', metrics: [] }, false],
    ['a Dataflow body with a state key', { state: 'DONE', metrics: [] }, false],
    ['an object without state', { labels: {} }, false],
    ['an array', [{ state: 'DONE' }], false],
    ['null', null, false],
    ['a string', 'DONE', false],
  ];
  for (const [what, body, expected] of table) {
    it(`${expected ? 'recognises' : 'does not take'} ${what}`, () => {
      assert.equal(isCompletionReport(body), expected);
    });
  }
});
