/**
 * The `mezz` commands against a real cluster — tables by default, JSON
 * with --json, errors on stderr with a non-zero exit — with the hello
 * framework; kill and teardown under ACLs; `mezz up` started and stopped.
 * (The README's tour itself, as written: tour.test.ts.)
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { generateSecret } from '../../lib/auth';
import { Cluster, op, ROOT, task, waitFor, type Proc, type TestScheduler } from '../harness';
import { MEZZ, mezzIn, mezzUp } from '../fixtures/mezz-up';


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

describe('mezz kill and mezz teardown, as principals with and without the permission', () => {
  const c = new Cluster();
  const secret = { ops: generateSecret(), viewer: generateSecret(), web: generateSecret(), agent: generateSecret() };
  let master: Proc;
  let web: TestScheduler;
  const as = (who: keyof typeof secret, args: string[]) => mezzIn(c.dir, [...args, '--master', master.address], { MEZZ_TOKEN: secret[who] });
  /** A refusal: exit 1, one line on stderr, nothing on stdout, no secret anywhere. */
  const refused = (r: ReturnType<typeof mezzIn>, text: RegExp) => {
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.match(r.stderr, text);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.equal(r.stdout, '');
    for (const s of Object.values(secret)) assert.equal(r.stderr.includes(s), false, 'no token in the message');
  };

  before(async () => {
    const file = (name: string, doc: object) => {
      writeFileSync(path.join(c.dir, name), JSON.stringify(doc), { mode: 0o600 });
      return path.join(c.dir, name);
    };
    const credentials = file('credentials.json', { credentials: Object.entries(secret).map(([principal, s]) => ({ principal, secret: s })) });
    const acls = file('acls.json', {
      default: 'deny',
      rules: [
        { principals: ['ops'], actions: '*' },
        { principals: ['agent'], actions: ['register_agent'] },
        { principals: ['web'], actions: ['register_framework'] },
        { principals: ['viewer'], actions: ['view'] },
      ],
    });
    master = await c.startMaster({ args: ['--credentials', credentials, '--acls', acls] });
    await c.startAgent(master.address, { resources: 'cpus:2;mem:1024;disk:500', args: ['--credentials', file('agent.json', { credentials: [{ principal: 'agent', secret: secret.agent }] })] });
    web = c.scheduler(master.address, { token: secret.web });
    await web.subscribe({ name: 'web', failoverTimeout: 600 });
    web.autoAck();
    await web.launchEach([task('sleeper', 'exec sleep 600'), task('other', 'exec sleep 600')]);
    await web.waitEvent('both RUNNING', () => ['sleeper', 'other'].every((t) => web.updates(t).some((u) => u.state === 'TASK_RUNNING')));
  });
  after(() => c.teardown());

  test('mezz kill: refused without the permission or a token; with it, the task ends KILLED', async () => {
    refused(as('viewer', ['kill', 'sleeper']), /^mezz: PERMISSION_DENIED: principal viewer may not kill_task .*allow it in the master's --acls file/);
    refused(mezzIn(c.dir, ['kill', 'sleeper', '--master', master.address]), /^mezz: UNAUTHENTICATED: the master requires a token and mezz found none/);
    assert.deepEqual(web.updates('sleeper').map((u) => u.state).filter((s) => s === 'TASK_KILLED'), [], 'still running');

    const r = as('ops', ['kill', 'sleeper', '--json']);
    assert.equal(r.status, 0, r.stderr);
    const agentId = web.updates('sleeper')[0]!.agentId;
    assert.deepEqual(JSON.parse(r.stdout), { taskId: 'sleeper', frameworkId: web.frameworkId, agentId });
    await web.waitEvent('sleeper KILLED', (e) => e.update?.status?.taskId === 'sleeper' && e.update.status.state === 'TASK_KILLED');
    const tasks = JSON.parse(as('viewer', ['tasks', '--json']).stdout) as { id: string; state: string }[];
    assert.equal(tasks.find((t) => t.id === 'sleeper')?.state, 'TASK_KILLED');

    refused(as('ops', ['kill', 'no-such-task']), /no-such-task/);
    const bad = as('ops', ['kill', 'a/b']);
    assert.equal(bad.status, 2, 'a malformed id is a wrong command line');
    assert.match(bad.stderr, /task id "a\/b" is invalid/);
  });

  test('mezz teardown: refused without the permission; with it, the framework is gone and its tasks killed', async () => {
    await web.waitEvent('other RUNNING', (e) => e.update?.status?.taskId === 'other' && e.update.status.state === 'TASK_RUNNING');
    refused(as('viewer', ['teardown', web.frameworkId]), /^mezz: PERMISSION_DENIED: principal viewer may not teardown_framework/);
    const listed = () => (JSON.parse(as('viewer', ['frameworks', '--json']).stdout) as { id: string }[]).some((f) => f.id === web.frameworkId);
    assert.ok(listed(), 'still there');

    const r = as('ops', ['teardown', web.frameworkId]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^FRAMEWORK\\s+TASKS KILLED\n${web.frameworkId}\\s+1$`, 'm'));
    assert.equal(listed(), false, 'the framework is gone');
    await waitFor('other KILLED', () => {
      const tasks = JSON.parse(as('viewer', ['tasks', '--json']).stdout) as { id: string; state: string }[];
      return tasks.find((t) => t.id === 'other')?.state === 'TASK_KILLED';
    });
    refused(as('ops', ['teardown', web.frameworkId]), new RegExp(web.frameworkId));
  });
});

describe('mezz up', () => {
  const c = new Cluster();
  after(() => c.teardown());

  test('brings up a master and agents, and shuts them down cleanly on Ctrl-C', async () => {
    const dir = path.join(c.dir, 'up');
    const up = await mezzUp(c, dir);
    const agents = await waitFor('two agents', () => {
      const r = mezzIn(dir, ['agents', '--json', '--master', up.master]);
      return r.status === 0 && (JSON.parse(r.stdout) as unknown[]).length === 2 ? JSON.parse(r.stdout) : undefined;
    });
    assert.equal(agents.length, 2);
    process.kill(up.proc.child.pid!, 'SIGINT');
    assert.equal(await up.proc.exited, 0, up.proc.output());
    const after = mezzIn(dir, ['status', '--master', up.master, '--timeout', '2s']);
    assert.equal(after.status, 1, 'the master is gone');
    assert.match(after.stderr, /cannot reach the master/);
  });
});
