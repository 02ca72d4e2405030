import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkPoints, DEFAULT_INGEST_LIMITS, describeSeries, type IngestLimits } from '../../../lib/inputs/limits.ts';
import type { Labels, Point } from '../../../lib/model/series.ts';

function limits(overrides: Partial<IngestLimits> = {}): IngestLimits {
  return { ...DEFAULT_INGEST_LIMITS, ...overrides };
}

function point(name: string, labels: Labels = {}, value = 1): Point {
  return { name, labels, value };
}

test('default limits are frozen and allow 70 labels per series, the Amazon Managed Prometheus limit', () => {
  assert.ok(Object.isFrozen(DEFAULT_INGEST_LIMITS));
  assert.equal(DEFAULT_INGEST_LIMITS.maxLabelsPerSeries, 70);
});

test('accepts valid points within every limit', () => {
  const points = [point('beam_x_total', { step: 'a' }), point('beam_x_total', { step: 'b' }), point('beam_y', {})];

  assert.deepEqual(checkPoints(points, { job: 'j' }, limits()), []);
});

test('rejects more distinct series than maxSeries', () => {
  const points = [point('a'), point('b'), point('c')];

  assert.deepEqual(checkPoints(points, {}, limits({ maxSeries: 2 })), [
    { path: '$', message: 'the request makes 3 series; the limit is 2 per request' },
  ]);
  assert.deepEqual(checkPoints(points, {}, limits({ maxSeries: 3 })), []);
});

test('counts __name__, own labels and the extra labels a point does not override', () => {
  const extra = { job: 'j', instance: 'i' };

  assert.deepEqual(checkPoints([point('m', { step: 's', job: 'own' })], extra, limits({ maxLabelsPerSeries: 4 })), []);
  assert.deepEqual(checkPoints([point('m', { step: 's', other: 'o' })], extra, limits({ maxLabelsPerSeries: 4 })), [
    { path: '$', message: 'm{instance="i",job="j",other="o",step="s"}: 5 labels counting __name__; the limit is 4 per series' },
  ]);
});

test('rejects a metric name or label name longer than maxNameLength', () => {
  const long = 'n'.repeat(11);

  const issues = checkPoints([point(long, { [long]: 'v' })], {}, limits({ maxNameLength: 10 }));

  assert.deepEqual(issues.map((i) => i.message), [
    `${long}{${long}="v"}: metric name is 11 bytes long; the limit is 10`,
    `${long}{${long}="v"}: a label name is 11 bytes long; the limit is 10`,
  ]);
});

test('measures label values in UTF-8 bytes against maxLabelValueLength', () => {
  const issues = checkPoints([point('m', { city: 'Zürich' })], {}, limits({ maxLabelValueLength: 6 }));

  assert.deepEqual(issues, [{ path: '$', message: 'm{city="Zürich"}: the value of label "city" is 7 bytes long; the limit is 6' }]);
  assert.deepEqual(checkPoints([point('m', { city: 'Zurich' })], {}, limits({ maxLabelValueLength: 6 })), []);
});

test('checks the values of extra labels too', () => {
  const issues = checkPoints([point('m')], { job: 'x'.repeat(5) }, limits({ maxLabelValueLength: 4 }));

  assert.deepEqual(issues, [{ path: '$', message: 'm{job="xxxxx"}: the value of label "job" is 5 bytes long; the limit is 4' }]);
});

test('rejects invalid metric and label names', () => {
  const issues = checkPoints([point('1bad-name', { 'bad-label': 'v', __reserved: 'r' })], {}, limits());

  assert.deepEqual(issues.map((i) => i.message), [
    '1bad-name{__reserved="r",bad-label="v"}: not a valid metric name (allowed: [a-zA-Z_:][a-zA-Z0-9_:]*)',
    '1bad-name{__reserved="r",bad-label="v"}: label name "bad-label" is not valid (allowed: [a-zA-Z_][a-zA-Z0-9_]*, not starting with __)',
    '1bad-name{__reserved="r",bad-label="v"}: label name "__reserved" is not valid (allowed: [a-zA-Z_][a-zA-Z0-9_]*, not starting with __)',
  ]);
});

test('reports a series given twice in one request once, whatever the label order', () => {
  const points = [point('m', { a: '1', b: '2' }), point('m', { b: '2', a: '1' }, 5), point('m', { a: '1', b: '2' }, 6)];

  assert.deepEqual(checkPoints(points, {}, limits()), [
    { path: '$', message: 'm{a="1",b="2"}: the same series appears more than once in this request' },
  ]);
});

test('treats an empty label value as no label when telling series apart', () => {
  const points = [point('m', { step: '' }), point('m', {})];

  assert.deepEqual(checkPoints(points, {}, limits()), [{ path: '$', message: 'm: the same series appears more than once in this request' }]);
});

test('a point label overrides an extra label of the same name, so series stay distinct', () => {
  const points = [point('m', { job: 'a' }), point('m', { job: 'b' })];

  assert.deepEqual(checkPoints(points, { job: 'default' }, limits()), []);
});

test('overriding labels replace a point\'s own, so points differing only there become one series', () => {
  const points = [point('m', { job: 'a' }), point('m', { job: 'b' })];

  assert.deepEqual(checkPoints(points, {}, limits(), { job: 'group' }), [
    { path: '$', message: 'm{job="group"}: the same series appears more than once in this request' },
  ]);
});

test('shortens long values and long series in messages', () => {
  const described = describeSeries('m', { a: 'v'.repeat(100), b: 'w'.repeat(100), c: 'x'.repeat(100), d: 'y'.repeat(100) });

  assert.equal(described.length, 200);
  assert.ok(described.startsWith(`m{a="${'v'.repeat(59)}…",b="`));
  assert.ok(described.endsWith('…'));
});

test('returns at most 100 issues and says how many more there were', () => {
  const points = Array.from({ length: 130 }, (_, i) => point(`${i}bad`));

  const issues = checkPoints(points, {}, limits());

  assert.equal(issues.length, 101);
  assert.deepEqual(issues[100], { path: '$', message: '30 more issues not shown' });
});
