#!/usr/bin/env node
// Bundles each Lambda function into dist/<function>/index.mjs plus dist/<function>/chunks/*.mjs (ESM, minified,
// source maps) and fails when what a cold start reads is over the size cap or the bundle does not load.
// serverless.yml packages each dist/<function>/ folder as it is (no bundler plugin).
//
// The cap counts what a cold start reads: index.mjs, the chunks it imports, and for ingest the chunks of the SQS
// client, whose import its runtime starts at init (COLD_START_IMPORTS). Chunks behind other dynamic imports (the
// SigV4 signer, the SQS client in deliver, credential providers other than the environment's) load only on the
// path that needs them and are not counted. Measured with esbuild 0.28 on this tree (KB):
//
//                                          ingest   deliver
//   one file, everything bundled             364       864
//   one file, @aws-sdk/* left to the runtime  54       552
//   + undici entry cut to Agent+request                325
//   + undici's non-SIMD llhttp left out                254
//   (the tree later: 57 and 288)
//   + undici's HTTP/2 client, fetch body out            236
//   + code splitting, SDK bundled: cold start 266       220   (+140 and +355 in chunks loaded on use)
//
// - The AWS SDK is bundled, split into chunks. Ingest loads the SQS client at every cold start; from node_modules
//   (where Lambda's runtime copy would come from) that took ~85 ms of it, from its bundled chunks (208 KB) ~35 ms:
//   ingest's cold start + first enqueue went from ~160 to ~115 ms until the reply (bench/cold-init.ts, Node 20).
//   Credential providers the SDK imports dynamically (SSO, STS, web identity, process, INI files, container and
//   instance metadata) stay chunks that load only when the chain reaches them; on Lambda the environment provider
//   answers first. The deployed SDK is therefore our lockfile's version, not the runtime's.
// - undici's package entry loads fetch, WebSocket, caches, mocks and proxy agents (~520 KB); lib/transport/http.ts
//   uses only `Agent` and its `dispatch`, so the bundle maps `undici` onto exactly that (`request()` and its
//   stream-based response went when the attempt moved to `dispatch`: deliver 229.6 -> 222.6 KB). A new
//   import from undici fails the build with "No matching export in slim-undici:undici"; add it to UNDICI_ENTRY.
// - undici embeds llhttp twice (SIMD and plain WebAssembly, ~70 KB each) and uses the plain one only where SIMD is
//   missing. V8 has SIMD on x86_64 and arm64 since Node 16.4, so on Lambda the plain copy is dead weight; it is
//   replaced by a module that fails with a message saying so (UNDICI_NO_WASM_SIMD=1 would reach it).
// - undici's HTTP/2 client loads node:http2 (and with it node:tls) when the bundle loads, ~10 ms of a cold start,
//   for a protocol we never negotiate (no allowH2: TLS offers only http/1.1). Its HTTP/1.1 client requires fetch's
//   body module (~45 KB with WebIDL and the multipart parser) only to send a FormData body. Both are stubs that fail
//   with a message, as the plain llhttp is (UNDICI_STUBS).
//
// Usage: node scripts/build.mjs [--outdir DIR] [--skip-smoke]

import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export const FUNCTIONS = Object.freeze(['ingest', 'deliver']);

/** The issue's target for one function's bundle: what a cold start has to read and compile (coldStartFiles). */
export const MAX_BUNDLE_BYTES = 350 * 1024;

// Bundled CommonJS packages (undici) call require() for Node built-ins, which an ES module lacks.
const BANNER = "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);";

const UNDICI_ENTRY = `
import Agent from 'undici/lib/dispatcher/agent.js';

export { Agent };
`;

const NO_PLAIN_LLHTTP = `
throw new Error('undici fell back to llhttp without WebAssembly SIMD, which this bundle leaves out (scripts/build.mjs): run on Node with SIMD (any Lambda nodejs22.x) and leave UNDICI_NO_WASM_SIMD unset');
`;

// Our Agent never sets allowH2, so TLS offers only http/1.1 by ALPN and undici never calls its HTTP/2 client.
const NO_HTTP2 = `
module.exports = function connectH2() {
  throw new Error('undici negotiated HTTP/2, which this bundle leaves out (scripts/build.mjs): lib/transport/http.ts must not set allowH2');
};
`;

