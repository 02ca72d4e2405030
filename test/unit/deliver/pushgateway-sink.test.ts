import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NO_HELP, planPushes, PushgatewaySink, snapshotBody, snapshotFamilies, type GroupPlan } from '../../../lib/deliver/pushgateway-sink.ts';
import type { DecodedRecord } from '../../../lib/deliver/records.ts';
import { buildEnvelopes, parseEnvelope, type EnvelopeHeader } from '../../../lib/envelope/envelope.ts';
import type { MetricFamily, Point } from '../../../lib/model/series.ts';
import { seriesOrigins } from '../../../lib/deliver/merge.ts';
import { SYSTEM_CLOCK } from '../../../lib/transport/retry.ts';

/** Records for one ingest request, numbered from `firstIndex`; `maxBytes` small enough splits it into parts. */
function request(firstIndex: number, header: Partial<EnvelopeHeader>, points: Point[], families: MetricFamily[] = [], maxBytes?: number): DecodedRecord[] {
  const h: EnvelopeHeader = { id: `req-${firstIndex}`, source: 'beam-java', receivedAt: 1000, group: { job: 'j' }, labels: {}, ...header };
  return buildEnvelopes(h, families, points, maxBytes).map((body, i) => ({
    index: firstIndex + i,
    messageId: `m${firstIndex + i}`,
    envelope: parseEnvelope(body),
  }));
}

/** A request of six points that ingest split into three parts. */
function splitRequest(firstIndex: number, header: Partial<EnvelopeHeader>): DecodedRecord[] {
  const parts = request(firstIndex, header, Array.from({ length: 6 }, (_, i) => point('m', i, { i: String(i) })), [], 274);
  assert.equal(parts.length, 3, 'the request must split into three parts for these tests');
  return parts;
}

const point = (name: string, value: number, labels: Record<string, string> = {}): Point => ({ name, labels, value });

/** `METHOD id[parts present/parts]` per operation, and the superseded snapshot ids. */
function summary(plan: GroupPlan): { ops: string[]; superseded: string[] } {
  return {
    ops: plan.operations.map((o) => `${o.method} ${o.snapshot.id}[${o.snapshot.present.map((r) => r.envelope.part).join(',')}/${o.snapshot.parts}]`),
    superseded: plan.superseded.map((s) => s.id),
  };
}

