#!/usr/bin/env node
// Packages the stack for a stage offline: `serverless package` with dummy credentials and a scrubbed environment,
// so it neither reaches AWS nor picks up a developer's profile. Writes the CloudFormation template and the function
// zips to .serverless/ (or --package DIR).
//
// The CLI always assembles a package in <service>/.serverless and only then moves it to --package, so two runs in
// one directory clobber each other. Each run therefore works on a copy of the service (serverless.yml, the files
// it reads, the bundles) in a temporary directory.
//
// The bundles in dist/ must be built first: `npm run package -- --stage prod` runs `npm run build` before this.
//
// Usage: node scripts/package.mjs [--stage dev] [--region R] [--package DIR] [--param key=value]...

import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FUNCTIONS } from './build.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SERVERLESS = join(ROOT, 'node_modules', '.bin', 'serverless');

/** What `serverless package` reads: the service file, the variable resolvers it loads, the bundles it zips. */
const SERVICE_FILES = ['serverless.yml', 'scripts/stack.cjs', 'dist'];

/** `serverless package` could not produce a template; carries what the CLI printed. */
export class PackageError extends Error {
  name = 'PackageError';
  /** @param {string} stage @param {number | null} exitCode @param {string} output */
  constructor(stage, exitCode, output) {
    super(`serverless package --stage ${stage} failed (exit ${exitCode}):\n${output.trim().split('\n').slice(-25).join('\n')}`);
    this.stage = stage;
    this.exitCode = exitCode;
    this.output = output;
  }
}

/**
 * The environment `serverless package` runs with: nothing from the caller's AWS setup, dummy keys so the CLI does
 * not look for credentials, and the v3 CLI's telemetry and notices off (osls has neither; serverless@3 has both).
 * @param {string} region
 */
export function offlineEnv(region) {
  return {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? ROOT,
    ...(process.env.TMPDIR ? { TMPDIR: process.env.TMPDIR } : {}),
    AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE',
    AWS_SECRET_ACCESS_KEY: 'dummy',
    AWS_REGION: region,
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    SLS_TELEMETRY_DISABLED: '1',
    SLS_NOTIFICATIONS_MODE: 'off',
    SLS_INTERACTIVE_SETUP_DISABLE: '1',
    CI: '1',
  };
}

/**
 * Runs `serverless package` for a stage (bundles must be built) and returns the update-stack template. Without
 * `region` the stage's `region` param decides. `isolateNetwork` runs the CLI under `unshare -n` (a network
 * namespace with no interfaces, Linux, needs privileges), which proves packaging reaches nothing.
 * @param {{ stage: string, outdir: string, region?: string, params?: Record<string, string | number | boolean>, isolateNetwork?: boolean }} options
 * @returns {Promise<any>} the parsed cloudformation-template-update-stack.json
 */
export async function packageStage({ stage, outdir, region, params = {}, isolateNetwork = false }) {
  const missing = FUNCTIONS.filter((name) => !existsSync(join(ROOT, 'dist', name, 'index.mjs')));
  if (missing.length > 0) throw new Error(`dist/${missing[0]}/index.mjs is missing: run npm run build first`);
  const service = mkdtempSync(join(tmpdir(), 'bpr-service-'));
  try {
    for (const file of SERVICE_FILES) cpSync(join(ROOT, file), join(service, file), { recursive: true });
    const built = join(service, 'package');
    const args = ['package', '--stage', stage, '--package', built, ...(region ? ['--region', region] : [])];
    for (const [key, value] of Object.entries(params)) args.push('--param', `${key}=${value}`);
    const { code, output } = await new Promise((done, fail) => {
      const [command, argv] = isolateNetwork ? ['unshare', ['-n', SERVERLESS, ...args]] : [SERVERLESS, args];
      const child = spawn(command, argv, { cwd: service, env: offlineEnv(region ?? 'us-east-1'), stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      child.stdout.on('data', (chunk) => (output += chunk));
      child.stderr.on('data', (chunk) => (output += chunk));
      child.on('error', fail);
      child.on('close', (code) => done({ code, output }));
    });
    if (code !== 0) throw new PackageError(stage, code, output);
    rmSync(outdir, { recursive: true, force: true });
    cpSync(built, outdir, { recursive: true });
  } finally {
    rmSync(service, { recursive: true, force: true });
  }
  return JSON.parse(await readFile(join(outdir, 'cloudformation-template-update-stack.json'), 'utf8'));
}

function parseArgs(argv) {
  /** @type {{ stage: string, region?: string, outdir: string, params: Record<string, string> }} */
  const options = { stage: 'dev', outdir: join(ROOT, '.serverless'), params: {} };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${arg} needs a value`);
      return v;
    };
    if (arg === '--stage') options.stage = value();
    else if (arg === '--region') options.region = value();
    else if (arg === '--package') options.outdir = resolve(value());
    else if (arg === '--param') {
      const pair = value();
      const eq = pair.indexOf('=');
      if (eq <= 0) throw new Error(`--param ${pair}: expected key=value`);
      options.params[pair.slice(0, eq)] = pair.slice(eq + 1);
    } else throw new Error(`unknown option ${arg}`);
  }
  return options;
}

async function main(argv) {
  const options = parseArgs(argv);
  const template = await packageStage(options);
  console.log(`stage ${options.stage}: ${Object.keys(template.Resources).length} resources → ${options.outdir}`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    await main(process.argv.slice(2));
  } catch (error) {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  }
}
