import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { costPerMillion, PRICES } from '../../../bench/cost.ts';
import { END_MARKER, START_MARKER, writeResults } from '../../../bench/report.ts';
import { QUICK, runBench, type Group } from '../../../bench/run.ts';

describe('npm run bench (quick smoke run)', () => {
  it('measures the in-process rows on tiny workloads and gives each a figure, a reference and a target', async () => {
    const groups = new Set<Group>(['encode', 'text', 'ingest']);

    const { rows } = await runBench({ ...QUICK, groups });

    const expected = ['remote-write 1.0 encode + snappy', 'same, vs the floor', 'text exposition encode', 'ingest handler CPU'];
    assert.equal(rows.length, expected.length);
    rows.forEach((r, i) => assert.ok(r.row.startsWith(expected[i]!), `row ${i} is "${r.row}"`));
    for (const r of rows) {
      assert.match(r.ours, /^\d+(\.\d+)? /, `${r.row}: ours is a figure`);
      assert.ok(r.target.length > 0, `${r.row}: has a target`);
      assert.notEqual(r.met, undefined, `${r.row}: is judged against its target`);
    }
    for (const r of rows.slice(0, 3)) assert.match(r.ratio, /^\d+(\.\d+)?× /, `${r.row}: has a ratio`);
  });
});

describe('bench cost model', () => {
  it('charges HTTP API and Lambda requests per body and per batch, as the list prices say', () => {
    const inputs = { samplesPerBody: 100, messagesPerBody: 1, envelopeBytesPerBody: 1000, ingestCpuMs: 0, deliverSamples: 100_000, deliverMs: 0, deliverCpuMs: 0 };

    const cost = costPerMillion(inputs);

    // 10,000 bodies: HTTP API requests; ingest pays 10,000 invocations plus 20 ms of waiting at 256 MB each.
    assert.equal(cost.apiGateway, 10_000 * PRICES.httpApiRequest);
    assert.equal(cost.ingestLambda, 10_000 * (PRICES.lambdaRequest + 0.02 * 0.25 * PRICES.lambdaGbSecond));
    // One send, a tenth of a receive and a tenth of a delete per message; 10 deliver invocations.
    assert.ok(Math.abs(cost.sqs - 10_000 * 1.2 * PRICES.sqsRequest) < 1e-12);
    assert.equal(cost.deliverLambda, 10 * PRICES.lambdaRequest);
  });
});

describe('BENCHMARKS.md writer', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bench-report-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('replaces only the block between the markers and keeps the hand-written story', () => {
    const file = join(dir, 'BENCHMARKS.md');
    writeFileSync(file, `# Benchmarks\n\n${START_MARKER}\nold table\n${END_MARKER}\n\n## What we changed\n\nThe story.\n`);

    writeResults(file, 'new table');

    const text = readFileSync(file, 'utf8');
    assert.ok(text.includes(`${START_MARKER}\nnew table\n${END_MARKER}`));
    assert.ok(!text.includes('old table'));
    assert.ok(text.endsWith('## What we changed\n\nThe story.\n'));
  });
});
