/**
 * CPU affinity for the deliver row's second setup: the handler on one core, the receiver on another, as in
 * production, where a Lambda function and the Prometheus-compatible receiver it writes to never share a CPU. On a
 * two-core machine shared by both, the handler's CPU time comes out of the receiver's, and the row measures their
 * sum as much as either.
 *
 * Linux only, through util-linux's `taskset` (part of every Debian system) and /proc; `-a` sets every thread of a
 * process, V8's collector and compiler threads included.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** The CPUs `pid` may run on, from `taskset -c -p` ("pid 42's current affinity list: 0,2-3"). */
export function affinityOf(pid: number): number[] {
  const out = execFileSync('taskset', ['-c', '-p', String(pid)], { encoding: 'utf8' });
  const list = out.slice(out.lastIndexOf(':') + 1).trim();
  return parseCpuList(list);
}

/** `0,2-3` → [0, 2, 3]. */
export function parseCpuList(list: string): number[] {
  const cpus: number[] = [];
  for (const part of list.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) throw new Error(`affinity: cannot read the CPU list "${list}"`);
    for (let c = Number(m[1]); c <= Number(m[2] ?? m[1]); c++) cpus.push(c);
  }
  return cpus;
}

/** Binds every thread of `pid` to `cpus`. */
export function pin(pid: number, cpus: readonly number[]): void {
  execFileSync('taskset', ['-a', '-c', '-p', cpus.join(','), String(pid)], { stdio: 'ignore' });
}

/** The processes of a process group (a receiver and the watchdog shell that leads its group). */
export function processGroupMembers(pgid: number): number[] {
  const members: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // Exited meanwhile.
    }
    // Fields after the command name, which may hold spaces and parentheses: state, ppid, pgrp, …
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(fields[2]) === pgid) members.push(Number(entry));
  }
  return members;
}

export interface SeparateCores {
  /** The CPU of the handler (and of this process), and the receiver's. */
  handlerCpu: number;
  receiverCpu: number;
  /** Gives every pinned process back the CPUs it had. */
  restore(): void;
}

/**
 * Puts `handlerPids` (the handler's process and this one, which posts the limit run's bodies) on one CPU and the
 * receiver's process group on another. Throws when this process may use fewer than two CPUs or `taskset` fails;
 * nothing stays pinned then.
 */
export function onSeparateCores(handlerPids: readonly number[], receiverGroup: number): SeparateCores {
  const cpus = affinityOf(process.pid);
  if (cpus.length < 2) throw new Error(`this process may use ${cpus.length} CPU, two are needed`);
  const [handlerCpu, receiverCpu] = cpus as [number, number];
  const receiverPids = processGroupMembers(receiverGroup);
  if (receiverPids.length === 0) throw new Error(`no process in the receiver's group ${receiverGroup}`);
  const before = new Map<number, number[]>();
  const restore = () => {
    for (const [pid, was] of before) {
      try {
        pin(pid, was);
      } catch {
        // Exited meanwhile.
      }
    }
  };
  try {
    for (const pid of [...handlerPids, ...receiverPids]) before.set(pid, affinityOf(pid));
    for (const pid of handlerPids) pin(pid, [handlerCpu]);
    for (const pid of receiverPids) pin(pid, [receiverCpu]);
  } catch (error) {
    restore();
    throw error;
  }
  return { handlerCpu, receiverCpu, restore };
}