describe('planPushes', () => {
  it('PUTs only the newest snapshot of a group and supersedes the older ones', () => {
    const newest = request(0, { id: 'b', receivedAt: 3000 }, [point('m', 3)]);
    const oldest = request(1, { id: 'a', receivedAt: 1000 }, [point('m', 1), point('n', 1)]);
    const middle = request(2, { id: 'c', receivedAt: 2000 }, [point('m', 2)]);

    const plans = planPushes([...newest, ...oldest, ...middle], false);

    assert.equal(plans.length, 1);
    assert.deepEqual(summary(plans[0]!), { ops: ['PUT b[0/1]'], superseded: ['a', 'c'] });
    assert.deepEqual(plans[0]!.superseded.map((s) => s.samples), [2, 1]);
  });

  it('breaks a receivedAt tie by batch order', () => {
    const first = request(0, { id: 'x', receivedAt: 1000 }, [point('m', 1)]);
    const second = request(1, { id: 'y', receivedAt: 1000 }, [point('m', 2)]);

    assert.deepEqual(summary(planPushes([...first, ...second], false)[0]!), { ops: ['PUT y[0/1]'], superseded: ['x'] });
  });

  it('plans each grouping key on its own', () => {
    const a = request(0, { id: 'a', group: { job: 'j', step: 's/1' } }, [point('m', 1)]);
    const b = request(1, { id: 'b', group: { step: 's/1', job: 'j' }, receivedAt: 2000 }, [point('m', 2)]);
    const c = request(2, { id: 'c', group: { job: 'k' } }, [point('m', 3)]);

    const plans = planPushes([...a, ...b, ...c], false);

    assert.deepEqual(plans.map(summary), [
      { ops: ['PUT b[0/1]'], superseded: ['a'] },
      { ops: ['PUT c[0/1]'], superseded: [] },
    ]);
  });

  it('PUTs a split snapshot as one operation when all its parts are in the batch, parts in order', () => {
    const parts = splitRequest(0, {});

    const plans = planPushes([...parts].reverse(), false);

    assert.deepEqual(summary(plans[0]!).ops, ['PUT req-0[0,1,2/3]']);
    assert.equal(plans[0]!.operations[0]!.snapshot.samples, 6);
  });

  it('POSTs a snapshot with parts missing, since a PUT would delete the metrics of the absent parts', () => {
    const parts = splitRequest(0, {});

    const plans = planPushes([parts[2]!, parts[0]!], false);

    assert.deepEqual(summary(plans[0]!).ops, ['POST req-0[0,2/3]']);
  });

  it('PUTs a complete snapshot, then POSTs the newer incomplete one over it', () => {
    const complete = request(0, { id: 'old', receivedAt: 1000 }, [point('m', 1)]);
    const newer = splitRequest(10, { id: 'new', receivedAt: 2000 });

    const plans = planPushes([...complete, newer[0]!], false);

    assert.deepEqual(summary(plans[0]!), { ops: ['PUT old[0/1]', 'POST new[0/3]'], superseded: [] });
  });

  it('supersedes an incomplete snapshot older than a complete one', () => {
    const older = splitRequest(10, { id: 'old', receivedAt: 1000 });
    const complete = request(0, { id: 'new', receivedAt: 2000 }, [point('m', 1)]);

    assert.deepEqual(summary(planPushes([older[1]!, ...complete], false)[0]!), { ops: ['PUT new[0/1]'], superseded: ['old'] });
  });

  it('merges job reports into the group with POST after the newest metrics snapshot', () => {
    const metrics = request(0, { id: 'metrics', receivedAt: 1000 }, [point('beam_x_total', 1)]);
    const event = request(1, { id: 'event', source: 'eventbridge', receivedAt: 2000 }, [point('beam_job_state', 1, { state: 'running' })]);
    const report = request(2, { id: 'report', source: 'completion', receivedAt: 3000, jobEnded: true }, [point('beam_job_state', 1, { state: 'succeeded' })]);

    assert.deepEqual(summary(planPushes([...report, ...event, ...metrics], false)[0]!), {
      ops: ['PUT metrics[0/1]', 'POST event[0/1]', 'POST report[0/1]'],
      superseded: [],
    });
  });

  it('with deleteOnJobEnd, DELETEs the group for a job-end envelope and supersedes what came before it', () => {
    const metrics = request(0, { id: 'metrics', receivedAt: 1000 }, [point('beam_x_total', 1)]);
    const ended = request(1, { id: 'ended', source: 'eventbridge', receivedAt: 2000, jobEnded: true }, [point('beam_job_state', 1)]);
    const nextRun = request(2, { id: 'next-run', receivedAt: 3000 }, [point('beam_x_total', 5)]);

    assert.deepEqual(summary(planPushes([...metrics, ...ended], true)[0]!), { ops: ['DELETE ended[0/1]'], superseded: ['metrics'] });
    assert.deepEqual(summary(planPushes([...metrics, ...ended, ...nextRun], true)[0]!), { ops: ['PUT next-run[0/1]'], superseded: ['metrics', 'ended'] });
    assert.deepEqual(summary(planPushes([...metrics, ...ended], false)[0]!), { ops: ['PUT metrics[0/1]', 'POST ended[0/1]'], superseded: [] });
  });

  it('counts a redelivered duplicate part once but keeps both records for its fate', () => {
    const [r] = request(0, {}, [point('m', 1), point('n', 2)]);
    const again: DecodedRecord = { ...r!, index: 1, messageId: 'm1' };

    const op = planPushes([r!, again], false)[0]!.operations[0]!;

    assert.equal(op.method, 'PUT');
    assert.equal(op.snapshot.samples, 2);
    assert.deepEqual(op.snapshot.records.map((x) => x.index), [0, 1]);
  });
});

