/**
 * scripts/stack.cjs: the values serverless.yml derives from its params, and the param checks that fail packaging
 * before CloudFormation or Lambda would.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseAcceptedEvents } from '../../../lib/inputs/eventbridge.ts';
import stack from '../../../scripts/stack.cjs';

type Params = Record<string, string | number | boolean>;

/** The CLI's resolveVariable for `param:<name>`, over a plain params object. */
const resolver = (params: Params) => ({
  resolveVariable: async (address: string) => {
    const name = address.replace(/^param:/, '');
    if (!(name in params)) throw new Error(`unexpected variable ${address}`);
    return params[name];
  },
});

const STANDARD: Params = { fifo: false, batchSize: 10, batchWindowSeconds: 5, maximumConcurrency: 2, deliverTimeoutSeconds: 60 };

describe('eventSources', () => {
  it('reads the same list as the ingest function’s EVENT_SOURCES', () => {
    const lists = [
      'aws.glue:Glue Job State Change',
      'aws.glue:Glue Job State Change, aws.batch:* ,*:Beam Pipeline Metrics',
      'custom.app:Run Finished: with a colon',
      ',aws.states:Step Functions Execution Status Change,',
    ];
    for (const list of lists) assert.deepEqual(stack.parseEventSources(list), parseAcceptedEvents(list), list);
  });

  it('refuses entries without a detail-type, as ingest does, and an empty list', () => {
    for (const bad of ['aws.glue', 'aws.glue:', ':Glue Job State Change']) {
      assert.throws(() => parseAcceptedEvents(bad));
      assert.throws(() => stack.parseEventSources(bad), /param eventSources/);
    }
    assert.throws(() => stack.parseEventSources(' , '), /param eventSources: empty/);
  });

  it('refuses *:*, which would route every event on the bus to ingest', () => {
    assert.throws(() => stack.parseEventSources('aws.glue:Glue Job State Change,*:*'), /every event on the bus/);
  });
});

describe('jobEventPattern', () => {
  it('gives one branch per source with its detail-types, under $or when there are several', () => {
    const pattern = stack.eventPattern(stack.parseEventSources('aws.glue:Glue Job State Change,aws.batch:Batch Job State Change,aws.glue:Glue Job Run Status'));
    assert.deepEqual(pattern, {
      $or: [
        { source: ['aws.glue'], 'detail-type': ['Glue Job State Change', 'Glue Job Run Status'] },
        { source: ['aws.batch'], 'detail-type': ['Batch Job State Change'] },
      ],
    });
  });

  it('leaves out the source for * and the detail-type for *', () => {
    assert.deepEqual(stack.eventPattern([{ source: '*', detailType: 'Beam Pipeline Metrics' }]), { 'detail-type': ['Beam Pipeline Metrics'] });
    assert.deepEqual(stack.eventPattern([{ source: 'aws.batch', detailType: 'Batch Job State Change' }, { source: 'aws.batch', detailType: '*' }]), { source: ['aws.batch'] });
  });

  it('is resolved from the eventSources param', async () => {
    assert.deepEqual(await stack.jobEventPattern(resolver({ eventSources: '*:Beam Pipeline Metrics' })), { 'detail-type': ['Beam Pipeline Metrics'] });
  });
});

describe('deliverQueueEvent', () => {
  it('reports batch item failures from the envelope queue with the batch params', async () => {
    assert.deepEqual(await stack.deliverQueueEvent(resolver(STANDARD)), {
      arn: { 'Fn::GetAtt': ['EnvelopeQueue', 'Arn'] },
      batchSize: 10,
      maximumBatchingWindow: 5,
      maximumConcurrency: 2,
      functionResponseType: 'ReportBatchItemFailures',
    });
  });

  it('leaves the batching window out for a FIFO queue', async () => {
    const event = await stack.deliverQueueEvent(resolver({ ...STANDARD, fifo: 'true', batchWindowSeconds: '0' }));
    assert.equal('maximumBatchingWindow' in event, false);
  });

  it('refuses what Lambda refuses, naming the param', async () => {
    const cases: Array<[Params, RegExp]> = [
      [{ ...STANDARD, fifo: true, batchWindowSeconds: 0, batchSize: 100 }, /param batchSize: 100 is not a whole number in 1\.\.10/],
      [{ ...STANDARD, fifo: true, batchWindowSeconds: 5 }, /param batchWindowSeconds: Lambda has no batching window for FIFO/],
      [{ ...STANDARD, batchSize: 100, batchWindowSeconds: 0 }, /param batchWindowSeconds: .*at least 1 s when batchSize is over 10/],
      [{ ...STANDARD, maximumConcurrency: 1 }, /param maximumConcurrency: 1 is not a whole number in 2\.\.1000/],
      [{ ...STANDARD, batchSize: 'ten' }, /param batchSize: "ten"/],
      [{ ...STANDARD, fifo: 'yes' }, /param fifo: "yes" is not true or false/],
    ];
    for (const [params, message] of cases) await assert.rejects(stack.deliverQueueEvent(resolver(params)), message);
  });
});

describe('visibilityTimeout', () => {
  it('is six deliver timeouts plus the batching window', async () => {
    assert.equal(await stack.visibilityTimeout(resolver({ deliverTimeoutSeconds: 60, batchWindowSeconds: 5 })), 365);
  });

  it('refuses a deliver timeout Lambda does not allow', async () => {
    await assert.rejects(stack.visibilityTimeout(resolver({ deliverTimeoutSeconds: 901, batchWindowSeconds: 0 })), /param deliverTimeoutSeconds: 901 is not a whole number in 1\.\.900/);
  });
});

describe('fifo', () => {
  it('gives the string a CloudFormation condition compares, from a YAML boolean or a CLI string', async () => {
    assert.equal(await stack.fifo(resolver({ fifo: true })), 'true');
    assert.equal(await stack.fifo(resolver({ fifo: 'false' })), 'false');
  });
});
