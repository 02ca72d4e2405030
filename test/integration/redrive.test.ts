/**
 * Redrive against fauxqs: a message the deliver function dead-lettered (and one SQS' redrive policy moved) is
 * counted by a dry run without being touched, then moved back to the queue with its body unchanged and the DLQ
 * attributes gone, and delivers once the receiver is fixed.
 */

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { GetQueueAttributesCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { DUMMY_CREDENTIALS, receiveAll, startSqs } from '../../dev/sqs.ts';
import { deadLetterAttributes } from '../../lib/deliver/dead-letters.ts';
import { createDeliverRuntime } from '../../lib/deliver/runtime.ts';
import { buildEnvelopes, envelopePoints, parseEnvelope } from '../../lib/envelope/envelope.ts';
import { DEAD_LETTER_ATTRIBUTES, formatRedrive, redrive } from '../../lib/queue/redrive.ts';
import { startFaultServer } from '../support/fault-server.ts';
import { started } from '../support/lifecycle.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

async function counts(client: SQSClient, queueUrl: string): Promise<{ visible: number; inFlight: number }> {
  const { Attributes = {} } = await client.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
  );
  return { visible: Number(Attributes.ApproximateNumberOfMessages), inFlight: Number(Attributes.ApproximateNumberOfMessagesNotVisible) };
}

function envelope(id: string, value: number): string {
  return buildEnvelopes({ id, source: 'beam-java', receivedAt: Date.UTC(2026, 10, 2), group: { job: 'redrive' }, labels: {} }, [], [
    { name: 'beam_redriven_total', labels: { step: id }, value },
  ])[0]!;
}

/** Runs the CLI as an operator would, against the local endpoint. */
function cli(args: string[], endpoint: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', `${ROOT}scripts/redrive.ts`, ...args, '--endpoint', endpoint], {
      cwd: ROOT,
      env: { ...process.env, AWS_ACCESS_KEY_ID: DUMMY_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: DUMMY_CREDENTIALS.secretAccessKey },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c));
    child.stderr.on('data', (c: Buffer) => (stderr += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('redrive', () => {
  const sqs = started(() => startSqs());
  const receiver = started(() => startFaultServer());

  /** One message dead-lettered by the deliver function (a 400), one moved by the queue's redrive policy. */
  async function deadLetterTwo(): Promise<{ refused: string; exhausted: string }> {
    const runtime = createDeliverRuntime(
      { REMOTE_WRITE_URL: `${receiver().url}/api/v1/write`, DLQ_URL: sqs().dlqUrl, AWS_REGION: sqs().region },
      { sqs: sqs().client, log: () => {} },
    );
    receiver().reset([{ status: 400, body: 'invalid sample' }]);
    const refused = envelope('refused', 1);
    assert.deepEqual(await runtime.deliver([{ messageId: 'm-refused', body: refused }]), []);
    const exhausted = envelope('exhausted', 2);
    await sqs().client.send(new SendMessageCommand({ QueueUrl: sqs().dlqUrl, MessageBody: exhausted }));
    return { refused, exhausted };
  }

  test('the DLQ attributes it drops are exactly those the deliver function adds', () => {
    const attrs = deadLetterAttributes({ reason: 'r', status: 400, destination: 'd', error: 'e', sourceMessageId: 's' });

    assert.deepEqual([...DEAD_LETTER_ATTRIBUTES].sort(), Object.keys(attrs).sort());
  });

  test('a dry run counts the DLQ by reason and leaves every message where it was, visible', async () => {
    await deadLetterTwo();

    const result = await redrive(sqs().client, { dlqUrl: sqs().dlqUrl, queueUrl: sqs().queueUrl, dryRun: true });

    assert.equal(result.received, 2);
    assert.equal(result.moved, 0);
    assert.deepEqual(result.byReason, { 'permanent:http-400': 1, none: 1 });
    assert.deepEqual(await counts(sqs().client, sqs().dlqUrl), { visible: 2, inFlight: 0 });
    assert.deepEqual(await counts(sqs().client, sqs().queueUrl), { visible: 0, inFlight: 0 });
    assert.match(formatRedrive(result), /^ +1 {2}none\n +1 {2}permanent:http-400\n2 message\(s\) on the DLQ by reason; dry run, nothing changed$/);
    await receiveAll(sqs().client, sqs().dlqUrl);
  });

  test('a redrive moves the bodies unchanged without the DLQ attributes, empties the DLQ, and they deliver once fixed', async () => {
    const { refused, exhausted } = await deadLetterTwo();

    const result = await redrive(sqs().client, { dlqUrl: sqs().dlqUrl, queueUrl: sqs().queueUrl });

    assert.equal(result.moved, 2);
    assert.deepEqual(result.sendFailed, []);
    assert.deepEqual(result.deleteFailed, []);
    assert.deepEqual(await counts(sqs().client, sqs().dlqUrl), { visible: 0, inFlight: 0 });
    const queued = await receiveAll(sqs().client, sqs().queueUrl);
    assert.equal(queued.length, 2);
    for (const m of queued) assert.deepEqual(m.MessageAttributes ?? {}, {});
    const refusedAgain = queued.find((m) => envelopePoints(parseEnvelope(m.Body!))[0]!.labels.step === 'refused')!;
    // The DLQ body is an envelope of the refused points (with their timestamps), not the original message.
    assert.deepEqual(envelopePoints(parseEnvelope(refusedAgain.Body!)), [
      { name: 'beam_redriven_total', labels: { job: 'redrive', step: 'refused' }, value: 1, timestampMs: parseEnvelope(refused).receivedAt },
    ]);
    assert.equal(queued.find((m) => m !== refusedAgain)!.Body, exhausted);

    const runtime = createDeliverRuntime({ REMOTE_WRITE_URL: `${receiver().url}/api/v1/write` }, { log: () => {} });
    receiver().reset([{ status: 204 }]);
    const failed = await runtime.deliver(queued.map((m) => ({ messageId: m.MessageId!, body: m.Body! })));
    assert.deepEqual(failed, []);
    assert.equal(receiver().requests.length, 1);
  });

  test('--max bounds how many messages one run takes', async () => {
    await deadLetterTwo();

    const result = await redrive(sqs().client, { dlqUrl: sqs().dlqUrl, queueUrl: sqs().queueUrl, max: 1 });

    assert.equal(result.received, 1);
    assert.equal(result.moved, 1);
    assert.deepEqual(await counts(sqs().client, sqs().dlqUrl), { visible: 1, inFlight: 0 });
    assert.equal((await receiveAll(sqs().client, sqs().queueUrl)).length, 1);
    await receiveAll(sqs().client, sqs().dlqUrl);
  });

  test('npm run redrive: a dry run prints the count per reason, then a run prints the count moved', async () => {
    await deadLetterTwo();
    const args = ['--dlq', sqs().dlqUrl, '--queue', sqs().queueUrl];

    const dry = await cli([...args, '--dry-run'], sqs().endpoint);
    const run = await cli(args, sqs().endpoint);

    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /1 {2}permanent:http-400\n/);
    assert.match(dry.stdout, /2 message\(s\) on the DLQ by reason; dry run, nothing changed/);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /moved 2 of 2 message\(s\) to the queue/);
    assert.equal((await receiveAll(sqs().client, sqs().queueUrl)).length, 2);
  });

  test('npm run redrive refuses a missing --queue with a usage line and status 2', async () => {
    const { code, stderr } = await cli(['--dlq', sqs().dlqUrl], sqs().endpoint);

    assert.equal(code, 2);
    assert.match(stderr, /--queue is required\nusage: npm run redrive/);
  });
});