// undici's HTTP/1.1 client reads fetch's body module only to send a FormData body; our bodies are bytes and strings.
const NO_FORM_DATA = `
module.exports = {
  extractBody() {
    throw new Error('undici was given a FormData body, which this bundle leaves out (scripts/build.mjs): send bytes or a string');
  },
};
`;

/** Modules of undici replaced by a stub that fails with a message, by path inside undici/lib. */
const UNDICI_STUBS = [
  [/[\\/]llhttp[\\/]llhttp-wasm\.js$|^\.\.\/llhttp\/llhttp-wasm\.js$/, NO_PLAIN_LLHTTP],
  [/(^\.\/|[\\/]dispatcher[\\/])client-h2(\.js)?$/, NO_HTTP2],
  [/(^\.\.\/web\/fetch\/|[\\/]web[\\/]fetch[\\/])body(\.js)?$/, NO_FORM_DATA],
];

/** @type {import('esbuild').Plugin} */
const slimUndici = {
  name: 'slim-undici',
  setup(b) {
    b.onResolve({ filter: /^undici$/ }, () => ({ path: 'undici', namespace: 'slim-undici' }));
    b.onLoad({ filter: /.*/, namespace: 'slim-undici' }, () => ({ contents: UNDICI_ENTRY, loader: 'js', resolveDir: ROOT }));
    UNDICI_STUBS.forEach(([filter], i) => {
      b.onResolve({ filter }, (args) => (/[\\/]undici[\\/]/.test(args.importer) ? { path: String(i), namespace: 'undici-stub' } : undefined));
    });
    b.onLoad({ filter: /.*/, namespace: 'undici-stub' }, (args) => ({ contents: UNDICI_STUBS[Number(args.path)][1], loader: 'js' }));
  },
};

/**
 * Dynamic imports a cold start begins, by package: ingest's runtime starts loading the SQS client when it is created
 * (lib/ingest/runtime.ts), so that client's chunks are read at every cold start and count toward the cap. Every
 * other chunk loads only on the path that needs it (SigV4, dead letters, credential providers other than the
 * environment's) and is not counted.
 */
const COLD_START_IMPORTS = { ingest: ['@aws-sdk/client-sqs'], deliver: [] };

/** The output files a cold start reads: the entry, the chunks it imports, and those of COLD_START_IMPORTS. */
function coldStartFiles(metafile, entry, packages) {
  const files = new Set();
  const visit = (file) => {
    if (files.has(file) || !metafile.outputs[file]) return;
    files.add(file);
    for (const i of metafile.outputs[file].imports) if (i.kind === 'import-statement' && !i.external) visit(i.path);
  };
  visit(entry);
  for (const pkg of packages) {
    const chunk = Object.keys(metafile.outputs).find((file) => file.endsWith('.mjs') && Object.keys(metafile.outputs[file].inputs).some((p) => p.startsWith(`node_modules/${pkg}/`)));
    if (!chunk) throw new Error(`build: no chunk holds ${pkg}, which COLD_START_IMPORTS names`);
    visit(chunk);
  }
  return [...files];
}

/**
 * Builds every function into `<outdir>/<name>/index.mjs` plus `<outdir>/<name>/chunks/*.mjs` (code loaded by dynamic
 * import), and returns each bundle's cold-start size, its entry's size and the largest inputs of what a cold start
 * reads.
 * @param {{ outdir?: string }} [options]
 * @returns {Promise<import('./build.d.mts').Bundle[]>}
 */