describe('snapshot bodies', () => {
  const snapshotOf = (records: DecodedRecord[]) => planPushes(records, false)[0]!.operations[0]!.snapshot;

  it('labels samples with point labels over static labels, without the grouping key names or empty values', () => {
    const group = { job: 'j', step: 'Read/x' };
    const records = request(0, { group, labels: { env: 'static', region: 'eu', job: 'static-job' } }, [
      point('m', 1, { env: 'point', step: 'point-step', ns: 'n', empty: '' }),
    ]);

    const { families } = snapshotFamilies(snapshotOf(records), group);

    assert.deepEqual(families[0]!.samples, [{ name: 'm', labels: { ns: 'n', env: 'point', region: 'eu' }, value: 1 }]);
  });

  it('keeps the last of two points that differ only in grouping-key labels, and counts the other', () => {
    const records = request(0, {}, [point('m', 1, { job: 'a' }), point('m', 2, { job: 'b' })]);

    const { families, duplicates } = snapshotFamilies(snapshotOf(records), { job: 'j' });

    assert.equal(duplicates, 1);
    assert.deepEqual(families[0]!.samples, [{ name: 'm', labels: {}, value: 2 }]);
  });

  it('writes HELP (a fixed text when the source gave none) and TYPE once per family, no timestamps, and non-finite values as the text format spells them', () => {
    const families: MetricFamily[] = [
      { name: 'beam_elements', type: 'counter', help: 'Elements "read"\\n' },
      { name: 'beam_latency', type: 'summary' },
    ];
    const records = request(0, { receivedAt: 5000 }, [
      point('beam_elements_total', 3, { step: 'a"b\\c\nd' }),
      { name: 'beam_gauge', labels: {}, value: NaN, timestampMs: 4000 },
      point('beam_latency_sum', Infinity),
      point('beam_latency_count', 2),
      point('beam_elements_total', -Infinity, { step: 'b' }),
    ], families);

    const { body } = snapshotBody(snapshotOf(records), { job: 'j' });

    assert.equal(
      Buffer.from(body).toString('utf8'),
      [
        '# HELP beam_elements_total Elements "read"\\\\n',
        '# TYPE beam_elements_total counter',
        'beam_elements_total{step="a\\"b\\\\c\\nd"} 3',
        'beam_elements_total{step="b"} -Inf',
        `# HELP beam_gauge ${NO_HELP}`,
        '# TYPE beam_gauge untyped',
        'beam_gauge NaN',
        `# HELP beam_latency ${NO_HELP}`,
        '# TYPE beam_latency summary',
        'beam_latency_sum +Inf',
        'beam_latency_count 2',
        '',
      ].join('\n'),
    );
  });
});

describe('PushgatewaySink without a request', () => {
  // Port 9 (discard) on loopback: nothing listens, and these cases must not get as far as connecting.
  const sink = new PushgatewaySink(
    { url: 'http://127.0.0.1:9', headers: {}, deleteOnJobEnd: false, timeoutMs: 1_000, backoff: { baseMs: 1, maxMs: 1 }, concurrency: 2, userAgent: 'test' },
    SYSTEM_CLOCK,
  );

  it('rejects a snapshot whose grouping key has no job, with the reason, for the DLQ', async () => {
    const records = request(0, { group: { env: 'prod' } }, [point('m', 1)]);

    const report = await sink.deliver(records, Date.now() + 5_000);

    assert.equal(report.stats.requests, 0);
    assert.equal(report.failed.size, 0);
    assert.deepEqual(report.rejected.map((r) => `${r.outcome.kind}:${r.outcome.reason}`), ['permanent:no-job-in-grouping-key']);
    assert.deepEqual(seriesOrigins(report.rejected[0]!.series[0]!), [0]);
  });

  it('leaves every record to SQS once the deadline has passed', async () => {
    const records = [...request(0, { id: 'a', group: { job: 'a' } }, [point('m', 1)]), ...request(1, { id: 'b', group: { job: 'b' } }, [point('m', 1)])];

    const report = await sink.deliver(records, Date.now() - 1);

    assert.equal(report.stats.requests, 0);
    assert.deepEqual([...report.failed].map(([i, o]) => `${i} ${o.kind}:${o.reason}`), ['0 retryable:deadline', '1 retryable:deadline']);
    assert.equal(report.stats.samplesFailed, 2);
  });
});
