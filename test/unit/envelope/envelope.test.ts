import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildEnvelopes, fromEnvelopeValue, parseEnvelope, type EnvelopeHeader } from '../../../lib/envelope/envelope.ts';
import { EnvelopeTooLargeError, MalformedEnvelopeError } from '../../../lib/envelope/errors.ts';
import type { MetricFamily, Point } from '../../../lib/model/series.ts';

const header: EnvelopeHeader = { id: 'req-1', source: 'beam-java', receivedAt: 1_763_633_700_000, group: { job: 'wordcount', env: 'prod' }, labels: { region: 'eu' } };
const families: MetricFamily[] = [
  { name: 'beam_words_total', type: 'counter', help: 'Beam counter "words"' },
  { name: 'beam_len', type: 'summary' },
];

function points(n: number, labelBytes = 10): Point[] {
  return Array.from({ length: n }, (_, i) => ({ name: 'beam_words_total', labels: { step: `s${i}`.padEnd(labelBytes, 'x') }, value: i }));
}

describe('buildEnvelopes / parseEnvelope', () => {
  it('round-trips the header, families, points and the ingest timestamp', () => {
    const input: Point[] = [
      { name: 'beam_words_total', labels: { namespace: 'ns', step: 'ExtractWords' }, value: 58190 },
      { name: 'beam_len_sum', labels: {}, value: 405720 },
      { name: 'beam_gauge', labels: {}, value: 36, timestampMs: 1_763_633_701_980 },
    ];
    const [body, ...rest] = buildEnvelopes({ ...header, jobEnded: true }, families, input);
    assert.equal(rest.length, 0);
    const e = parseEnvelope(body!);
    assert.equal(e.v, 1);
    assert.equal(e.id, 'req-1');
    assert.deepEqual([e.part, e.parts], [0, 1]);
    assert.equal(e.receivedAt, header.receivedAt);
    assert.deepEqual(e.group, header.group);
    assert.deepEqual(e.labels, header.labels);
    assert.equal(e.jobEnded, true);
    assert.deepEqual(e.families, families);
    assert.deepEqual(e.points, input);
  });

  it('carries NaN and infinities as Prometheus spells them', () => {
    const input: Point[] = [NaN, Infinity, -Infinity].map((value) => ({ name: 'g', labels: {}, value }));
    const e = parseEnvelope(buildEnvelopes(header, [], input)[0]!);
    assert.deepEqual(e.points.map((p) => p.value), ['NaN', '+Inf', '-Inf']);
    assert.ok(Number.isNaN(fromEnvelopeValue(e.points[0]!.value)));
    assert.equal(fromEnvelopeValue(e.points[1]!.value), Infinity);
  });

  it('splits into parts that each stay under the byte limit and keep every point once', () => {
    const input = points(2000, 200);
    const bodies = buildEnvelopes(header, families, input, 64 * 1024);
    assert.ok(bodies.length > 1);
    const seen: string[] = [];
    bodies.forEach((body, i) => {
      assert.ok(Buffer.byteLength(body) <= 64 * 1024, `part ${i} is ${Buffer.byteLength(body)} bytes`);
      const e = parseEnvelope(body);
      assert.deepEqual([e.part, e.parts], [i, bodies.length]);
      // Every part carries the metadata of the families its points belong to.
      assert.deepEqual(e.families.map((f) => f.name), ['beam_words_total']);
      for (const p of e.points) seen.push(p.labels.step!);
    });
    assert.deepEqual(seen, input.map((p) => p.labels.step));
  });

  it('counts bytes as UTF-8, not as characters', () => {
    const input = points(300, 100).map((p) => ({ ...p, labels: { step: '√'.repeat(100) + p.labels.step } }));
    for (const body of buildEnvelopes(header, families, input, 32 * 1024)) assert.ok(Buffer.byteLength(body) <= 32 * 1024);
  });

  it('refuses a single point larger than a message', () => {
    assert.throws(() => buildEnvelopes(header, [], [{ name: 'x', labels: { big: 'v'.repeat(70_000) }, value: 1 }], 64 * 1024), EnvelopeTooLargeError);
  });

  it('yields one envelope without points for an empty conversion (ingest then sends nothing)', () => {
    assert.deepEqual(parseEnvelope(buildEnvelopes(header, families, [])[0]!).points, []);
  });
});

describe('parseEnvelope rejects what is not an envelope', () => {
  const good = JSON.parse(buildEnvelopes(header, [], [{ name: 'x', labels: {}, value: 1 }])[0]!);
  const cases: Array<[string, string, string]> = [
    ['not JSON', '{', '$'],
    ['an array', '[]', '$'],
    ['another version', JSON.stringify({ ...good, v: 2 }), '$.v'],
    ['a missing id', JSON.stringify({ ...good, id: undefined }), '$.id'],
    ['a label that is not a string', JSON.stringify({ ...good, group: { job: 1 } }), '$.group.job'],
    ['a bad value', JSON.stringify({ ...good, points: [{ name: 'x', labels: {}, value: 'one' }] }), '$.points[0].value'],
    ['a fractional timestamp', JSON.stringify({ ...good, points: [{ name: 'x', labels: {}, value: 1, timestampMs: 1.5 }] }), '$.points[0].timestampMs'],
    ['an unknown family type', JSON.stringify({ ...good, families: [{ name: 'x', type: 'weird' }] }), '$.families[0]'],
  ];
  for (const [name, body, path] of cases) {
    it(name, () => {
      assert.throws(() => parseEnvelope(body), (e: unknown) => e instanceof MalformedEnvelopeError && e.path === path);
    });
  }
});
