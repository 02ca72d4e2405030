import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { buildEnvelopes, envelopePoints, fromEnvelopeValue, parseEnvelope, pointCount, type EnvelopeHeader, type EnvelopePoint } from '../../../lib/envelope/envelope.ts';
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
    assert.equal(e.v, 4);
    assert.equal(e.id, 'req-1');
    assert.deepEqual([e.part, e.parts], [0, 1]);
    assert.equal(e.receivedAt, header.receivedAt);
    assert.deepEqual(e.group, header.group);
    assert.deepEqual(e.labels, header.labels);
    assert.equal(e.jobEnded, true);
    assert.deepEqual(e.families, families);
    assert.deepEqual(envelopePoints(e), input);
  });

  it('carries NaN and infinities as Prometheus spells them', () => {
    const input: Point[] = [NaN, Infinity, -Infinity].map((value) => ({ name: 'g', labels: {}, value }));
    const e = envelopePoints(parseEnvelope(buildEnvelopes(header, [], input)[0]!));
    assert.deepEqual(e.map((p) => p.value), ['NaN', '+Inf', '-Inf']);
    assert.ok(Number.isNaN(fromEnvelopeValue(e[0]!.value)));
    assert.equal(fromEnvelopeValue(e[1]!.value), Infinity);
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
      for (const p of envelopePoints(e)) seen.push(p.labels.step!);
    });
    assert.deepEqual(seen, input.map((p) => p.labels.step));
  });

  it('keeps every part within the limit and every point once, for any points, names, values and timestamps', () => {
    const text = fc.string({ unit: fc.constantFrom('a', 'b', 'é', '√', '"', '\\', '😀', '_'), maxLength: 12 });
    const point = fc.record({
      name: fc.oneof(fc.constantFrom('m_total', 'g'), text.map((t) => `n_${t}`)),
      labels: fc.dictionary(fc.constantFrom('step', 'namespace', 'k'), text, { maxKeys: 3 }).map((d) => ({ ...d })),
      value: fc.oneof(fc.double(), fc.integer()),
      timestampMs: fc.option(fc.integer({ min: 0, max: 4_000_000_000_000 }), { nil: undefined }),
    });
    fc.assert(
      fc.property(fc.array(point, { maxLength: 60 }), fc.integer({ min: 420, max: 2000 }), (input, maxBytes) => {
        const points: Point[] = input.map((p) => (p.timestampMs === undefined ? { name: p.name, labels: p.labels, value: p.value } : p));
        let bodies: string[];
        try {
          bodies = buildEnvelopes(header, families, points, maxBytes);
        } catch (error) {
          // Only a point that cannot fit a part alone may be refused.
          assert.ok(error instanceof EnvelopeTooLargeError);
          return;
        }
        const seen: EnvelopePoint[] = [];
        for (const body of bodies) {
          // The budget is exact but for what it reserves (see the test below): part and parts' digits, the
          // timestamps list when absent, one separator per non-empty list.
          const raw = JSON.parse(body) as Record<string, unknown[] | number>;
          const lists = ['families', 'labelSets', 'names', 'layout', 'values', 'timestamps'].map((k) => raw[k] as unknown[] | undefined);
          const reserved = 49 - String(raw.part).length - String(raw.parts).length + (raw.timestamps === undefined ? 16 : 0) + lists.filter((l) => l !== undefined && l.length > 0).length;
          assert.ok(Buffer.byteLength(body) + reserved <= maxBytes, `${Buffer.byteLength(body)} + ${reserved} > ${maxBytes}`);
          seen.push(...envelopePoints(parseEnvelope(body)));
        }
        // JSON has one zero: -0 travels as 0.
        const expected = points.map((p) => ({ ...p, value: Object.is(p.value, -0) ? 0 : p.value }));
        assert.deepEqual(seen.map((p) => ({ ...p, value: fromEnvelopeValue(p.value) })), expected);
      }),
      { seed: 20261122, numRuns: 400 },
    );
  });

  it('budgets a point exactly: the smallest limit that takes it alone is its body plus what the budget reserves', () => {
    const text = fc.string({ unit: fc.constantFrom('a', 'é', '"', '😀', '_'), maxLength: 10 });
    const point = fc.record({
      name: fc.constantFrom('beam_words_total', 'beam_len_sum', 'other'),
      labels: fc.dictionary(fc.constantFrom('step', 'k'), text, { maxKeys: 2 }).map((d) => ({ ...d })),
      value: fc.oneof(fc.double(), fc.integer()),
      timestampMs: fc.option(fc.integer({ min: 0, max: 4_000_000_000_000 }), { nil: undefined }),
    });
    fc.assert(
      fc.property(point, (p) => {
        const input: Point[] = [p.timestampMs === undefined ? { name: p.name, labels: p.labels, value: p.value } : p];
        const body = buildEnvelopes(header, families, input)[0]!;
        // Reserved: 20 digits each for part and parts ("0" and "1" used) on top of the 9 letters of the placeholders
        // the header is measured with, the timestamps list when absent, and one separator per non-empty list.
        const raw = JSON.parse(body) as Record<string, unknown[]>;
        const lists = ['families', 'labelSets', 'names', 'layout', 'values', 'timestamps'].filter((k) => (raw[k]?.length ?? 0) > 0);
        const exact = Buffer.byteLength(body) + 38 + 9 + (raw.timestamps === undefined ? 16 : 0) + lists.length;
        assert.equal(buildEnvelopes(header, families, input, exact)[0], body);
        assert.throws(() => buildEnvelopes(header, families, input, exact - 1), EnvelopeTooLargeError);
      }),
      { seed: 20261122, numRuns: 300 },
    );
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
    const e = envelopePoints(parseEnvelope(body!));
    assert.deepEqual(e, input);
    assert.equal(e[0]!.labels, e[2]!.labels);
    assert.notEqual(e[0]!.labels, e[1]!.labels);
  });

  it('carries each metric name once per part, and timestamps only for the points that have their own', () => {
    const input: Point[] = [
      { name: 'a_total', labels: { step: 's1' }, value: 1 },
      { name: 'a_total', labels: { step: 's2' }, value: 2 },
      { name: 'g', labels: { step: 's1' }, value: 0.5, timestampMs: header.receivedAt - 1500 },
    ];
    const [body] = buildEnvelopes(header, [], input);
    const raw = JSON.parse(body!);
    assert.deepEqual(raw.names, ['a_total', 'g']);
    assert.deepEqual(raw.layout, [0, 0, 0, 1, 1, 0]);
    assert.deepEqual(raw.values, [1, 2, 0.5]);
    assert.deepEqual(raw.timestamps, [2, header.receivedAt - 1500]);
    assert.deepEqual(parseEnvelope(body!).timestampsMs, [NaN, NaN, header.receivedAt - 1500]);
    assert.equal('timestamps' in JSON.parse(buildEnvelopes(header, [], input.slice(0, 2))[0]!), false);
  });

  it('gives every part the label sets its own points use', () => {
    const input: Point[] = Array.from({ length: 400 }, (_, i) => ({ name: `m${i}_total`, labels: { step: `s${i % 3}`.padEnd(50, 'x') }, value: i }));
    const bodies = buildEnvelopes(header, [], input, 4 * 1024);
    assert.ok(bodies.length > 2);
    const seen: EnvelopePoint[] = [];
    for (const body of bodies) {
      assert.ok(Buffer.byteLength(body) <= 4 * 1024);
      const raw = JSON.parse(body) as { labelSets: string[][]; layout: number[] };
      assert.equal(raw.labelSets.length, 3);
      assert.deepEqual([...new Set(raw.layout.filter((_, k) => k % 2 === 1))].sort(), [0, 1, 2]);
      seen.push(...envelopePoints(parseEnvelope(body)));
    }
    assert.deepEqual(seen, input);
  });

  it('fills a part up to the byte limit exactly as measured in UTF-8', () => {
    // Each part must be full: one more point would have crossed the limit.
    const input = points(500, 40).map((p, i) => ({ ...p, labels: { step: 'é'.repeat(i % 7) + p.labels.step } }));
    const limit = 8 * 1024;
    const bodies = buildEnvelopes(header, families, input, limit);
    // A point's triple (its name is in the part already; its set index at most three digits) and its label set.
    const pointBytes = (p: Point) => `0,000,${p.value},`.length + Buffer.byteLength(JSON.stringify(Object.entries(p.labels).flat())) + 1;
    let at = 0;
    bodies.forEach((body, i) => {
      const n = pointCount(parseEnvelope(body));
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
    assert.deepEqual(envelopePoints(parseEnvelope(body!)), input);
  });

  it('parses a metadata section once: bodies that carry the same one share its families, label sets and names', () => {
    const input: Point[] = [
      { name: 'beam_words_total', labels: { step: 'a' }, value: 1 },
      { name: 'beam_gauge', labels: { step: 'b' }, value: 2, timestampMs: 1_763_633_701_000 },
    ];
    const first = parseEnvelope(buildEnvelopes(header, families, input)[0]!);
    const second = parseEnvelope(buildEnvelopes({ ...header, id: 'req-2', group: { job: 'other' } }, families, input.map((p) => ({ ...p, value: p.value + 1 })))[0]!);
    assert.equal(second.families, first.families);
    assert.equal(second.labelSets, first.labelSets);
    assert.equal(second.names, first.names);
    assert.deepEqual(second.group, { job: 'other' });
    assert.deepEqual(envelopePoints(second).map((p) => p.value), [2, 3]);
    assert.deepEqual(second.timestampsMs, [NaN, 1_763_633_701_000]);
  });

  it('shares the grouping key and static labels of bodies whose header context is the same text', () => {
    const input: Point[] = [{ name: 'beam_words_total', labels: { step: 'a' }, value: 1 }];
    const parse = (h: EnvelopeHeader) => parseEnvelope(buildEnvelopes(h, families, input)[0]!);
    const first = parse({ ...header, id: 'ctx-1' });
    const second = parse({ ...header, id: 'ctx-2', receivedAt: header.receivedAt + 5_000 });
    const otherJob = parse({ ...header, id: 'ctx-3', group: { job: 'other', env: 'prod' } });
    const ended = parse({ ...header, id: 'ctx-4', jobEnded: true });
    // A static label named like the header's key: only the header's own `,"group":` starts its context.
    const tricky = parse({ ...header, id: 'ctx-5', labels: { a: '1', group: 'g', labels: 'l' } });

    assert.equal(second.group, first.group);
    assert.equal(second.labels, first.labels);
    assert.equal(second.receivedAt, header.receivedAt + 5_000);
    assert.notEqual(otherJob.group, first.group);
    assert.deepEqual(otherJob.group, { job: 'other', env: 'prod' });
    assert.equal(ended.jobEnded, true);
    assert.equal(first.jobEnded, undefined);
    assert.deepEqual([tricky.group, tricky.labels], [header.group, { a: '1', group: 'g', labels: 'l' }]);
  });

  it('names the path of a bad grouping key in a body laid out as ingest writes it', () => {
    const body = buildEnvelopes({ ...header, id: 'ctx-bad' }, families, [{ name: 'beam_words_total', labels: {}, value: 1 }])[0]!;
    const bad = body.replace('"group":{"job":"wordcount"', '"group":{"job":7');
    assert.throws(() => parseEnvelope(bad), (e: unknown) => e instanceof MalformedEnvelopeError && e.path === '$.group.job');
  });

  it('reads a body whose section was met before as a whole-body parse does, with and without own timestamps', () => {
    const input: Point[] = [
      { name: 'beam_words_total', labels: { step: 'a' }, value: 1 },
      { name: 'beam_gauge', labels: { step: 'b' }, value: 2.5 },
    ];
    const wholeParse = (body: string) => parseEnvelope(JSON.stringify(Object.fromEntries(Object.entries(JSON.parse(body) as object).reverse())));
    parseEnvelope(buildEnvelopes(header, families, input)[0]!);
    for (const points of [input, input.map((p, i) => (i === 1 ? { ...p, timestampMs: 1_763_633_701_000 } : p))]) {
      const body = buildEnvelopes({ ...header, id: 'req-3' }, families, points)[0]!;
      assert.deepEqual(parseEnvelope(body), wholeParse(body));
      assert.deepEqual(envelopePoints(parseEnvelope(body)), points);
    }
    const bad = buildEnvelopes({ ...header, id: 'req-4' }, families, input)[0]!.replace(/"values":\[1,/, '"values":["one",');
    assert.throws(() => parseEnvelope(bad), (e: unknown) => e instanceof MalformedEnvelopeError && e.path === '$.values[0]');
  });

  it('finds where each body\'s section ends, whether or not it is as long as the last one read', () => {
    const wholeParse = (body: string) => parseEnvelope(JSON.stringify(Object.fromEntries(Object.entries(JSON.parse(body) as object).reverse())));
    const short = buildEnvelopes({ ...header, id: 'len-1' }, families, [{ name: 'beam_words_total', labels: { step: 'a' }, value: 1 }])[0]!;
    const long = buildEnvelopes({ ...header, id: 'len-2' }, families, [
      { name: 'beam_words_total', labels: { step: 'a' }, value: 2 },
      { name: 'beam_words_total', labels: { step: 'a-much-longer-step-name' }, value: NaN },
      { name: 'beam_gauge', labels: { step: 'b' }, value: 3, timestampMs: 1_763_633_701_000 },
    ])[0]!;
    const stamped = buildEnvelopes({ ...header, id: 'len-3' }, families, [{ name: 'beam_words_total', labels: { step: 'a' }, value: 4, timestampMs: 1_763_633_702_000 }])[0]!;

    for (const body of [short, long, short, stamped, long, stamped]) assert.deepEqual(parseEnvelope(body), wholeParse(body));
    assert.deepEqual(envelopePoints(parseEnvelope(stamped)), [{ name: 'beam_words_total', labels: { step: 'a' }, value: 4, timestampMs: 1_763_633_702_000 }]);
  });

  it('reads a version 3 body with its keys in another order as the same envelope', () => {
    const input: Point[] = [{ name: 'beam_words_total', labels: { step: 'a' }, value: 1, timestampMs: 1_763_633_701_000 }];
    const body = buildEnvelopes({ ...header, jobEnded: true }, families, input)[0]!;
    const raw = JSON.parse(body) as Record<string, unknown>;
    const reordered = JSON.stringify(Object.fromEntries(Object.entries(raw).reverse()));
    assert.ok(reordered.indexOf('"points"') < reordered.indexOf('"families"'));
    const e = parseEnvelope(reordered);
    assert.deepEqual(e, parseEnvelope(body));
    assert.deepEqual(envelopePoints(e), input);
    assert.equal(e.jobEnded, true);
  });

  it('keeps a label named __proto__ as an own label', () => {
    const input: Point[] = [{ name: 'm', labels: JSON.parse('{"__proto__":"x","a":"b"}') as Record<string, string>, value: 1 }];
    const e = parseEnvelope(buildEnvelopes(header, [], input)[0]!);
    assert.deepEqual(Object.keys(e.labelSets[0]!), ['__proto__', 'a']);
    assert.equal(Object.getPrototypeOf(e.labelSets[0]!), Object.prototype);
  });

  it('yields one envelope without points for an empty conversion (ingest then sends nothing)', () => {
    const e = parseEnvelope(buildEnvelopes(header, families, [])[0]!);
    assert.deepEqual([e.values, [...e.layout]], [[], []]);
  });
});

/** The header fields of the older bodies below, written as every version writes them. */
const queuedHeader = { part: 0, parts: 1, source: 'beam-java', receivedAt: 1_763_633_700_000, group: { job: 'wordcount' } };

/** A version 1 body, as ingest wrote them before version 2: still queued after an upgrade. */
const v1Body = JSON.stringify({
  v: 1,
  id: 'req-old',
  ...queuedHeader,
  labels: { region: 'eu' },
  families: [{ name: 'beam_words_total', type: 'counter' }],
  points: [
    { name: 'beam_words_total', labels: { step: 'a' }, value: 3 },
    { name: 'beam_gauge', labels: {}, value: '+Inf', timestampMs: 1_763_633_701_980 },
  ],
});

/** A version 2 body, as ingest wrote them before version 3. */
const v2Body = JSON.stringify({
  v: 2,
  id: 'req-v2',
  ...queuedHeader,
  labels: {},
  families: [{ name: 'beam_words_total', type: 'counter' }],
  labelSets: [['namespace', 'ns', 'step', 'a'], ['namespace', 'ns', 'step', 'b']],
  points: [['beam_words_total', 0, 3], ['beam_words_total', 1, 4], ['beam_gauge', 0, 'NaN', 1_763_633_701_980]],
});

/** A version 3 body, as ingest wrote them before version 4: the indices inside the points. */
const v3Body = JSON.stringify({
  v: 3,
  id: 'req-v3',
  ...queuedHeader,
  labels: {},
  families: [{ name: 'beam_words_total', type: 'counter' }],
  labelSets: [['namespace', 'ns', 'step', 'a'], ['namespace', 'ns', 'step', 'b']],
  names: ['beam_words_total', 'beam_gauge'],
  points: [0, 0, 3, 0, 1, 4, 1, 0, 'NaN'],
  timestamps: [2, 1_763_633_701_980],
});

describe('parseEnvelope reads the bodies of earlier versions', () => {
  it('returns a version 1 body\'s header and points as they were written', () => {
    const e = parseEnvelope(v1Body);
    assert.equal(e.v, 1);
    assert.deepEqual(e.group, { job: 'wordcount' });
    assert.deepEqual(envelopePoints(e), [
      { name: 'beam_words_total', labels: { step: 'a' }, value: 3 },
      { name: 'beam_gauge', labels: {}, value: '+Inf', timestampMs: 1_763_633_701_980 },
    ]);
  });

  it('returns a version 2 body\'s points as they were written, those of one label set sharing its object', () => {
    const e = parseEnvelope(v2Body);
    assert.equal(e.v, 2);
    const points = envelopePoints(e);
    assert.deepEqual(points, [
      { name: 'beam_words_total', labels: { namespace: 'ns', step: 'a' }, value: 3 },
      { name: 'beam_words_total', labels: { namespace: 'ns', step: 'b' }, value: 4 },
      { name: 'beam_gauge', labels: { namespace: 'ns', step: 'a' }, value: 'NaN', timestampMs: 1_763_633_701_980 },
    ]);
    assert.equal(points[0]!.labels, points[2]!.labels);
    assert.deepEqual(e.names, ['beam_words_total', 'beam_gauge']);
  });

  it('returns a version 3 body\'s points as they were written, with their own timestamps', () => {
    const e = parseEnvelope(v3Body);
    assert.equal(e.v, 3);
    assert.deepEqual(envelopePoints(e), [
      { name: 'beam_words_total', labels: { namespace: 'ns', step: 'a' }, value: 3 },
      { name: 'beam_words_total', labels: { namespace: 'ns', step: 'b' }, value: 4 },
      { name: 'beam_gauge', labels: { namespace: 'ns', step: 'a' }, value: 'NaN', timestampMs: 1_763_633_701_980 },
    ]);
  });

  it('reads the same points from version 1, 2 and 3 bodies as from the version 4 body of the same request', () => {
    for (const body of [v1Body, v2Body, v3Body]) {
      const old = parseEnvelope(body);
      const points = envelopePoints(old);
      const current = parseEnvelope(buildEnvelopes(old, old.families, points.map((p) => ({ ...p, value: fromEnvelopeValue(p.value) })))[0]!);
      assert.equal(current.v, 4);
      assert.deepEqual(envelopePoints(current), points);
    }
  });
});

describe('parseEnvelope rejects what is not an envelope', () => {
  const good = JSON.parse(buildEnvelopes(header, [], [{ name: 'x', labels: { a: 'b' }, value: 1 }])[0]!);
  const goodV1 = JSON.parse(v1Body);
  const goodV2 = JSON.parse(v2Body);
  const goodV3 = JSON.parse(v3Body);
  const cases: Array<[string, string, string]> = [
    ['not JSON', '{', '$'],
    ['an array', '[]', '$'],
    ['another version', JSON.stringify({ ...good, v: 5 }), '$.v'],
    ['a missing id', JSON.stringify({ ...good, id: undefined }), '$.id'],
    ['a label that is not a string', JSON.stringify({ ...good, group: { job: 1 } }), '$.group.job'],
    ['a bad value', JSON.stringify({ ...good, values: ['one'] }), '$.values[0]'],
    ['values that are not an array', JSON.stringify({ ...good, values: 1 }), '$.values'],
    ['fewer values than the layout has points', JSON.stringify({ ...good, values: [] }), '$.values'],
    ['a layout that is not pairs', JSON.stringify({ ...good, layout: [0, 0, 0] }), '$.layout'],
    ['a point given as an object', JSON.stringify({ ...good, layout: [{ name: 'x' }, 0] }), '$.layout[0]'],
    ['a name index out of range', JSON.stringify({ ...good, layout: [1, 0] }), '$.layout[0]'],
    ['a fractional name index', JSON.stringify({ ...good, layout: [0.5, 0] }), '$.layout[0]'],
    ['a label set index out of range', JSON.stringify({ ...good, layout: [0, 1] }), '$.layout[1]'],
    ['a negative label set index', JSON.stringify({ ...good, layout: [0, -1] }), '$.layout[1]'],
    ['a label set index that is a string', JSON.stringify({ ...good, layout: [0, '0'] }), '$.layout[1]'],
    ['a version 3 bad value', JSON.stringify({ ...goodV3, points: [0, 0, 'one'] }), '$.points[2]'],
    ['version 3 points that are not triples', JSON.stringify({ ...goodV3, points: [0, 0, 1, 0] }), '$.points'],
    ['a version 3 name index out of range', JSON.stringify({ ...goodV3, points: [2, 0, 1] }), '$.points[0]'],
    ['a version 3 label set index that is a string', JSON.stringify({ ...goodV3, points: [0, '0', 1] }), '$.points[1]'],
    ['a version 3 timestamp of a point that is not there', JSON.stringify({ ...goodV3, timestamps: [3, 1_763_633_700_000] }), '$.timestamps[0]'],
    ['a name that is not a string', JSON.stringify({ ...good, names: [1] }), '$.names[0]'],
    ['missing names', JSON.stringify({ ...good, names: undefined }), '$.names'],
    ['a fractional timestamp', JSON.stringify({ ...good, timestamps: [0, 1.5] }), '$.timestamps[1]'],
    ['a timestamp of a point that is not there', JSON.stringify({ ...good, timestamps: [1, 1_763_633_700_000] }), '$.timestamps[0]'],
    ['timestamps that are not pairs', JSON.stringify({ ...good, timestamps: [0] }), '$.timestamps'],
    ['missing label sets', JSON.stringify({ ...good, labelSets: undefined }), '$.labelSets'],
    ['a label set of odd length', JSON.stringify({ ...good, labelSets: [['a', 'b', 'c']] }), '$.labelSets[0]'],
    ['a label value that is not a string', JSON.stringify({ ...good, labelSets: [['a', 1]] }), '$.labelSets[0][1]'],
    ['a label set naming a label twice', JSON.stringify({ ...good, labelSets: [['a', 'b', 'a', 'c']] }), '$.labelSets[0][2]'],
    ['an unknown family type', JSON.stringify({ ...good, families: [{ name: 'x', type: 'weird' }] }), '$.families[0]'],
    ['a version 2 bad value', JSON.stringify({ ...goodV2, points: [['x', 0, 'one']] }), '$.points[0][2]'],
    ['a version 2 fractional timestamp', JSON.stringify({ ...goodV2, points: [['x', 0, 1, 1.5]] }), '$.points[0][3]'],
    ['a version 2 point that is not an array', JSON.stringify({ ...goodV2, points: [{ name: 'x' }] }), '$.points[0]'],
    ['a version 2 label set index out of range', JSON.stringify({ ...goodV2, points: [['x', 2, 1]] }), '$.points[0][1]'],
    ['a version 2 negative label set index', JSON.stringify({ ...goodV2, points: [['x', -1, 1]] }), '$.points[0][1]'],
    ['a version 1 bad value', JSON.stringify({ ...goodV1, points: [{ name: 'x', labels: {}, value: 'one' }] }), '$.points[0].value'],
    ['a version 1 fractional timestamp', JSON.stringify({ ...goodV1, points: [{ name: 'x', labels: {}, value: 1, timestampMs: 1.5 }] }), '$.points[0].timestampMs'],
  ];
  for (const [name, body, path] of cases) {
    it(name, () => {
      assert.throws(() => parseEnvelope(body), (e: unknown) => e instanceof MalformedEnvelopeError && e.path === path);
    });
  }
});
