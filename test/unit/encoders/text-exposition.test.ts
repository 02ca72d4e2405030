import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, it } from 'node:test';
import {
  TEXT_EXPOSITION_CONTENT_TYPE,
  encodeTextExposition,
  formatSampleValue,
  type ExpositionFamily,
} from '../../../lib/encoders/text-exposition.ts';
import { GOLDEN_EXPOSITION } from './golden-exposition.ts';
import { readGoldenText } from './golden.ts';

const PROMTOOL = '/usr/bin/promtool';

/** Runs `promtool check metrics` on a body; fails (never skips) when promtool is not installed. */
function promtoolCheck(body: string): { status: number | null; output: string } {
  if (!existsSync(PROMTOOL)) {
    assert.fail(`${PROMTOOL} is missing: install it with \`apt-get install -y prometheus\``);
  }
  const run = spawnSync(PROMTOOL, ['check', 'metrics'], { input: body, encoding: 'utf8', timeout: 10_000 });
  if (run.error) throw run.error;
  return { status: run.status, output: run.stdout + run.stderr };
}

/** The body as text, for comparing with the expected lines. */
const encode = (families: readonly ExpositionFamily[]): string => Buffer.from(encodeTextExposition(families)).toString('utf8');

function gauge(name: string, samples: ExpositionFamily['samples'], help = 'Help.'): ExpositionFamily {
  return { family: { name, type: 'gauge', help }, samples };
}

describe('text exposition encoder', () => {
  it('encodes the golden families to the checked-in text', () => {
    const text = encode(GOLDEN_EXPOSITION);

    assert.equal(text, readGoldenText('text-exposition.txt'));
  });

  it('produces a body promtool parses and lints clean', () => {
    const text = encode(GOLDEN_EXPOSITION);

    const { status, output } = promtoolCheck(text);

    assert.equal(output, '');
    assert.equal(status, 0);
  });

  it('shows promtool would catch a broken body, so the check above means something', () => {
    const { status } = promtoolCheck('beam_x{job="unterminated} 1\n');

    assert.equal(status, 1);
  });

  it('writes no timestamps, since the Pushgateway rejects pushed samples that carry one', () => {
    const text = encode([gauge('g', [{ name: 'g', labels: { job: 'j' }, value: 1_763_683_200_000 }])]);

    assert.equal(text.split('\n').filter((l) => l && !l.startsWith('#')).join(''), 'g{job="j"} 1763683200000');
  });

  it('leaves out the HELP line of a family without help text', () => {
    const text = encode([
      { family: { name: 'g', type: 'gauge' }, samples: [{ name: 'g', labels: {}, value: 2 }] },
    ]);

    assert.equal(text, '# TYPE g gauge\ng 2\n');
  });

  it('heads each sample name of a non-summary family separately, so the parser keeps the type', () => {
    const text = encode([
      {
        family: { name: 'c', type: 'counter', help: 'C.' },
        samples: [
          { name: 'c_total', labels: { a: '1' }, value: 1 },
          { name: 'c_created', labels: { a: '1' }, value: 5 },
          { name: 'c_total', labels: { a: '2' }, value: 2 },
        ],
      },
    ]);

    assert.equal(
      text,
      '# HELP c_total C.\n# TYPE c_total counter\nc_total{a="1"} 1\nc_total{a="2"} 2\n' +
        '# HELP c_created C.\n# TYPE c_created counter\nc_created{a="1"} 5\n',
    );
  });

  it('renders a series met again exactly as the first time, and a series with a changed label anew', () => {
    const families = (step: string) => [gauge('g', [{ name: 'g', labels: { job: 'j', step }, value: 1 }])];

    const first = encode(families('a "quoted" step'));
    const again = encode(structuredClone(families('a "quoted" step')));
    const changed = encode(families('another'));

    assert.equal(again, first);
    assert.equal(first, '# HELP g Help.\n# TYPE g gauge\ng{job="j",step="a \\"quoted\\" step"} 1\n');
    assert.equal(changed, '# HELP g Help.\n# TYPE g gauge\ng{job="j",step="another"} 1\n');
  });

  it('returns an empty body for no families', () => {
    assert.equal(encode([]), '');
  });

  it('formats values as Go ParseFloat reads them, integers without exponent', () => {
    const cases: [number, string][] = [
      [0, '0'],
      [-0, '0'],
      [1, '1'],
      [-17, '-17'],
      [123456789, '123456789'],
      [2 ** 53, '9007199254740992'],
      [1e21, '1e+21'],
      [0.1, '0.1'],
      [1 / 3, '0.3333333333333333'],
      [1e-7, '1e-7'],
      [Number.MAX_VALUE, '1.7976931348623157e+308'],
      [Number.NaN, 'NaN'],
      [Infinity, '+Inf'],
      [-Infinity, '-Inf'],
    ];
    for (const [value, text] of cases) {
      assert.equal(formatSampleValue(value), text, `value ${value}`);
      if (Number.isFinite(value)) assert.equal(Number(text), value === 0 ? 0 : value, `${text} round-trips`);
    }
  });

  it('sorts label names given out of order and escapes every value that needs it', () => {
    const text = encode([
      gauge('g', [{ name: 'g', labels: { z: 'a\\b', b: 'say "hi"', a: 'two\nlines' }, value: 1 }]),
    ]);

    assert.equal(text, '# HELP g Help.\n# TYPE g gauge\ng{a="two\\nlines",b="say \\"hi\\"",z="a\\\\b"} 1\n');
  });

  it('writes UTF-8 bytes into a buffer of their own, whatever the body\'s size', () => {
    const big = gauge(
      'g',
      Array.from({ length: 3000 }, (_, i) => ({ name: 'g', labels: { job: 'j', step: `étape-${i}-${'x'.repeat(40)}` }, value: i })),
      'Aide: « jauge »',
    );
    const first = encodeTextExposition([big]);
    const second = encodeTextExposition([gauge('h', [{ name: 'h', labels: { k: 'ü' }, value: 1 }])]);
    assert.ok(first.length > 64 * 1024, `${first.length} bytes`);
    assert.notEqual(first.buffer, second.buffer);
    const text = Buffer.from(first).toString('utf8');
    assert.equal(Buffer.byteLength(text), first.length);
    assert.ok(text.startsWith('# HELP g Aide: « jauge »\n# TYPE g gauge\ng{job="j",step="étape-0-x'));
    assert.ok(text.endsWith(`step="étape-2999-${'x'.repeat(40)}"} 2999\n`));
    assert.equal(Buffer.from(second).toString('utf8'), '# HELP h Help.\n# TYPE h gauge\nh{k="ü"} 1\n');
  });

  it('declares the 0.0.4 text content type', () => {
    assert.equal(TEXT_EXPOSITION_CONTENT_TYPE, 'text/plain; version=0.0.4; charset=utf-8');
  });
});
