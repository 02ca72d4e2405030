import assert from 'node:assert/strict';
import fc from 'fast-check';
import { describe, it } from 'node:test';
import { buildEnvelopes, parseEnvelope, type EnvelopeHeader } from '../../../lib/envelope/envelope.ts';
import { mergeEnvelopes, originsOf, planRequests, seriesOrigins, splitRequest, toWriteRequest } from '../../../lib/deliver/merge.ts';
import type { DecodedRecord } from '../../../lib/deliver/records.ts';
import { samplesOf, type Labels, type MetricFamily, type Point } from '../../../lib/model/series.ts';

function record(index: number, header: Partial<EnvelopeHeader>, points: Point[], families: MetricFamily[] = []): DecodedRecord {
  const h: EnvelopeHeader = { id: `r${index}`, source: 'beam-java', receivedAt: 1000 * (index + 1), group: { job: 'j' }, labels: {}, ...header };
  return { index, messageId: `m${index}`, envelope: parseEnvelope(buildEnvelopes(h, families, points)[0]!) };
}

const names = (s: { labels: { name: string; value: string }[] }) => s.labels.map((l) => `${l.name}=${l.value}`).join(',');

describe('mergeEnvelopes', () => {
  it('sorts labels by name with __name__ in byte order and drops empty values', () => {
    const r = record(0, { group: { job: 'j', Zone: 'z' }, labels: { az: 'a' } }, [{ name: 'm', labels: { step: 's', empty: '' }, value: 1 }]);
    const { series } = mergeEnvelopes([r]);
    assert.equal(names(series[0]!), 'Zone=z,__name__=m,az=a,job=j,step=s');
  });

  it('lets the grouping key override point labels, and point labels override static labels', () => {
    const r = record(0, { group: { job: 'from-path' }, labels: { env: 'static', region: 'eu' } }, [{ name: 'm', labels: { job: 'from-body', env: 'body' }, value: 1 }]);
    assert.equal(names(mergeEnvelopes([r]).series[0]!), '__name__=m,env=body,job=from-path,region=eu');
  });

  it('merges the same series from several messages into time order and remembers each sample\'s message', () => {
    const a = record(0, { receivedAt: 2000 }, [{ name: 'm', labels: {}, value: 2 }]);
    const b = record(1, { receivedAt: 1000 }, [{ name: 'm', labels: {}, value: 1 }]);
    const { series, samples } = mergeEnvelopes([a, b]);
    assert.equal(series.length, 1);
    assert.equal(samples, 2);
    assert.deepEqual(samplesOf(series[0]!), [{ value: 1, timestampMs: 1000 }, { value: 2, timestampMs: 2000 }]);
    assert.deepEqual(seriesOrigins(series[0]!), [1, 0]);
  });

  it('merges into one series the pushes of a job whose grouping key and static labels come in another order', () => {
    const a = record(0, { receivedAt: 1000, group: { job: 'j', env: 'prod' }, labels: { team: 't', runner: 'r' } }, [{ name: 'm', labels: {}, value: 1 }]);
    const b = record(1, { receivedAt: 2000, group: { env: 'prod', job: 'j' }, labels: { runner: 'r', team: 't' } }, [{ name: 'm', labels: {}, value: 2 }]);
    const { series } = mergeEnvelopes([a, b]);
    assert.equal(series.length, 1);
    assert.equal(names(series[0]!), '__name__=m,env=prod,job=j,runner=r,team=t');
    assert.deepEqual(samplesOf(series[0]!), [{ value: 1, timestampMs: 1000 }, { value: 2, timestampMs: 2000 }]);
  });

  it('tells apart envelopes that share one grouping-key object but carry other static labels', () => {
    const a = record(0, { labels: { team: 'a' } }, [{ name: 'm', labels: {}, value: 1 }]);
    const b = record(1, { labels: { team: 'b' } }, [{ name: 'm', labels: {}, value: 2 }]);
    b.envelope.group = a.envelope.group;
    const c = record(2, { labels: { team: 'a' } }, [{ name: 'm', labels: {}, value: 3 }]);

    const { series } = mergeEnvelopes([a, b, c]);

    assert.deepEqual(series.map(names), ['__name__=m,job=j,team=a', '__name__=m,job=j,team=b']);
    assert.equal(c.envelope.group, a.envelope.group, 'parsed envelopes of one header context share the group object');
    assert.deepEqual(seriesOrigins(series[0]!), [0, 2]);
  });

  it('keeps one sample per timestamp: an identical redelivery silently, a conflicting one counted as superseded', () => {
    const a = record(0, { receivedAt: 1000 }, [{ name: 'm', labels: {}, value: 1 }, { name: 'n', labels: {}, value: 1 }]);
    const again = record(1, { receivedAt: 1000 }, [{ name: 'm', labels: {}, value: 1 }, { name: 'n', labels: {}, value: 5 }]);
    const { series, superseded } = mergeEnvelopes([a, again]);
    assert.equal(superseded, 1);
    assert.deepEqual(series.map((s) => s.count), [1, 1]);
    assert.equal(samplesOf(series[1]!)[0]!.value, 5);
  });

  it('gives the same series, samples and origins as a plain merge of the points, for any batch', () => {
    // The reference: every point's full label set (group over point over static labels), its samples in time
    // order, one per timestamp, the later record's winning.
    const point = fc.record({
      name: fc.constantFrom('a_total', 'b', 'c_sum'),
      labels: fc.record({ step: fc.constantFrom('s1', 's2', ''), job: fc.constantFrom('x', 'y') }, { requiredKeys: [] }) as fc.Arbitrary<Labels>,
      value: fc.oneof(fc.integer({ min: -5, max: 5 }), fc.constant(NaN)),
      timestampMs: fc.option(fc.integer({ min: 1, max: 6 }), { nil: undefined }),
    });
    const envelope = fc.record({
      receivedAt: fc.integer({ min: 1, max: 6 }),
      group: fc.constantFrom<Labels>({ job: 'j' }, { job: 'k', env: 'e' }),
      labels: fc.constantFrom<Labels>({}, { team: 't', step: 'static' }),
      points: fc.array(point, { maxLength: 8 }),
    });
    fc.assert(
      // Each envelope comes again a period later with new values, as a job's next push: the same shape.
      fc.property(fc.array(envelope, { maxLength: 6 }), fc.boolean(), (pushes, again) => {
        const envelopes = again ? pushes.flatMap((e) => [e, { ...e, receivedAt: e.receivedAt + 10, points: e.points.map((x) => ({ ...x, value: x.value + 1 })) }]) : pushes;
        const records = envelopes.map((e, i) =>
          record(i, { receivedAt: e.receivedAt, group: e.group, labels: e.labels }, e.points.map((p) => (p.timestampMs === undefined ? { name: p.name, labels: p.labels, value: p.value } : p))),
        );
        const expected = new Map<string, Map<number, { value: number; origin: number }>>();
        envelopes.forEach((e, i) =>
          e.points.forEach((p) => {
            const all: Record<string, string> = { ...e.labels, ...p.labels, ...e.group, __name__: p.name };
            const key = Object.keys(all).filter((n) => all[n] !== '').sort().map((n) => `${n}=${all[n]}`).join(',');
            if (!expected.has(key)) expected.set(key, new Map());
            expected.get(key)!.set(p.timestampMs ?? e.receivedAt, { value: p.value, origin: i });
          }),
        );
        const { series, samples } = mergeEnvelopes(records);
        assert.equal(samples, envelopes.reduce((n, e) => n + e.points.length, 0));
        const got = series.map((s) => [names(s), samplesOf(s).map((x, i) => [x.timestampMs, x.value, seriesOrigins(s)[i]])]);
        const want = [...expected.keys()].sort().map((key) => [key, [...expected.get(key)!].sort((x, y) => x[0] - y[0]).map(([t, v]) => [t, v.value, v.origin])]);
        assert.deepEqual(got, want);
      }),
      { seed: 20261122, numRuns: 300 },
    );
  });

  it('finds the series of a push shaped like the last one of its job, and of one shaped differently', () => {
    const push = (index: number, steps: string[], value: number) =>
      record(index, { receivedAt: 1000 * (index + 1) }, steps.flatMap((step) => ['a_total', 'b'].map((name) => ({ name, labels: { step }, value }))));
    // Same shape; then the steps reordered; then a step renamed; then the first shape again.
    const records = [push(0, ['x', 'y'], 1), push(1, ['x', 'y'], 2), push(2, ['y', 'x'], 3), push(3, ['x', 'z'], 4), push(4, ['x', 'y'], 5)];
    const { series } = mergeEnvelopes(records);
    assert.deepEqual(
      series.map((s) => `${names(s)} ${samplesOf(s).map((x) => x.value).join('/')}`),
      [
        '__name__=a_total,job=j,step=x 1/2/3/4/5',
        '__name__=a_total,job=j,step=y 1/2/3/5',
        '__name__=a_total,job=j,step=z 4',
        '__name__=b,job=j,step=x 1/2/3/4/5',
        '__name__=b,job=j,step=y 1/2/3/5',
        '__name__=b,job=j,step=z 4',
      ],
    );
  });

  it('tells apart pushes of one shape but other pairs of names and sets, or other names', () => {
    const point = (name: string, step: string, value: number): Point => ({ name, labels: { step }, value });
    const first = record(0, {}, [point('a', 'x', 1), point('b', 'y', 1), point('b', 'x', 1)]);
    const second = record(1, {}, [point('a', 'x', 2), point('b', 'y', 2), point('a', 'y', 2)]);
    const third = record(2, {}, [point('c', 'x', 3), point('d', 'y', 3), point('c', 'y', 3)]);
    assert.deepEqual([first.envelope.names, second.envelope.names], [['a', 'b'], ['a', 'b']]);
    const { series } = mergeEnvelopes([first, second, third]);
    assert.deepEqual(series.map((s) => `${names(s)} ${samplesOf(s).map((x) => x.value).join('/')}`), [
      '__name__=a,job=j,step=x 1/2',
      '__name__=a,job=j,step=y 2',
      '__name__=b,job=j,step=x 1',
      '__name__=b,job=j,step=y 1/2',
      '__name__=c,job=j,step=x 3',
      '__name__=c,job=j,step=y 3',
      '__name__=d,job=j,step=y 3',
    ]);
  });

  it('merges a version 1 envelope and a version 2 one of the same series into one series', () => {
    const v1Body = JSON.stringify({
      v: 1, id: 'old', part: 0, parts: 1, source: 'beam-java', receivedAt: 1000, group: { job: 'j' }, labels: {}, families: [],
      points: [{ name: 'm', labels: { step: 's' }, value: 1 }],
    });
    const old: DecodedRecord = { index: 0, messageId: 'm0', envelope: parseEnvelope(v1Body) };
    const current = record(1, { receivedAt: 2000 }, [{ name: 'm', labels: { step: 's' }, value: 2 }]);
    const { series } = mergeEnvelopes([old, current]);
    assert.equal(series.length, 1);
    assert.equal(names(series[0]!), '__name__=m,job=j,step=s');
    assert.deepEqual(samplesOf(series[0]!), [{ value: 1, timestampMs: 1000 }, { value: 2, timestampMs: 2000 }]);
    assert.deepEqual(seriesOrigins(series[0]!), [0, 1]);
  });

  it('finds each point\'s series when the points of label sets and names interleave', () => {
    const points: Point[] = [];
    for (const name of ['a', 'b']) for (const step of ['x', 'y', 'x']) points.push({ name, labels: { step }, value: points.length });
    const { series, superseded } = mergeEnvelopes([record(0, {}, points)]);
    assert.deepEqual(series.map((s) => `${names(s)}:${samplesOf(s).map((x) => x.value).join('/')}`), [
      '__name__=a,job=j,step=x:2',
      '__name__=a,job=j,step=y:1',
      '__name__=b,job=j,step=x:5',
      '__name__=b,job=j,step=y:4',
    ]);
    assert.equal(superseded, 2);
  });

  it('orders series by labels in every batch, also when a later batch brings sets that sort among known ones', () => {
    const batch = (steps: string[], index: number) => record(index, {}, steps.flatMap((step) => ['b', 'a'].map((name) => ({ name, labels: { step }, value: 1 }))));
    const first = mergeEnvelopes([batch(['s4', 's2'], 0)]).series.map(names);
    const second = mergeEnvelopes([batch(['s3', 's4', 's1'], 1)]).series.map(names);
    assert.deepEqual(first, ['__name__=a,job=j,step=s2', '__name__=a,job=j,step=s4', '__name__=b,job=j,step=s2', '__name__=b,job=j,step=s4']);
    assert.deepEqual(second, ['s1', 's3', 's4'].map((s) => `__name__=a,job=j,step=${s}`).concat(['s1', 's3', 's4'].map((s) => `__name__=b,job=j,step=${s}`)));
  });

  it('drops the kept label sets past their bound and orders and labels every series right after', () => {
    // 50,000 sets are kept; a batch that takes the count past that is merged with them, the next one without.
    const steps = (from: number, n: number) => Array.from({ length: n }, (_, i) => `s${String(from + i).padStart(6, '0')}`);
    // Every part of the envelopes ingest would write for the points (a big push makes several).
    const batch = (stepNames: string[], index: number): DecodedRecord[] => {
      const h: EnvelopeHeader = { id: `r${index}`, source: 'beam-java', receivedAt: 1000, group: { job: `bound-${index}` }, labels: {} };
      const bodies = buildEnvelopes(h, [], stepNames.map((step) => ({ name: 'm', labels: { step }, value: index })));
      return bodies.map((body, part) => ({ index: part, messageId: `m${index}-${part}`, envelope: parseEnvelope(body) }));
    };
    const big = mergeEnvelopes(batch(steps(0, 50_001), 0));
    assert.equal(big.series.length, 50_001);

    const after = mergeEnvelopes([...batch(['s2', 's1'], 1), ...batch(steps(7, 2), 2)]);

    assert.deepEqual(after.series.map(names), [
      '__name__=m,job=bound-1,step=s1',
      '__name__=m,job=bound-1,step=s2',
      '__name__=m,job=bound-2,step=s000007',
      '__name__=m,job=bound-2,step=s000008',
    ]);
    assert.deepEqual(after.series.map((s) => s.labelBytes), after.series.map((s) => s.labels.reduce((n, l) => n + l.name.length + l.value.length + 6, 0)));
    assert.deepEqual(after.series.map((s) => s.metricName), ['m', 'm', 'm', 'm']);
  });

  it('uses a point\'s own timestamp over the ingest timestamp', () => {
    const r = record(0, { receivedAt: 5000 }, [{ name: 'g', labels: {}, value: 1, timestampMs: 4200 }]);
    assert.equal(samplesOf(mergeEnvelopes([r]).series[0]!)[0]!.timestampMs, 4200);
  });
});

