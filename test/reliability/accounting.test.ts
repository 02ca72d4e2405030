/**
 * The judge of the fault matrix: `account` must see every way a sample can go missing or be stored wrongly, or a
 * row of zeros would prove nothing.
 */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { account, deadLetteredSamples, type DeadLetteredSample, type StoredSample } from './accounting.ts';
import { expectedSamples, pushBody, workload } from './workload.ts';
import { buildEnvelopes } from '../../lib/envelope/envelope.ts';

/** Two pushes of series s000, s001 and one refused series poison-0: 6 samples. */
const W = workload('rel-test', 2, 2, 1);
const ACCEPTED = expectedSamples(W);

function stored(series: string, value: number, timestampMs = 1_000 * value): StoredSample {
  return { series, timestampMs, value };
}

/** Everything deliverable stored, the refused series dead-lettered with a reason. */
function allAccounted(): { prometheus: StoredSample[]; victoriaMetrics: StoredSample[]; dlq: DeadLetteredSample[] } {
  const good = ['s000', 's001'].flatMap((s) => [stored(s, 1), stored(s, 2)]);
  return {
    prometheus: good,
    victoriaMetrics: [...good],
    dlq: [1, 2].map((value) => ({ series: 'poison-0', value, reason: 'permanent:http-400' })),
  };
}

describe('account', () => {
  test('counts every sample stored or dead-lettered with a reason, and nothing lost', () => {
    const { prometheus, victoriaMetrics, dlq } = allAccounted();

    const a = account(W, ACCEPTED, { prometheus, victoriaMetrics }, dlq);

    assert.equal(a.accepted, 6);
    assert.deepEqual(a.queryable, { prometheus: 4, victoriaMetrics: 4 });
    assert.equal(a.deadLettered, 2);
    assert.deepEqual(a.reasons, { 'permanent:http-400': 2 });
    assert.equal(a.lost, 0);
    assert.equal(a.misrouted + a.unexpected + a.restamped + a.conflicting + a.exactDuplicates, 0);
  });

  test('a sample missing from one receiver only is lost, and VictoriaMetrics is seen lagging', () => {
    const { prometheus, victoriaMetrics, dlq } = allAccounted();

    const a = account(W, ACCEPTED, { prometheus, victoriaMetrics: victoriaMetrics.slice(1) }, dlq);

    assert.equal(a.lost, 1);
    assert.deepEqual(a.missing, { prometheus: 0, victoriaMetrics: 1 });
    assert.equal(a.victoriaMetricsBehind, 1);
  });

  test('a DLQ sample without a reason is not accounted for', () => {
    const { prometheus, victoriaMetrics, dlq } = allAccounted();
    dlq[0] = { ...dlq[0]!, reason: undefined };

    const a = account(W, ACCEPTED, { prometheus, victoriaMetrics }, dlq);

    assert.equal(a.deadLettered, 1);
    assert.equal(a.deadLetteredWithoutReason, 1);
    assert.equal(a.lost, 1);
  });

  test('a deliverable series in the DLQ or a refused one on a receiver is misrouted', () => {
    const { prometheus, victoriaMetrics, dlq } = allAccounted();

    const a = account(W, ACCEPTED, { prometheus: [...prometheus, stored('poison-0', 1)], victoriaMetrics }, [...dlq, { series: 's000', value: 1, reason: 'permanent:http-400' }]);

    assert.equal(a.misrouted, 2);
  });

  test('tells conflicting values, re-stamped samples, identical copies and foreign samples apart', () => {
    const { prometheus, victoriaMetrics, dlq } = allAccounted();
    victoriaMetrics.push(
      stored('s000', 1), // the same sample again: an identical copy
      stored('s000', 7, 1_000), // another value at s000's first timestamp: a conflict, and never pushed
      stored('s001', 2, 5_000), // push 2 of s001 under a second timestamp: re-stamped
    );

    const a = account(W, ACCEPTED, { prometheus, victoriaMetrics }, dlq);

    assert.equal(a.exactDuplicates, 1);
    assert.equal(a.conflicting, 1);
    assert.equal(a.restamped, 1);
    assert.equal(a.unexpected, 1);
    assert.equal(a.lost, 0);
  });
});

describe('deadLetteredSamples', () => {
  test('reads the points of DLQ envelopes with labels merged as delivery merges them, and the reason', () => {
    const [body] = buildEnvelopes(
      { id: 'req-1', source: 'text', receivedAt: 1_000, group: { job: 'rel-test', series: 'poison-0' }, labels: { series: 'static' } },
      [{ name: 'rel_value', type: 'gauge' }],
      [{ name: 'rel_value', labels: { series: 'from-point' }, value: 2 }],
    );

    const samples = deadLetteredSamples([{ Body: body, MessageAttributes: { reason: { DataType: 'String', StringValue: 'permanent:http-400' } } }]);

    assert.deepEqual(samples, [{ series: 'poison-0', value: 2, reason: 'permanent:http-400' }]);
  });
});

describe('pushBody', () => {
  test('gives every series of push i the value i', () => {
    assert.equal(
      pushBody(W, 2),
      '# HELP rel_value reliability matrix sample: the value is the push number\n# TYPE rel_value gauge\n' +
        'rel_value{series="s000"} 2\nrel_value{series="s001"} 2\nrel_value{series="poison-0"} 2\n',
    );
  });
});
