import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildEnvelopes, fromEnvelopeValue, parseEnvelope, type EnvelopeHeader, type EnvelopePoint } from '../../../lib/envelope/envelope.ts';
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
    assert.equal(e.v, 2);
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

  it('carries each distinct label set once per part, and its points share one labels object', () => {
    const input: Point[] = ['a_total', 'b_total', 'c_total'].flatMap((name) =>
      ['s1', 's2'].map((step) => ({ name, labels: { namespace: 'ns', step }, value: 1 })),
    );
    const [body] = buildEnvelopes(header, [], input);
    assert.deepEqual(JSON.parse(body!).labelSets, [['namespace', 'ns', 'step', 's1'], ['namespace', 'ns', 'step', 's2']]);
    const e = parseEnvelope(body!);
    assert.deepEqual(e.points, input);
    assert.equal(e.points[0]!.labels, e.points[2]!.labels);
    assert.notEqual(e.points[0]!.labels, e.points[1]!.labels);
  });

  it('gives every part the label sets its own points use', () => {
    const input: Point[] = Array.from({ length: 400 }, (_, i) => ({ name: `m${i}_total`, labels: { step: `s${i % 3}`.padEnd(50, 'x') }, value: i }));
    const bodies = buildEnvelopes(header, [], input, 4 * 1024);
    assert.ok(bodies.length > 2);
    const seen: EnvelopePoint[] = [];
    for (const body of bodies) {
      assert.ok(Buffer.byteLength(body) <= 4 * 1024);
      const raw = JSON.parse(body) as { labelSets: string[][]; points: unknown[][] };
      assert.equal(raw.labelSets.length, 3);
      assert.deepEqual([...new Set(raw.points.map((p) => p[1]))].sort(), [0, 1, 2]);
      seen.push(...parseEnvelope(body).points);
    }
    assert.deepEqual(seen, input);
  });

  it('fills a part up to the byte limit exactly as measured in UTF-8', () => {
    // Each part must be full: one more point would have crossed the limit.
    const input = points(500, 40).map((p, i) => ({ ...p, labels: { step: 'é'.repeat(i % 7) + p.labels.step } }));
    const limit = 8 * 1024;
    const bodies = buildEnvelopes(header, families, input, limit);
    const pointBytes = (p: Point) => Buffer.byteLength(JSON.stringify([p.name, 0, p.value])) + Buffer.byteLength(JSON.stringify(Object.entries(p.labels).flat())) + 2;
    let at = 0;
    bodies.forEach((body, i) => {
      const n = parseEnvelope(body).points.length;
      at += n;
      assert.ok(Buffer.byteLength(body) <= limit);
      // The budget reserves 20 digits each for part and parts; the next point would not have fitted beside them.
      if (i < bodies.length - 1) assert.ok(Buffer.byteLength(body) + pointBytes(input[at]!) + 40 > limit - 60, `part ${i} left room`);
    });
    assert.equal(at, input.length);
  });

  it('writes label sets as JSON.stringify would, whatever characters their names and values hold', () => {
    const values = ['plain', 'quote"d', 'back\\slash', 'new\nline', 'ctl\u0001', 'emoji 😀', 'lone \ud800', 'sep\u2028', 'é√'];
    const input: Point[] = values.map((v, i) => ({ name: 'm', labels: { [`k${i}`]: v, z: v }, value: i }));
    const [body] = buildEnvelopes(header, [], input);
    assert.deepEqual(JSON.parse(body!).labelSets, input.map((p) => Object.entries(p.labels).flat()));
    assert.ok(body!.includes(JSON.stringify(['k6', 'lone \ud800', 'z', 'lone \ud800']).slice(1, -1)));
    assert.deepEqual(parseEnvelope(body!).points, input);
  });

  it('keeps a label named __proto__ as an own label', () => {
    const input: Point[] = [{ name: 'm', labels: JSON.parse('{"__proto__":"x","a":"b"}') as Record<string, string>, value: 1 }];
    const e = parseEnvelope(buildEnvelopes(header, [], input)[0]!);
    assert.deepEqual(Object.keys(e.points[0]!.labels), ['__proto__', 'a']);
    assert.equal(Object.getPrototypeOf(e.points[0]!.labels), Object.prototype);
  });

  it('yields one envelope without points for an empty conversion (ingest then sends nothing)', () => {
    assert.deepEqual(parseEnvelope(buildEnvelopes(header, families, [])[0]!).points, []);
  });
});

