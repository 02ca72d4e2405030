/**
 * The bundles Lambda runs (dist/<function>/index.mjs), not the TypeScript sources: each loads in a fresh Node
 * process, and a Beam push goes through the ingest bundle, a real SQS API (fauxqs) and the deliver bundle into a
 * real Prometheus. This is what proves the build's cuts (the AWS SDK split into chunks loaded on use, undici reduced
 * to Agent and request over HTTP/1.1) lose nothing the functions use.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { startPrometheus, waitForQuery } from '../../../dev/receivers.ts';
import { DUMMY_CREDENTIALS, receiveAll, startSqs } from '../../../dev/sqs.ts';
import { buildFunctions, MAX_BUNDLE_BYTES, smokeTest, type Bundle } from '../../../scripts/build.mjs';
import { httpApiV2Event, sqsEventOf } from '../../support/events.ts';
import { startFaultServer } from '../../support/fault-server.ts';
import { started } from '../../support/lifecycle.ts';

let bundles: Bundle[];
before(async () => {
  bundles = await buildFunctions();
});

const bundle = (name: string) => {
  const b = bundles.find((x) => x.name === name);
  if (!b) throw new Error(`no ${name} bundle`);
  return b;
};

/**
 * Invokes a bundle's handler in its own Node process, as Lambda would: a clean environment, the event as JSON,
 * a context with a deadline. The result comes back on fd 3, since the handler logs to stdout as on Lambda.
 * Asynchronous, so that fauxqs in this process keeps answering meanwhile.
 */
function invoke(file: string, event: unknown, env: Record<string, string>): Promise<unknown> {
  const script = `
    const { handler } = await import(process.env.BUNDLE_URL);
    let input = '';
    for await (const chunk of process.stdin) input += chunk;
    const context = { awsRequestId: 'bundle-test', getRemainingTimeInMillis: () => 30000 };
    const result = await handler(JSON.parse(input), context);
    (await import('node:fs')).writeSync(3, JSON.stringify(result));`;
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['--enable-source-maps', '--input-type=module', '-e', script], {
      env: { PATH: process.env.PATH ?? '', BUNDLE_URL: pathToFileURL(file).href, ...env },
      stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
    });
    let output = '';
    let result = '';
    child.stdout!.on('data', (c) => (output += c));
    child.stderr!.on('data', (c) => (output += c));
    (child.stdio[3] as NodeJS.ReadableStream).on('data', (c) => (result += c));
    child.on('error', fail);
    child.on('close', (code) => (code === 0 ? done(JSON.parse(result)) : fail(new Error(`${file} exited ${code}:\n${output}`))));
    child.stdin!.end(JSON.stringify(event));
  });
}

describe('bundles', () => {
  it('stay under the 350 KB a cold start should read, entry and chunks loaded at init together', () => {
    for (const b of bundles) assert.ok(b.bytes <= MAX_BUNDLE_BYTES, `${b.name}: ${b.bytes} bytes`);
  });

  it('count what a cold start reads: ingest the SQS client it loads at init, deliver no AWS SDK and no HTTP/2', () => {
    const sdk = ([path]: [string, number]) => /node_modules\/@(aws-sdk|smithy)\//.test(path);

    assert.ok(bundle('ingest').largest.some(sdk), 'the SQS client is not counted in ingest');
    assert.ok(bundle('ingest').coldStartFiles.length > 1);
    assert.ok(!bundle('deliver').largest.some(sdk), `deliver reads SDK code at init: ${bundle('deliver').largest.map(([p]) => p).join(', ')}`);
    for (const file of bundle('deliver').coldStartFiles) assert.doesNotMatch(readFileSync(file, 'utf8'), /["']node:http2["']/, file);
  });

  it('load in a fresh Node and fail their first invocation naming the missing variable', () => {
    for (const b of bundles) {
      const { ok, output } = smokeTest(b.name, b.file);
      assert.ok(ok, output);
    }
    assert.match(smokeTest('ingest', bundle('ingest').file).output, /^ConfigError QUEUE_URL /);
    assert.match(smokeTest('deliver', bundle('deliver').file).output, /^ConfigError REMOTE_WRITE_URL /);
  });
});

describe('bundles on real parts', () => {
  const prometheus = started(() => startPrometheus());
  const sqs = started(() => startSqs());
  // Records what the deliver bundle sends and forwards it to the real Prometheus.
  const recorder = started(() => startFaultServer({ upstream: prometheus().url }));

  const body = readFileSync(new URL('../../fixtures/beam-java/wordcount-committed.json', import.meta.url), 'utf8');
  const aws = () => ({
    AWS_REGION: sqs().region,
    AWS_ENDPOINT_URL_SQS: sqs().endpoint,
    AWS_ACCESS_KEY_ID: DUMMY_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: DUMMY_CREDENTIALS.secretAccessKey,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  });

  /** Runs a Beam push through the ingest bundle and the deliver bundle; returns deliver's batch response. */
  async function push(path: string, deliverEnv: Record<string, string>): Promise<{ batchItemFailures: unknown[] }> {
    const reply = (await invoke(bundle('ingest').file, httpApiV2Event(path, body), { ...aws(), QUEUE_URL: sqs().queueUrl })) as { statusCode: number; body: string };
    assert.equal(reply.statusCode, 200, reply.body);
    const messages = await receiveAll(sqs().client, sqs().queueUrl);
    assert.ok(messages.length > 0, 'the ingest bundle enqueued nothing');
    return (await invoke(bundle('deliver').file, sqsEventOf(messages, sqs().queueArn), { ...aws(), DLQ_URL: sqs().dlqUrl, ...deliverEnv })) as {
      batchItemFailures: unknown[];
    };
  }

  it('carry a Beam push through ingest, SQS and deliver into Prometheus', async () => {
    const result = await push('/metrics/job/bundled/env/e2e', { REMOTE_WRITE_URL: prometheus().remoteWriteUrl });

    assert.deepEqual(result.batchItemFailures, []);
    const series = await waitForQuery(prometheus().url, 'beam_emptyLines_total{job="bundled",env="e2e"}', (r) => r.length === 1, { timeoutMs: 15_000 });
    assert.equal(series[0]!.value, 1198);
  });

  it('sign remote-write with SigV4 from the lazily loaded signer and the credential chain', async () => {
    const result = await push('/metrics/job/bundled-signed', {
      REMOTE_WRITE_URL: `${recorder().url}/api/v1/write`,
      REMOTE_WRITE_SIGV4: 'true',
      REMOTE_WRITE_SIGV4_REGION: 'eu-west-1',
    });

    assert.deepEqual(result.batchItemFailures, []);
    const headers = recorder().requests.map((r) => r.headers);
    assert.ok(headers.length > 0, 'nothing reached the recorder');
    for (const h of headers) {
      assert.match(String(h.authorization), new RegExp(`^AWS4-HMAC-SHA256 Credential=${DUMMY_CREDENTIALS.accessKeyId}/\\d{8}/eu-west-1/aps/aws4_request, SignedHeaders=`));
      assert.match(String(h['x-amz-date']), /^\d{8}T\d{6}Z$/);
      assert.match(String(h['x-amz-content-sha256']), /^[0-9a-f]{64}$/);
    }
    const series = await waitForQuery(prometheus().url, 'beam_emptyLines_total{job="bundled-signed"}', (r) => r.length === 1, { timeoutMs: 15_000 });
    assert.equal(series[0]!.value, 1198);
  });
});