describe('planRequests / splitRequest', () => {
  const many = record(0, {}, Array.from({ length: 10 }, (_, i) => ({ name: 'm', labels: { i: String(i) }, value: i })));
  const other = record(1, {}, [{ name: 'm', labels: { i: '9' }, value: 1 }]);

  it('packs series under the sample limit without splitting a series', () => {
    const { series } = mergeEnvelopes([many, other]);
    const planned = planRequests(series, { maxSamples: 4, maxBytes: 1e6 });
    assert.deepEqual(planned.map((p) => p.samples), [4, 4, 3]);
    assert.deepEqual([...originsOf(planned[2]!)].sort(), [0, 1]);
  });

  it('respects the byte limit', () => {
    const { series } = mergeEnvelopes([many]);
    assert.equal(planRequests(series, { maxSamples: 1000, maxBytes: 1 }).length, 10);
  });

  it('halves by series, then a single series by time, and stops at one sample', () => {
    const { series } = mergeEnvelopes([many, other]);
    const [a, b] = splitRequest({ series, samples: 11 })!;
    assert.deepEqual([a.series.length, b.series.length], [5, 5]);
    const lone = { series: [series[9]!], samples: 2 };
    const [older, newer] = splitRequest(lone)!;
    assert.ok(samplesOf(older.series[0]!)[0]!.timestampMs < samplesOf(newer.series[0]!)[0]!.timestampMs);
    assert.equal(splitRequest(older), undefined);
  });

  it('attaches the metadata of the families the request\'s series belong to', () => {
    const fams: MetricFamily[] = [{ name: 'beam_x', type: 'summary' }, { name: 'beam_y_total', type: 'counter' }];
    const r = record(0, {}, [{ name: 'beam_x_sum', labels: {}, value: 1 }, { name: 'beam_x_count', labels: {}, value: 1 }], fams);
    const merged = mergeEnvelopes([r]);
    const req = toWriteRequest(planRequests(merged.series, { maxSamples: 10, maxBytes: 1e6 })[0]!, merged.families);
    assert.deepEqual(req.metadata, [{ name: 'beam_x', type: 'summary' }]);
  });
});