export async function buildFunctions({ outdir = join(ROOT, 'dist') } = {}) {
  const bundles = [];
  for (const name of FUNCTIONS) {
    const dir = join(outdir, name);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const file = join(dir, 'index.mjs');
    const result = await build({
      absWorkingDir: ROOT,
      entryPoints: { index: join(ROOT, 'functions', `${name}.ts`) },
      outdir: dir,
      outExtension: { '.js': '.mjs' },
      // Each dynamic import becomes its own file, read only when that import runs.
      splitting: true,
      chunkNames: 'chunks/[name]-[hash]',
      bundle: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      // The AWS SDK's ESM builds sit under "module"; its CJS builds make esbuild emit dynamic requires.
      mainFields: ['module', 'main'],
      minify: true,
      sourcemap: true,
      sourcesContent: false,
      legalComments: 'none',
      banner: { js: BANNER },
      plugins: [slimUndici],
      metafile: true,
      logLevel: 'warning',
    });
    const outputs = result.metafile.outputs;
    const entry = Object.keys(outputs).find((path) => resolve(ROOT, path) === file);
    if (!entry) throw new Error(`build: esbuild wrote no ${file}`);
    const cold = coldStartFiles(result.metafile, entry, COLD_START_IMPORTS[name]);
    const inputs = cold.flatMap((f) => Object.entries(outputs[f].inputs).map(([path, i]) => [path, i.bytesInOutput]));
    inputs.sort((a, b) => b[1] - a[1]);
    const chunks = Object.keys(outputs).filter((f) => f.endsWith('.mjs') && f !== entry);
    bundles.push({
      name,
      file,
      bytes: cold.reduce((n, f) => n + outputs[f].bytes, 0),
      entryBytes: outputs[entry].bytes,
      coldStartFiles: cold.map((f) => resolve(ROOT, f)),
      lazyBytes: chunks.filter((f) => !cold.includes(f)).reduce((n, f) => n + outputs[f].bytes, 0),
      largest: inputs.slice(0, 8),
    });
  }
  return bundles;
}

/**
 * Loads a built handler in a fresh Node process with an empty configuration and invokes it with a tiny event: the
 * ConfigError it must answer with proves the bundle loads, resolves its imports and validates its configuration.
 * @returns {{ ok: boolean, output: string }}
 */
export function smokeTest(name, file) {
  const probe = {
    ingest: { variable: 'QUEUE_URL', event: { version: '2.0', routeKey: 'POST /metrics/job/{proxy+}', rawPath: '/metrics/job/smoke', rawQueryString: '', headers: { 'content-type': 'application/json' }, requestContext: { http: { method: 'POST', path: '/metrics/job/smoke', sourceIp: '127.0.0.1' }, requestId: 'smoke', timeEpoch: 0 }, body: '{}', isBase64Encoded: false } },
    deliver: { variable: 'REMOTE_WRITE_URL', event: { Records: [] } },
  }[name];
  const script = `
    const { handler } = await import(${JSON.stringify(pathToFileURL(file).href)});
    try { await handler(${JSON.stringify(probe.event)}); console.log('no error'); }
    catch (error) { console.log(error.name + ' ' + error.variable + ' ' + error.message); }`;
  // A clean environment: only what Node needs, so no configuration leaks in from the shell.
  const env = { PATH: process.env.PATH ?? '', AWS_REGION: 'us-east-1', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };
  const run = spawnSync(process.execPath, ['--enable-source-maps', '--input-type=module', '-e', script], { env, encoding: 'utf8', timeout: 20_000 });
  const output = `${run.stdout}${run.stderr}`.trim();
  return { ok: run.status === 0 && output.startsWith(`ConfigError ${probe.variable} `), output };
}

const kb = (n) => `${(n / 1024).toFixed(1)} KB`;

async function main(argv) {
  const at = argv.indexOf('--outdir');
  const outdir = at === -1 ? undefined : resolve(argv[at + 1] ?? 'dist');
  const bundles = await buildFunctions(outdir ? { outdir } : {});
  let failed = false;
  for (const b of bundles) {
    const over = b.bytes > MAX_BUNDLE_BYTES;
    const parts = `entry ${kb(b.entryBytes)} + ${b.coldStartFiles.length - 1} chunks; ${kb(b.lazyBytes)} more in chunks loaded on use`;
    console.log(`${b.name.padEnd(8)} ${kb(b.bytes).padStart(9)} at cold start (${parts})  ${b.file}${over ? `  OVER ${kb(MAX_BUNDLE_BYTES)}` : ''}`);
    if (over) {
      failed = true;
      for (const [path, bytes] of b.largest) console.log(`           ${kb(bytes).padStart(9)}  ${path}`);
    }
  }
  if (!argv.includes('--skip-smoke')) {
    for (const b of bundles) {
      const { ok, output } = smokeTest(b.name, b.file);
      console.log(`${b.name.padEnd(8)} loads: ${ok ? 'yes' : 'NO'}${ok ? '' : `\n${output}`}`);
      if (!ok) failed = true;
    }
  }
  if (failed) {
    console.error(`build failed: a bundle is over ${kb(MAX_BUNDLE_BYTES)} or does not load`);
    process.exit(1);
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await main(process.argv.slice(2));
}
