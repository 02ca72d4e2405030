/**
 * Completion webhooks (a launcher POSTs once when the pipeline ends): the job-level series and the final metrics
 * end up in a real Prometheus with the right values.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { queryInstant } from '../../dev/receivers.ts';
import { httpApiV2Event } from '../support/events.ts';
import { startPipeline, type Pipeline } from '../support/pipeline.ts';

const read = (name: string) => readFileSync(new URL(`../fixtures/completion/${name}`, import.meta.url), 'utf8');

let pipeline: Pipeline;
before(async () => {
  pipeline = await startPipeline();
});
after(async () => pipeline?.stop());

describe('completion report → Prometheus', () => {
  it('a successful run with final metrics: state, duration, last success, end time and the metrics', async () => {
    const report = JSON.parse(read('done-with-metrics.json'));
    const { reply } = await pipeline.push(httpApiV2Event('/metrics/job/orders-batch/env/prod', JSON.stringify(report)));
    assert.equal(JSON.parse((reply as { body: string }).body).format, 'completion');
    const end = report.endTime / 1000;
    await pipeline.expectSeries(
      {
        'beam_job_state{state="succeeded",platform="webhook"}': 1,
        'beam_job_state{state="failed"}': 0,
        'beam_job_duration_seconds{}': end - Date.parse(report.startTime) / 1000,
        'beam_job_last_success_timestamp_seconds{}': end,
        'beam_job_end_timestamp_seconds{}': end,
        'beam_ordersEnriched_total{namespace="enrich"}': 88120,
      },
      'job="orders-batch",env="prod"',
    );
  });

  it('a failed run without metrics: state, duration and failure time, and no success time', async () => {
    const report = JSON.parse(read('failed.json'));
    await pipeline.push(httpApiV2Event('/metrics/job/nightly-export', JSON.stringify(report)));
    const end = Date.parse(report.endTime) / 1000;
    await pipeline.expectSeries(
      {
        'beam_job_state{state="failed"}': 1,
        'beam_job_state{state="succeeded"}': 0,
        'beam_job_duration_seconds{}': end - report.startTime / 1000,
        'beam_job_last_failure_timestamp_seconds{}': end,
      },
      'job="nightly-export"',
    );
    assert.deepEqual(await queryInstant(pipeline.prometheus.url, 'beam_job_last_success_timestamp_seconds{job="nightly-export"}'), []);
  });

  it('a bare report with only a state', async () => {
    await pipeline.push(httpApiV2Event('/metrics/job/bare', JSON.stringify({ state: 'CANCELLED' })));
    await pipeline.expectSeries({ 'beam_job_state{state="cancelled"}': 1 }, 'job="bare",platform="webhook"');
    assert.deepEqual(await queryInstant(pipeline.prometheus.url, 'beam_job_duration_seconds{job="bare"}'), []);
  });
});
