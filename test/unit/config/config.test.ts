import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadDeliverConfig } from '../../../lib/deliver/config.ts';
import { labelList } from '../../../lib/config/env.ts';
import { ConfigError } from '../../../lib/config/errors.ts';
import { loadIngestConfig } from '../../../lib/ingest/config.ts';

const failsOn = (variable: string, fn: () => unknown) =>
  assert.throws(fn, (e: unknown) => e instanceof ConfigError && e.variable === variable && e.message.startsWith(`${variable}: `));

describe('ingest configuration', () => {
  const base = { QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/relay' };

  it('applies the documented defaults', () => {
    const c = loadIngestConfig(base);
    assert.equal(c.fifo, false);
    assert.equal(c.options.conversion.prefix, 'beam_');
    assert.equal(c.options.conversion.results, 'preferred');
    assert.equal(c.options.limits.maxLabelsPerSeries, 70);
    assert.equal(c.options.body.maxBodyBytes, 5 * 1024 * 1024);
    assert.equal(c.options.textFormat.timestamps, 'reject');
    assert.deepEqual(c.options.auth, {});
    assert.deepEqual(c.options.staticLabels, {});
  });

  it('names the variable that is wrong and why', () => {
    failsOn('QUEUE_URL', () => loadIngestConfig({}));
    failsOn('INGEST_TOKEN', () => loadIngestConfig({ ...base, INGEST_TOKEN: 'short' }));
    failsOn('MAX_BODY_BYTES', () => loadIngestConfig({ ...base, MAX_BODY_BYTES: 'lots' }));
    failsOn('MAX_BODY_BYTES', () => loadIngestConfig({ ...base, MAX_BODY_BYTES: '999999999' }));
    failsOn('BEAM_RESULTS', () => loadIngestConfig({ ...base, BEAM_RESULTS: 'all' }));
    failsOn('STATIC_LABELS', () => loadIngestConfig({ ...base, STATIC_LABELS: 'env' }));
    failsOn('METRIC_PREFIX', () => loadIngestConfig({ ...base, METRIC_PREFIX: '1x' }));
    failsOn('EVENT_SOURCES', () => loadIngestConfig({ ...base, EVENT_SOURCES: 'aws.glue' }));
  });

  it('sees a FIFO queue by its URL', () => {
    assert.equal(loadIngestConfig({ QUEUE_URL: base.QUEUE_URL + '.fifo' }).fifo, true);
  });
});

describe('STATIC_LABELS', () => {
  it('reads name=value pairs and refuses bad names, empty values and repeats', () => {
    assert.deepEqual(labelList({ L: ' env=prod , region=eu-west-1 ' }, 'L'), { env: 'prod', region: 'eu-west-1' });
    for (const bad of ['1x=a', '__name__=a', 'a=', 'a=1,a=2', 'novalue']) {
      failsOn('L', () => labelList({ L: bad }, 'L'));
    }
  });
});

describe('deliver configuration', () => {
  it('needs at least one destination', () => {
    failsOn('REMOTE_WRITE_URL', () => loadDeliverConfig({}));
    assert.ok(loadDeliverConfig({ PUSHGATEWAY_URL: 'http://127.0.0.1:9091' }).pushgateway);
  });

  it('refuses a URL that is not http(s), and credentials inside the remote-write URL', () => {
    failsOn('REMOTE_WRITE_URL', () => loadDeliverConfig({ REMOTE_WRITE_URL: 'ftp://x/api/v1/write' }));
    failsOn('REMOTE_WRITE_URL', () => loadDeliverConfig({ REMOTE_WRITE_URL: 'not a url' }));
    failsOn('REMOTE_WRITE_URL', () => loadDeliverConfig({ REMOTE_WRITE_URL: 'https://u:p@mimir/api/v1/push' }));
  });

  it('turns Pushgateway URL credentials into basic auth and strips them from the URL', () => {
    const c = loadDeliverConfig({ PUSHGATEWAY_URL: 'https://relay:s%40cret@pushgateway.example:9091/' });
    assert.equal(c.pushgatewayUrl, 'https://pushgateway.example:9091');
    assert.equal(c.pushgateway!.headers.Authorization, 'Basic ' + Buffer.from('relay:s@cret').toString('base64'));
  });

  it('keeps the retry ceiling above its base', () => {
    failsOn('RETRY_MAX_MS', () => loadDeliverConfig({ REMOTE_WRITE_URL: 'http://p/api/v1/write', RETRY_BASE_MS: '500', RETRY_MAX_MS: '100' }));
  });

  it('reads the remote-write defaults', () => {
    const rw = loadDeliverConfig({ REMOTE_WRITE_URL: 'http://p:9090/api/v1/write' }).remoteWrite!;
    assert.deepEqual([rw.protocol, rw.maxSamples, rw.concurrency, rw.retryOn429, rw.timeoutMs], ['1.0', 2000, 4, true, 10_000]);
  });
});

describe('STATIC_LABELS with names that are also Object properties', () => {
  it('reads constructor and toString as ordinary label names', () => {
    assert.deepEqual(labelList({ L: 'constructor=a,toString=b' }, 'L'), { constructor: 'a', toString: 'b' });
  });
});