/** A version 1 body, as ingest wrote them before version 2: still queued after an upgrade. */
const v1Body = JSON.stringify({
  v: 1,
  id: 'req-old',
  part: 0,
  parts: 1,
  source: 'beam-java',
  receivedAt: 1_763_633_700_000,
  group: { job: 'wordcount' },
  labels: { region: 'eu' },
  families: [{ name: 'beam_words_total', type: 'counter' }],
  points: [
    { name: 'beam_words_total', labels: { step: 'a' }, value: 3 },
    { name: 'beam_gauge', labels: {}, value: '+Inf', timestampMs: 1_763_633_701_980 },
  ],
});

describe('parseEnvelope reads version 1 bodies', () => {
  it('returns a version 1 body\'s header and points as they were written', () => {
    const e = parseEnvelope(v1Body);
    assert.equal(e.v, 1);
    assert.deepEqual(e.group, { job: 'wordcount' });
    assert.deepEqual(e.points, [
      { name: 'beam_words_total', labels: { step: 'a' }, value: 3 },
      { name: 'beam_gauge', labels: {}, value: '+Inf', timestampMs: 1_763_633_701_980 },
    ]);
  });

  it('reads the same points from a version 1 body as from the version 2 body of the same request', () => {
    const old = parseEnvelope(v1Body);
    const current = parseEnvelope(buildEnvelopes(old, old.families, old.points.map((p) => ({ ...p, value: fromEnvelopeValue(p.value) })))[0]!);
    assert.deepEqual(current.points, old.points);
  });
});

describe('parseEnvelope rejects what is not an envelope', () => {
  const good = JSON.parse(buildEnvelopes(header, [], [{ name: 'x', labels: { a: 'b' }, value: 1 }])[0]!);
  const goodV1 = JSON.parse(v1Body);
  const cases: Array<[string, string, string]> = [
    ['not JSON', '{', '$'],
    ['an array', '[]', '$'],
    ['another version', JSON.stringify({ ...good, v: 3 }), '$.v'],
    ['a missing id', JSON.stringify({ ...good, id: undefined }), '$.id'],
    ['a label that is not a string', JSON.stringify({ ...good, group: { job: 1 } }), '$.group.job'],
    ['a bad value', JSON.stringify({ ...good, points: [['x', 0, 'one']] }), '$.points[0][2]'],
    ['a fractional timestamp', JSON.stringify({ ...good, points: [['x', 0, 1, 1.5]] }), '$.points[0][3]'],
    ['a point that is not an array', JSON.stringify({ ...good, points: [{ name: 'x' }] }), '$.points[0]'],
    ['a label set index out of range', JSON.stringify({ ...good, points: [['x', 1, 1]] }), '$.points[0][1]'],
    ['a negative label set index', JSON.stringify({ ...good, points: [['x', -1, 1]] }), '$.points[0][1]'],
    ['a label set index that is a string', JSON.stringify({ ...good, points: [['x', '0', 1]] }), '$.points[0][1]'],
    ['missing label sets', JSON.stringify({ ...good, labelSets: undefined }), '$.labelSets'],
    ['a label set of odd length', JSON.stringify({ ...good, labelSets: [['a', 'b', 'c']] }), '$.labelSets[0]'],
    ['a label value that is not a string', JSON.stringify({ ...good, labelSets: [['a', 1]] }), '$.labelSets[0][1]'],
    ['a label set naming a label twice', JSON.stringify({ ...good, labelSets: [['a', 'b', 'a', 'c']] }), '$.labelSets[0][2]'],
    ['an unknown family type', JSON.stringify({ ...good, families: [{ name: 'x', type: 'weird' }] }), '$.families[0]'],
    ['a version 1 bad value', JSON.stringify({ ...goodV1, points: [{ name: 'x', labels: {}, value: 'one' }] }), '$.points[0].value'],
    ['a version 1 fractional timestamp', JSON.stringify({ ...goodV1, points: [{ name: 'x', labels: {}, value: 1, timestampMs: 1.5 }] }), '$.points[0].timestampMs'],
  ];
  for (const [name, body, path] of cases) {
    it(name, () => {
      assert.throws(() => parseEnvelope(body), (e: unknown) => e instanceof MalformedEnvelopeError && e.path === path);
    });
  }
});
