#!/usr/bin/env node
// Makes sure the real receivers the tests and the local stack run are installed (Debian packages, DESIGN §4).
// Plain Node on purpose: it runs before tsx and before anything else is known to work.
// All present: returns at once. Missing and root: apt-get installs them. Missing otherwise: prints the command, exits 1.

import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

const BINARIES = ['prometheus', 'prometheus-pushgateway', 'victoria-metrics', 'promtool'];
const INSTALL_ARGS = ['install', '-y', '--no-install-recommends', 'prometheus', 'prometheus-pushgateway', 'victoria-metrics'];
const INSTALL_COMMAND = `apt-get ${INSTALL_ARGS.join(' ')}`;

function onPath(name) {
  const dirs = new Set([...(process.env.PATH ?? '').split(delimiter), '/usr/bin']);
  for (const dir of dirs) {
    if (!dir) continue;
    try {
      accessSync(join(dir, name), constants.X_OK);
      return true;
    } catch {
      // Not in this directory.
    }
  }
  return false;
}

function missingBinaries() {
  return BINARIES.filter((name) => !onPath(name));
}

function run(command, args) {
  console.error(`ensure-receivers: ${command} ${args.join(' ')}`);
  const result = spawnSync(command, args, {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  if (result.error) {
    console.error(`ensure-receivers: could not run ${command}: ${result.error.message}`);
    return false;
  }
  return result.status === 0;
}

let missing = missingBinaries();
if (missing.length === 0) process.exit(0);

console.error(`ensure-receivers: not installed: ${missing.join(', ')}`);
if (process.getuid?.() !== 0) {
  console.error(`ensure-receivers: install them as root, then run this again:\n  sudo ${INSTALL_COMMAND}`);
  process.exit(1);
}
if (!onPath('apt-get')) {
  console.error(`ensure-receivers: apt-get is not available; on Debian/Ubuntu the command is:\n  ${INSTALL_COMMAND}`);
  process.exit(1);
}

// Without a pty apt prints plain progress lines, which is what a CI log wants.
const quietPty = ['-o', 'Dpkg::Use-Pty=0'];
if (!run('apt-get', [...quietPty, 'update']) || !run('apt-get', [...quietPty, ...INSTALL_ARGS])) {
  console.error(`ensure-receivers: apt-get failed; the command was:\n  ${INSTALL_COMMAND}`);
  process.exit(1);
}

missing = missingBinaries();
if (missing.length > 0) {
  console.error(`ensure-receivers: still missing after apt-get: ${missing.join(', ')}`);
  process.exit(1);
}
console.error('ensure-receivers: receivers installed');
