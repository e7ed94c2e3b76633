/**
 * The README's tour, as a newcomer runs it: `mezz up`, the hello framework,
 * and the `mezz` commands against a real cluster — tables by default, JSON
 * with --json, errors on stderr with a non-zero exit.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { Cluster, op, ROOT, waitFor, type Proc } from '../harness';

const MEZZ = path.join(ROOT, 'bin/mezz.mjs');

function mezz(args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, [MEZZ, ...args], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, ...env } });
}

describe('mezz against a running cluster', () => {
  const c = new Cluster();
  let master: Proc;

  before(async () => {
    master = await c.startMaster();
    await c.startAgent(master.address, { name: 'agent-a', resources: 'cpus:2;mem:1024;disk:500', args: ['--attributes', 'rack:r1'] });
    await c.startAgent(master.address, { name: 'agent-b', resources: 'cpus:2;mem:1024;disk:500' });
    await waitFor('two agents', () => {
      const r = mezz(['agents', '--json', '--master', master.address]);
      return r.status === 0 && JSON.parse(r.stdout).length === 2;
    });
  });
  after(() => c.teardown());

  /** The hello framework's runs, each made once, by whichever test reads it first: any test runs alone. */
  const runs = new Map<string, ReturnType<typeof spawnSync>>();
  const hello = (name: string, tasks: number, cmd: string) => {
    if (!runs.has(name)) {
      runs.set(name, spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'examples/hello-framework.ts'),
        '--master', master.address, '--tasks', String(tasks), '--cmd', cmd, '--name', name], { encoding: 'utf8', timeout: 90_000, cwd: ROOT }));
    }
    const r = runs.get(name)!;
    return { status: r.status, stdout: String(r.stdout), stderr: String(r.stderr) };
  };
  const happy = () => hello('hello', 6, 'echo hello from $MEZZ_TASK_ID');
  const sad = () => hello('sad', 2, 'exit 7');

  test('the hello framework runs its tasks to completion and exits 0', () => {
    const r = happy();
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /all 6 tasks finished/);
    assert.equal((r.stdout.match(/TASK_FINISHED/g) ?? []).length >= 6, true);
  });

  test('the hello framework exits non-zero with the reason when a task fails', () => {
    const r = sad();
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.match(r.stderr, /TASK_FAILED.*exit code 7/);
  });

  test('mezz tasks --json lists tasks with id, state, agentId and frameworkId; filters by state', () => {
    happy();
    sad();
    const all = mezz(['tasks', '--json', '--master', master.address]);
    assert.equal(all.status, 0, all.stderr);
    const tasks = JSON.parse(all.stdout) as { id: string; state: string; agentId: string; frameworkId: string; exitCode?: number }[];
    assert.ok(tasks.length >= 8);
    for (const t of tasks) {
      assert.match(t.id, /^(hello|sad)-/);
      assert.match(t.agentId, /^agent-/);
      assert.match(t.frameworkId, /^fw-/);
    }
    const failed = JSON.parse(mezz(['tasks', '--json', '--state', 'failed', '--master', master.address]).stdout) as typeof tasks;
    assert.ok(failed.length >= 1 && failed.every((t) => t.state === 'TASK_FAILED' && t.exitCode === 7));
    const table = mezz(['tasks', '--master', master.address]);
    assert.match(table.stdout.split('\n')[0]!, /ID\s+NAME\s+FRAMEWORK\s+AGENT\s+STATE/);
    const bad = mezz(['tasks', '--state', 'sleepy', '--master', master.address]);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /sleepy/);
  });

  test('mezz logs prints a task\'s stdout', () => {
    happy();
    const tasks = JSON.parse(mezz(['tasks', '--json', '--state', 'finished', '--master', master.address]).stdout) as { id: string }[];
    const id = tasks[0]!.id;
    const r = mezz(['logs', id, '--master', master.address]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, `hello from ${id}\n`);
    const missing = mezz(['logs', 'no-such-task', '--master', master.address]);
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /no-such-task is not known/);
  });

  test('mezz agents, status, frameworks and roles', async () => {
    const agents = JSON.parse(mezz(['agents', '--json', '--master', master.address]).stdout) as { id: string; hostname: string; resources: { cpus: number; mem: number; disk: number; gpus: number }; attributes: Record<string, string> }[];
    assert.deepEqual(agents.map((a) => a.resources).sort((x, y) => x.cpus - y.cpus), [{ cpus: 2, mem: 1024, disk: 500, gpus: 0 }, { cpus: 2, mem: 1024, disk: 500, gpus: 0 }]);
    assert.ok(agents.some((a) => a.attributes.rack === 'r1'));
    const status = JSON.parse(mezz(['status', '--json'], { MEZZ_MASTER: master.address }).stdout) as { agentsActive: number };
    assert.equal(status.agentsActive, 2);
    const table = mezz(['agents', '--master', master.address]);
    assert.match(table.stdout, /HOSTNAME/);
    const fws = JSON.parse(mezz(['frameworks', '--json', '--master', master.address]).stdout) as unknown[];
    assert.ok(Array.isArray(fws));
    const w = mezz(['weights', 'set', 'analytics', '2.5', '--master', master.address]);
    assert.equal(w.status, 0, w.stderr);
    const roles = JSON.parse(mezz(['roles', '--json', '--master', master.address]).stdout) as { name: string; weight: number }[];
    assert.equal(roles.find((r) => r.name === 'analytics')?.weight, 2.5);
    // More roles than one registry transaction holds are refused whole, with what to do instead.
    const many = Array.from({ length: 101 }, (_, i) => ({ role: `r${i}`, weight: 2 }));
    await assert.rejects(op(c.operator(master.address), 'updateWeights', { weights: many }), /101 weights in one call; at most 100 .*send them in batches/);
    const after = JSON.parse(mezz(['roles', '--json', '--master', master.address]).stdout) as { name: string }[];
    assert.equal(after.some((r) => r.name === 'r0'), false, 'nothing was applied');
  });

  test('an unreachable master is a one-line error on stderr and exit 1', () => {
    const r = mezz(['status', '--master', '127.0.0.1:1', '--timeout', '2s']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /cannot reach the master at 127\.0\.0\.1:1/);
    assert.equal(r.stderr.trim().split('\n').length, 1);
  });
});

