/**
 * Every other input, end to end on real parts: Beam Python, Dataflow JobMetrics, the Prometheus text format and
 * each EventBridge job event go through the ingest handler, fauxqs and the deliver handler into a real Prometheus.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { queryInstant } from '../../dev/receivers.ts';
import { httpApiV2Event } from '../support/events.ts';
import { startPipeline, type Pipeline } from '../support/pipeline.ts';

const read = (path: string) => readFileSync(new URL(`../fixtures/${path}`, import.meta.url), 'utf8');
const event = (name: string) => JSON.parse(read(`eventbridge/${name}`));
const seconds = (iso: string) => Date.parse(iso) / 1000;

let pipeline: Pipeline;
before(async () => {
  pipeline = await startPipeline();
});
after(async () => pipeline?.stop());

/** The state set: 1 for `state`, 0 for every other member. */
async function expectState(job: string, platform: string, state: string): Promise<void> {
  await pipeline.expectSeries({ [`beam_job_state{state="${state}"}`]: 1 }, `job="${job}",platform="${platform}"`);
  const others = await queryInstant(pipeline.prometheus.url, `beam_job_state{job="${job}",state!="${state}"}`);
  assert.ok(others.length >= 5, 'every other state of the set is present');
  assert.ok(others.every((s) => s.value === 0));
}

describe('webhook bodies → Prometheus', () => {
  it('converts a Beam Python MetricResults dump with committed values', async () => {
    await pipeline.push(httpApiV2Event('/metrics/job/py-wordcount', read('beam-python/wordcount-query.json')));
    await pipeline.expectSeries(
      {
        'beam_words_total{namespace="__main__.WordExtractingDoFn",step="split"}': 4023,
        'beam_empty_lines_total{step="split"}': 17,
        'beam_word_len_dist_sum{step="split"}': 18502,
        'beam_word_len_dist_count{step="split"}': 4023,
        'beam_word_len_dist_min{step="split"}': 1,
        'beam_word_len_dist_max{step="split"}': 14,
        'beam_last_batch_size{namespace="__main__",step="format"}': 250,
      },
      'job="py-wordcount"',
    );
  });

  it('converts Dataflow user metrics (committed over tentative) and skips system metrics by default', async () => {
    await pipeline.push(httpApiV2Event('/metrics/job/dataflow-wc', read('dataflow/job-metrics.json')));
    await pipeline.expectSeries(
      {
        'beam_wordsProcessed_total{step="s2"}': 58190,
        'beam_lineLenDistro_sum{step="s2"}': 405720,
        'beam_lineLenDistro_count{step="s2"}': 9800,
        'beam_lineLenDistro_max{step="s2"}': 212,
      },
      'job="dataflow-wc"',
    );
    assert.deepEqual(await queryInstant(pipeline.prometheus.url, '{job="dataflow-wc",__name__=~"dataflow_.*"}'), []);
  });

  it('reads a Flink PrometheusPushGatewayReporter body in the text format, path labels over body labels', async () => {
    const body = read('text/flink-pushgateway-reporter.txt');
    await pipeline.push(httpApiV2Event('/metrics/job/flink-orders/host/override', body, { headers: { 'content-type': 'text/plain; version=0.0.4' } }));
    await pipeline.expectSeries(
      {
        'flink_jobmanager_job_uptime{job_name="orders-enrichment"}': 1843212,
        'flink_taskmanager_job_task_operator_enrich_ordersEnriched{subtask_index="0"}': 44060,
        'flink_taskmanager_job_task_operator_enrich_lookupLatencyMs{quantile="0.99",subtask_index="0"}': 41,
        'flink_taskmanager_Status_JVM_Memory_Heap_Used{}': 412783264,
      },
      'job="flink-orders",host="override"',
    );
  });
});

describe('EventBridge job events → job-level series', () => {
  it('Glue: a succeeded run sets the state and the last success time', async () => {
    const e = event('glue-job-succeeded.json');
    await pipeline.push(e);
    await expectState('beam-wordcount', 'glue', 'succeeded');
    await pipeline.expectSeries({ 'beam_job_last_success_timestamp_seconds{}': seconds(e.time) }, 'job="beam-wordcount"');
  });

  it('EMR Serverless: a failed run sets the state, the failure time and the duration', async () => {
    const e = event('emr-serverless-job-failed.json');
    await pipeline.push(e);
    await expectState('beam-sessionize', 'emr-serverless', 'failed');
    await pipeline.expectSeries(
      {
        'beam_job_duration_seconds{}': (Date.parse(e.detail.updatedAt) - Date.parse(e.detail.createdAt)) / 1000,
        'beam_job_last_failure_timestamp_seconds{}': seconds(e.detail.updatedAt),
      },
      'job="beam-sessionize"',
    );
    assert.deepEqual(await queryInstant(pipeline.prometheus.url, 'beam_job_last_success_timestamp_seconds{job="beam-sessionize"}'), []);
  });

  it('AWS Batch: a succeeded job has its duration from startedAt to stoppedAt', async () => {
    const e = event('batch-job-succeeded.json');
    await pipeline.push(e);
    await expectState('beam-direct-backfill', 'batch', 'succeeded');
    await pipeline.expectSeries(
      {
        'beam_job_duration_seconds{}': (e.detail.stoppedAt - e.detail.startedAt) / 1000,
        'beam_job_last_success_timestamp_seconds{}': e.detail.stoppedAt / 1000,
      },
      'job="beam-direct-backfill"',
    );
  });

  it('Step Functions: a timed-out execution is named after its state machine', async () => {
    const e = event('stepfunctions-execution-timed-out.json');
    await pipeline.push(e);
    await expectState('nightly-beam', 'stepfunctions', 'timed_out');
    await pipeline.expectSeries({ 'beam_job_duration_seconds{}': (e.detail.stopDate - e.detail.startDate) / 1000 }, 'job="nightly-beam"');
  });

  it('the custom "Beam Pipeline Metrics" event carries its metrics, labels and job state', async () => {
    await pipeline.push(event('custom-beam-metrics.json'));
    const labels = 'job="orders-enrichment",env="prod",runner="FlinkRunner"';
    await pipeline.expectSeries({ 'beam_ordersEnriched_total{namespace="enrich",step="Enrich/ParMultiDo(Lookup)"}': 88120 }, labels);
    await pipeline.expectSeries({ 'beam_job_state{state="succeeded",platform="custom"}': 1 }, labels);
  });

  it('acknowledges an event type it does not read, without enqueuing anything', async () => {
    const reply = await pipeline.ingest({ ...event('glue-job-succeeded.json'), 'detail-type': 'Glue Crawler State Change' });
    assert.equal((reply as { status: string }).status, 'ignored');
  });
});
