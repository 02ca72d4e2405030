/**
 * Cold init per bundle: a fresh `node` that imports the built handler (dist/<fn>/index.mjs, as Lambda loads it) and
 * invokes it once with a tiny event, against a bare `node -e 0`, alternating, medians of wall time from spawn to
 * exit. The bundles are built afresh by scripts/build.mjs into .tmp/, inside the repository so that the
 * `@aws-sdk/*` imports left to the Lambda runtime resolve from node_modules as they do from the runtime's path.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { median } from './measure.ts';
import { fixed, times, type Row } from './report.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const MAX_BUNDLE_KB = 350;

const BASE_ENV = { PATH: process.env.PATH ?? '', AWS_REGION: 'us-east-1', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };

/** A tiny event per function, and the configuration that lets it through without touching the network. */
const PROBES = {
  ingest: {
    env: { QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/beam-metrics' },
    // An EventBridge event of a source nobody configured: read, judged and acknowledged without an SQS call.
    event: { version: '0', id: 'cold', 'detail-type': 'Bench Probe', source: 'bench.probe', account: '123456789012', time: '2026-11-20T10:00:00Z', region: 'us-east-1', resources: [], detail: {} },
    expect: (reply: unknown) => (reply as { status?: string }).status === 'ignored',
  },
  deliver: {
    env: { REMOTE_WRITE_URL: 'http://127.0.0.1:9/api/v1/write' },
    event: { Records: [] },
    expect: (reply: unknown) => Array.isArray((reply as { batchItemFailures?: unknown }).batchItemFailures),
  },
} as const;

type FunctionName = keyof typeof PROBES;

/** Builds both functions with scripts/build.mjs into .tmp/bench/dist and returns each bundle's path. */
export function buildBundles(): Record<FunctionName, string> {
  const outdir = join(ROOT, '.tmp', 'bench', 'dist');
  mkdirSync(outdir, { recursive: true });
  const run = spawnSync(process.execPath, [join(ROOT, 'scripts', 'build.mjs'), '--outdir', outdir, '--skip-smoke'], { cwd: ROOT, encoding: 'utf8' });
  // build.mjs exits non-zero for an oversized bundle too; the size row reports that, so only a missing file is fatal.
  const files = { ingest: join(outdir, 'ingest', 'index.mjs'), deliver: join(outdir, 'deliver', 'index.mjs') };
  for (const file of Object.values(files)) {
    try {
      statSync(file);
    } catch {
      throw new Error(`bench: scripts/build.mjs did not produce ${file}:\n${run.stdout}${run.stderr}`);
    }
  }
  return files;
}

function spawnMs(args: string[], env: Record<string, string>): { ms: number; stdout: string; ok: boolean; output: string } {
  const started = performance.now();
  const run = spawnSync(process.execPath, args, { env, encoding: 'utf8', timeout: 30_000 });
  const ms = performance.now() - started;
  return { ms, stdout: run.stdout, ok: run.status === 0, output: `${run.stdout}${run.stderr}` };
}

function probeScript(file: string, event: unknown): string {
  // The reply goes out on the last stdout line; the handlers log their own lines before it.
  return `const { handler } = await import(${JSON.stringify(pathToFileURL(file).href)});
const reply = await handler(${JSON.stringify(event)});
process.stdout.write('\\n' + JSON.stringify(reply) + '\\n');`;
}

export function coldInitRows(files: Record<FunctionName, string>, rounds: number): Row[] {
  const names = Object.keys(PROBES) as FunctionName[];
  const bare: number[] = [];
  const init: Record<FunctionName, number[]> = { ingest: [], deliver: [] };
  // One unmeasured round first: the page cache then holds node, the bundles and node_modules alike.
  for (let r = -1; r < rounds; r++) {
    const b = spawnMs(['-e', '0'], BASE_ENV);
    if (r >= 0) bare.push(b.ms);
    for (const name of names) {
      const probe = PROBES[name];
      const run = spawnMs(['--input-type=module', '-e', probeScript(files[name], probe.event)], { ...BASE_ENV, ...probe.env });
      const last = run.stdout.trim().split('\n').at(-1) ?? '';
      let reply: unknown;
      try {
        reply = JSON.parse(last);
      } catch {
        reply = undefined;
      }
      if (!run.ok || !probe.expect(reply)) throw new Error(`bench: the ${name} bundle did not answer its probe:\n${run.output.slice(-2000)}`);
      if (r >= 0) init[name].push(run.ms);
    }
  }
  const bareMs = median(bare);
  const rows: Row[] = [];
  for (const name of names) {
    const ms = median(init[name]);
    rows.push({
      row: `cold init, ${name} bundle (fresh process: import + first call on a tiny event)`,
      ours: `${fixed(ms, 0)} ms`,
      reference: `${fixed(bareMs, 0)} ms (\`node -e 0\`)`,
      ratio: times(ms / bareMs, 'bare node'),
      target: '≤ 1.3×',
      met: ms / bareMs <= 1.3,
    });
  }
  for (const name of names) {
    const kb = statSync(files[name]).size / 1024;
    rows.push({
      row: `bundle size, ${name} (dist/${name}/index.mjs, minified, @aws-sdk left to the runtime)`,
      ours: `${fixed(kb, 1)} KB`,
      reference: '—',
      ratio: '—',
      target: `≤ ${MAX_BUNDLE_KB} KB`,
      met: kb <= MAX_BUNDLE_KB,
    });
  }
  return rows;
}
