/**
 * The fast subset of the reliability fault matrix (test/reliability/, RELIABILITY.md): faults 2, 7 and 8 with small
 * volumes, each in its own process through the real chain — ingest, fauxqs with its DLQ, the Lambda-like poller
 * running the deliver handler, the fault proxy, real Prometheus and VictoriaMetrics. Every accepted sample must be
 * stored on both receivers or be in the DLQ with a reason. A control run, where the receiver swallows writes, shows
 * that the accounting does see a loss.
 */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { HARD_DEADLINE_MS, VOLUMES } from '../reliability/faults.ts';
import { isResult, runScenarioProcess, type ScenarioResult } from '../reliability/matrix.ts';

const { pushes, series } = VOLUMES.fast;

async function run(fault: string): Promise<ScenarioResult> {
  const outcome = await runScenarioProcess(fault, { size: 'fast', timeoutMs: HARD_DEADLINE_MS.fast + 10_000 });
  assert.ok(isResult(outcome), `scenario ${fault} gave no result: ${isResult(outcome) ? '' : outcome.error}`);
  return outcome;
}

/** accepted = queryable + in DLQ on each receiver, with nothing lost, doubled, conflicting or misplaced. */
function assertAccounted(r: ScenarioResult): void {
  assert.deepEqual(r.pushFailures, []);
  assert.equal(r.lost, 0, 'samples lost');
  assert.equal(r.deadLetteredWithoutReason, 0, 'DLQ samples without a reason');
  assert.equal(r.queryable.prometheus + r.deadLettered, r.accepted, 'Prometheus: accepted = queryable + in DLQ');
  assert.equal(r.queryable.victoriaMetrics + r.deadLettered, r.accepted, 'VictoriaMetrics: accepted = queryable + in DLQ');
  assert.equal(r.conflicting, 0, 'series + timestamp stored with two values');
  assert.equal(r.restamped, 0, 'a sample stored under two timestamps');
  assert.equal(r.unexpected, 0, 'samples stored that were never pushed');
  assert.equal(r.misrouted, 0, 'refused series stored, or deliverable series dead-lettered');
  assert.notEqual(r.recoverMs, null);
  assert.equal(r.ok, true);
}

describe('reliability fault matrix, fast subset', { concurrency: true }, () => {
  test('a storm of 500/503: every accepted sample is stored on both receivers once the storm passes', async () => {
    const r = await run('error-storm');

    assertAccounted(r);
    assert.equal(r.accepted, pushes * series);
    assert.equal(r.deadLettered, 0);
    assert.ok(r.faultedRequests > 0, 'the storm answered no request');
  });

  test('the same messages delivered twice: every sample stored once per timestamp, none conflicting', async () => {
    const r = await run('duplicate-delivery');

    assertAccounted(r);
    assert.equal(r.accepted, pushes * series);
    assert.equal(r.deadLettered, 0);
    assert.equal(r.deliver.enqueued, 2 * pushes, 'each message queued twice');
    assert.ok(r.deliver.received >= r.deliver.enqueued);
  });

  test('a permanent 400 for some series: those samples are in the DLQ with the reason, the rest stored', async () => {
    const r = await run('permanent-4xx');

    assertAccounted(r);
    const refused = r.accepted - pushes * series;
    assert.ok(refused > 0, 'the workload has refused series');
    assert.equal(r.deadLettered, refused);
    assert.deepEqual(r.reasons, { 'permanent:http-400': refused });
    assert.equal(r.queryable.prometheus, pushes * series);
  });

  test('control: a receiver that answers 204 without writing is counted as losing what it swallowed', async () => {
    const r = await run('control-lying-backend');

    assert.ok(r.faultedRequests > 0);
    assert.ok(r.lost > 0, 'the swallowed samples were not counted as lost');
    assert.equal(r.queryable.prometheus + r.lost, r.accepted);
    assert.equal(r.ok, false);
  });
});
