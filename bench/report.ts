/**
 * The bench's one table: printed, and written into BENCHMARKS.md between markers so that the hand-written story
 * of each optimisation below them survives every run.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';

export interface Row {
  row: string;
  ours: string;
  reference: string;
  ratio: string;
  target: string;
  /** undefined: nothing to meet (a printed figure) or not measured. */
  met: boolean | undefined;
}

export interface Machine {
  date: string;
  nproc: number;
  cpu: string;
  node: string;
  /** 1-minute load average when the run started: how shared the machine was. */
  load: number;
}

export function machine(): Machine {
  return {
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    nproc: availableParallelism(),
    cpu: cpus()[0]?.model.trim() ?? 'unknown',
    node: process.version,
    load: loadavg()[0] ?? 0,
  };
}

export function fixed(n: number, digits: number): string {
  return Number.isFinite(n) ? n.toFixed(digits) : String(n);
}

/** `1.23 M samples/s`, `456 k series/s`. */
export function perSecond(n: number, unit: string): string {
  if (n >= 1e6) return `${fixed(n / 1e6, 2)} M ${unit}`;
  if (n >= 1e3) return `${fixed(n / 1e3, 0)} k ${unit}`;
  return `${fixed(n, 0)} ${unit}`;
}

export function times(ratio: number, what: string): string {
  return `${fixed(ratio, ratio >= 10 ? 1 : 2)}× ${what}`;
}

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function markdownTable(rows: readonly Row[]): string {
  const lines = ['| row | ours | reference | ratio | target | met |', '|---|---|---|---|---|---|'];
  for (const r of rows) {
    const met = r.met === undefined ? '—' : r.met ? 'yes' : '**no**';
    lines.push(`| ${[r.row, r.ours, r.reference, r.ratio, r.target, met].map(cell).join(' | ')} |`);
  }
  return lines.join('\n');
}

export function resultsSection(m: Machine, rows: readonly Row[], notes: readonly string[]): string {
  return [
    `Measured ${m.date} on ${m.nproc} × ${m.cpu}, Node ${m.node} (1-minute load average at start: ${fixed(m.load, 2)}).`,
    '',
    markdownTable(rows),
    '',
    ...notes.map((n) => `- ${n}`),
  ].join('\n');
}

export const START_MARKER = '<!-- bench:results:start (written by `npm run bench`; edit outside the markers) -->';
export const END_MARKER = '<!-- bench:results:end -->';

const SKELETON = `# Benchmarks

\`npm run bench\` measures the figures below and rewrites the block between the markers; everything else in this
file is written by hand.

${START_MARKER}
${END_MARKER}

## What we changed
`;

/** Replaces the generated block of `file` (creating the file when missing), keeping everything around it. */
export function writeResults(file: string, section: string): void {
  const current = existsSync(file) ? readFileSync(file, 'utf8') : SKELETON;
  const start = current.indexOf(START_MARKER);
  const end = current.indexOf(END_MARKER);
  const base = start === -1 || end === -1 || end < start ? `${current.trimEnd()}\n\n${START_MARKER}\n${END_MARKER}\n` : current;
  const s = base.indexOf(START_MARKER);
  const e = base.indexOf(END_MARKER);
  writeFileSync(file, `${base.slice(0, s + START_MARKER.length)}\n${section}\n${base.slice(e)}`);
}