describe('mezz up', () => {
  const c = new Cluster();
  after(() => c.teardown());

  test('brings up a master and agents, and shuts them down cleanly on Ctrl-C', async () => {
    // A free port: take one from the OS through a throwaway master, then reuse it.
    const probe = await c.startMaster({ name: 'probe' });
    const port = probe.port;
    await probe.stop();
    const up = spawn(process.execPath, [MEZZ, 'up', '--port', String(port), '--agents', '2', '--data-dir', path.join(c.dir, 'up'),
      '--agent-resources', 'cpus:1;mem:512;disk:100'], { cwd: ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    up.stdout.on('data', (d: Buffer) => (out += d.toString()));
    up.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((r) => up.on('exit', (code) => r(code)));
    try {
      await waitFor(`mezz up to be ready (output: ${out})`, () => /hello-framework/.test(out), 60_000);
      const agents = await waitFor('two agents', () => {
        const r = mezz(['agents', '--json', '--master', `127.0.0.1:${port}`]);
        return r.status === 0 && (JSON.parse(r.stdout) as unknown[]).length === 2 ? JSON.parse(r.stdout) : undefined;
      });
      assert.equal(agents.length, 2);
      process.kill(up.pid!, 'SIGINT');
      assert.equal(await exited, 0, out);
      const after = mezz(['status', '--master', `127.0.0.1:${port}`, '--timeout', '2s']);
      assert.equal(after.status, 1, 'the master is gone');
    } finally {
      try { process.kill(-up.pid!, 'SIGKILL'); } catch { /* exited */ }
    }
  });
});
