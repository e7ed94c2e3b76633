/**
 * The `mezz-agent` process itself (bin/mezz-agent.mjs): its flags, its one
 * stdout line, and that SIGTERM leaves tasks running.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { removeAgentCgroups } from '../../agent/executor/cgroups';
import { readCheckpoints } from '../../agent/executor/checkpoint';
import { FakeMaster, groupMembers, killGroups, REPO, waitFor } from '../fixtures/agent-harness';

const BIN = join(REPO, 'bin', 'mezz-agent.mjs');
const pgids = new Set<number>();
const dirs: string[] = [];
const children: ChildProcess[] = [];
let master: FakeMaster | undefined;

after(async () => {
  killGroups(pgids);
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  master?.stop();
  // On a host with cgroups the agent ran its task in one: it outlived the agent, and goes now.
  for (const d of dirs) await removeAgentCgroups(d);
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

function agentProcess(args: string[], env: NodeJS.ProcessEnv = {}) {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: REPO, env: { ...process.env, MEZZ_LOG_LEVEL: 'warn', ...env }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  const out = { stdout: '', stderr: '' };
  child.stdout!.on('data', (d: Buffer) => { out.stdout += d.toString(); });
  child.stderr!.on('data', (d: Buffer) => { out.stderr += d.toString(); });
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  return { child, out, exited };
}

describe('mezz-agent command line', () => {
  const bad = [
    { args: ['--port', 'abc'], flag: '--port' },
    { args: ['--attributes', 'rack'], flag: '--attributes' },
    { args: ['--resources', 'cpus:-1'], flag: '--resources' },
    { args: ['--bogus'], flag: '--bogus' },
    { args: ['--isolation', 'docker'], flag: '--isolation' },
    { args: ['--pids-max', '0'], flag: '--pids-max' },
    { args: ['--log-max-size', 'lots'], flag: '--log-max-size' },
    { args: ['--gc-disk-headroom', '150%'], flag: '--gc-disk-headroom' },
    { args: ['--sandbox-gc-delay', 'soon'], flag: '--sandbox-gc-delay' },
  ];
  it('rejects bad flags with one line naming the flag and exit status 2', async () => {
    await Promise.all(bad.map(async (c) => {
      const p = agentProcess(c.args);
      const [code] = await p.exited;
      assert.equal(code, 2, `${c.args.join(' ')}: ${p.out.stderr}`);
      assert.equal(p.out.stdout, '');
      const lines = p.out.stderr.trimEnd().split('\n');
      assert.equal(lines.length, 1, p.out.stderr);
      assert.ok(lines[0]!.includes(c.flag), lines[0]);
    }));
  });

  it('a master it cannot register with is a warning on the 1st, 2nd, 4th and 8th failure in a row, with the count', async () => {
    const dir = `/tmp/mezz/agent-unregistered-${process.pid}`;
    dirs.push(dir);
    const p = agentProcess(['--port', '0', '--work-dir', dir, '--master', '127.0.0.1:1', '--resources', 'cpus:1;mem:256;disk:100;gpus:0']);
    await waitFor('the 8th failure', () => /8 failed attempts in a row/.test(p.out.stderr), 30_000);
    const warned = p.out.stderr.split('\n').filter((l) => /warn .*cannot register with master 127\.0\.0\.1:1/.test(l));
    assert.deepEqual(warned.map((l) => /\((\d+) failed attempts? in a row/.exec(l)?.[1]), ['1', '2', '4', '8']);
    p.child.kill('SIGKILL');
  });

  it('prints one listening line, registers with MEZZ_MASTER, and leaves tasks running on SIGTERM', async () => {
    master = await new FakeMaster().start();
    const p = agentProcess(['--port', '0', '--resources', 'cpus:1;mem:256;disk:100;gpus:0', '--ping-interval', '200ms'],
      { MEZZ_MASTER: master.address });
    const line = await waitFor('the listening line', () => /^mezz-agent listening on 127\.0\.0\.1:(\d+)\n$/.exec(p.out.stdout), 20_000);
    const port = Number(line[1]);
    const workDir = `/tmp/mezz/agent-${port}`;
    dirs.push(workDir);

    const s = await master.stream(0, 10_000);
    assert.equal(s.of('register')[0]!.info!.port, port);
    s.send({ registered: { agentId: 'agent-cli', pingIntervalSeconds: 0.2 } });
    s.send({ runTasks: { framework: { id: 'fw-cli' }, tasks: [{ taskId: 'sleeper', command: { value: 'sleep 1000' } }] } });
    await s.waitFor('RUNNING', (x) => x.statuses().some((u) => u.taskId === 'sleeper' && u.state === 'TASK_RUNNING'));
    const cp = (await readCheckpoints(workDir)).find((c) => c.task.taskId === 'sleeper')!;
    pgids.add(cp.pgid);
    assert.equal(JSON.parse(await readFile(join(workDir, 'agent.json'), 'utf8')).agentId, 'agent-cli');

    p.child.kill('SIGTERM');
    const [code, signal] = await p.exited;
    assert.deepEqual([code, signal], [0, null], p.out.stderr);
    assert.ok((await groupMembers(cp.pgid)).length > 0, 'the task outlives the agent');
    assert.equal(p.out.stdout.split('\n').length, 2, 'exactly one line on stdout');
  });
});
