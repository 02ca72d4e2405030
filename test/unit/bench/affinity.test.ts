import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { affinityOf, onSeparateCores, parseCpuList, pin, processGroupMembers } from '../../../bench/affinity.ts';

describe('bench CPU affinity', () => {
  // A stand-in receiver: a shell leading its own process group, with a child of its own (as the watchdog and
  // VictoriaMetrics are).
  let group: ChildProcess;
  before(() => {
    group = spawn('/bin/sh', ['-c', 'sleep 30 & wait'], { detached: true, stdio: 'ignore' });
  });
  after(() => {
    try {
      process.kill(-group.pid!, 'SIGKILL');
    } catch {
      // Already gone.
    }
  });

  it('reads taskset CPU lists, ranges included', () => {
    assert.deepEqual(parseCpuList('0'), [0]);
    assert.deepEqual(parseCpuList('0,2-4,7'), [0, 2, 3, 4, 7]);
    assert.throws(() => parseCpuList('0-'), /cannot read the CPU list "0-"/);
  });

  it('finds every process of a group, and only those', async () => {
    // The shell forks `sleep` right after it starts.
    let members: number[] = [];
    for (let i = 0; i < 100 && members.length < 2; i++) {
      members = processGroupMembers(group.pid!);
      await new Promise((r) => setTimeout(r, 20));
    }

    assert.equal(members.length, 2);
    assert.ok(members.includes(group.pid!));
    assert.ok(!members.includes(process.pid));
  });

  it('binds a process to CPUs and reads the binding back', () => {
    const all = affinityOf(group.pid!);

    pin(group.pid!, [all[0]!]);
    assert.deepEqual(affinityOf(group.pid!), [all[0]]);

    pin(group.pid!, all);
    assert.deepEqual(affinityOf(group.pid!), all);
  });

  it('puts the handler side and the receiver on different CPUs, and restores both', (t) => {
    const mine = affinityOf(process.pid);
    if (mine.length < 2) {
      assert.throws(() => onSeparateCores([process.pid], group.pid!), /two are needed/);
      t.skip('this process may use one CPU');
      return;
    }
    const receivers = processGroupMembers(group.pid!);

    const cores = onSeparateCores([process.pid], group.pid!);
    try {
      assert.notEqual(cores.handlerCpu, cores.receiverCpu);
      assert.deepEqual(affinityOf(process.pid), [cores.handlerCpu]);
      for (const pid of receivers) assert.deepEqual(affinityOf(pid), [cores.receiverCpu]);
    } finally {
      cores.restore();
    }

    assert.deepEqual(affinityOf(process.pid), mine);
    for (const pid of receivers) assert.deepEqual(affinityOf(pid), mine);
  });
});
