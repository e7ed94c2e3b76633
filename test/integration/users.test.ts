/**
 * Tasks run as users, through a real master and a root agent with default
 * flags (--switch-user on, --default-user nobody): a task that names no user
 * runs as nobody, one with command.user=daemon as uid 1; a daemon task can
 * read neither a nobody task's sandbox nor the agent's meta/ state; a
 * `file:///etc/shadow` URI fails the task (REASON_FETCHER_FAILED, permission
 * denied for nobody) with nothing copied; a COMMAND health check runs as
 * the task's user; an unknown user fails the task, saying so.
 *
 * The agent switches users only as root: elsewhere these say so loudly and
 * skip, or fail with REQUIRE_ROOT=1.
 */
import { after, before, describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { Cluster, op, rootOrSkip, task, waitFor, type TestScheduler } from '../harness';
import type { ReadFileResponse__Output, TaskStatus__Output } from '../../lib/proto';

const TERMINAL = ['TASK_FINISHED', 'TASK_FAILED', 'TASK_KILLED', 'TASK_ERROR', 'TASK_LOST'];

describe('tasks run as users', () => {
  const c = new Cluster();
  let master: { address: string };
  let fw: TestScheduler;
  let workDir: string;

  before(async () => {
    if (process.getuid?.() !== 0) return;
    master = await c.startMaster();
    workDir = path.join(c.dir, 'agent');
    // No user flags: what a root agent does by default.
    await c.startAgent(master.address, { name: 'agent', workDir });
    fw = c.scheduler(master.address);
    // No framework user: tasks without command.user get the agent's --default-user.
    await fw.subscribe({ name: 'users', failoverTimeout: 60 });
    fw.autoAck();
  });
  after(() => c.teardown());

  const need = (t: TestContext) => rootOrSkip(t, 'switching tasks\' users');

  /** Launches `t` (a `task()`, perhaps with uris or a health check) on the next offer. */
  async function launch(t: object): Promise<void> {
    await fw.launchEach([t as ReturnType<typeof task>]);
  }

  async function final(id: string): Promise<TaskStatus__Output> {
    return waitFor(`${id} to end`, () => fw.updates(id).find((u) => TERMINAL.includes(u.state)));
  }

  async function stdout(id: string): Promise<string> {
    const out = await op<object, ReadFileResponse__Output>(c.operator(master.address), 'readTaskFile', { taskId: id, path: 'stdout' });
    return out.data.toString();
  }

  /** The task's sandbox on disk (the agent's work dir is the test's). */
  function sandboxOf(id: string): string {
    const dir = path.join(workDir, 'sandboxes', fw.frameworkId);
    const name = readdirSync(dir).find((n) => n.startsWith(`${id}-`));
    assert.ok(name, `no sandbox of ${id} in ${dir}`);
    return path.join(dir, name);
  }

  test('a task naming no user runs as nobody, with its HOME, USER and LOGNAME; its sandbox is its own, 0700', async (t) => {
    if (!need(t)) return;
    await launch(task('anon', 'id -u; echo "$HOME $USER $LOGNAME"'));
    const end = await final('anon');
    assert.equal(end.state, 'TASK_FINISHED', JSON.stringify(fw.updates('anon')));
    // Read through the files service: the agent, root, reads the user's 0600 stdout.
    assert.equal(await stdout('anon'), '65534\n/nonexistent nobody nobody\n');
    const sb = statSync(sandboxOf('anon'));
    assert.deepEqual({ uid: sb.uid, mode: sb.mode & 0o777 }, { uid: 65534, mode: 0o700 });
    const out = statSync(path.join(sandboxOf('anon'), 'stdout'));
    assert.deepEqual({ uid: out.uid, mode: out.mode & 0o777 }, { uid: 65534, mode: 0o600 });
    assert.equal(statSync(path.join(workDir, 'meta')).mode & 0o777, 0o700);
    assert.equal(statSync(path.join(workDir, 'agent.json')).mode & 0o777, 0o600);
    assert.equal(statSync(path.join(workDir, 'sandboxes')).mode & 0o777, 0o711);
  });

  test('a task with command.user=daemon runs as uid 1', async (t) => {
    if (!need(t)) return;
    await launch(task('as-daemon', 'id -u', { user: 'daemon' }));
    const end = await final('as-daemon');
    assert.equal(end.state, 'TASK_FINISHED', JSON.stringify(fw.updates('as-daemon')));
    assert.equal(await stdout('as-daemon'), '1\n');
  });

  test('a daemon task cannot read a nobody task\'s sandbox, list the sandboxes, or read the agent\'s state', async (t) => {
    if (!need(t)) return;
    await launch(task('keeper', 'echo secret > secret; exec sleep 600'));
    await waitFor('keeper to write its secret', () => existsSync(path.join(sandboxOf('keeper'), 'secret')));
    const secret = path.join(sandboxOf('keeper'), 'secret');
    const fwDir = path.dirname(sandboxOf('keeper'));
    // Each attempt prints what happened; the task's own file (by absolute path) shows the paths are passable.
    const attempt = (what: string, cmd: string) => `if ${cmd} >/dev/null 2>&1; then echo "${what} read"; else echo "${what} denied"; fi`;
    await launch(task('prober', [
      'echo mine > own',
      attempt('own', `cat "$MEZZ_SANDBOX/own"`),
      attempt('sandbox', `cat '${secret}'`),
      attempt('listing', `ls '${fwDir}'`),
      attempt('meta', `cat '${path.join(workDir, 'meta', 'updates.log')}'`),
      attempt('checkpoint', `ls '${path.join(workDir, 'meta', 'tasks')}'`),
      attempt('agent.json', `cat '${path.join(workDir, 'agent.json')}'`),
    ].join('; '), { user: 'daemon' }));
    const end = await final('prober');
    assert.equal(end.state, 'TASK_FINISHED', JSON.stringify(fw.updates('prober')));
    assert.equal(await stdout('prober'), ['own read', 'sandbox denied', 'listing denied', 'meta denied', 'checkpoint denied', 'agent.json denied', ''].join('\n'));
    fw.send({ kill: { taskId: 'keeper', agentId: end.agentId } });
    await final('keeper');
  });

  test('a file:///etc/shadow URI fails the task: read as nobody, permission denied, nothing copied', async (t) => {
    if (!need(t)) return;
    const base = task('shadow', 'echo never runs');
    await launch({ ...base, command: { ...base.command, uris: [{ value: 'file:///etc/shadow' }] } });
    const end = await final('shadow');
    assert.equal(end.state, 'TASK_FAILED', JSON.stringify(fw.updates('shadow')));
    assert.equal(end.reason, 'REASON_FETCHER_FAILED');
    assert.equal(end.message, 'cannot fetch file:///etc/shadow: permission denied: the fetcher reads local files as the task\'s user nobody (uid 65534), who may not read /etc/shadow');
    assert.deepEqual(readdirSync(sandboxOf('shadow')), [], 'nothing of it lands in the sandbox');
  });

  test('a COMMAND health check runs as the task\'s user', async (t) => {
    if (!need(t)) return;
    const base = task('checked', 'exec sleep 600', { user: 'daemon' });
    await launch({
      ...base,
      healthCheck: {
        type: 'COMMAND', delaySeconds: 0, intervalSeconds: 1, gracePeriodSeconds: 30, timeoutSeconds: 10,
        command: { value: 'id -u > check_uid; [ "$(id -u)" = 1 ]', shell: true },
      },
    });
    const healthy = await waitFor('a health result', () => fw.updates('checked').find((u) => u.reason === 'REASON_TASK_HEALTH_CHECK_STATUS_UPDATED'));
    assert.equal(healthy.healthy, true, healthy.message);
    assert.equal(readFileSync(path.join(sandboxOf('checked'), 'check_uid'), 'utf8'), '1\n');
    fw.send({ kill: { taskId: 'checked', agentId: healthy.agentId } });
    await final('checked');
  });

  test('an unknown user fails the task, naming the user', async (t) => {
    if (!need(t)) return;
    await launch(task('ghostly', 'echo never runs', { user: 'mezz-ghost' }));
    const end = await final('ghostly');
    assert.equal(end.state, 'TASK_FAILED');
    assert.equal(end.reason, 'REASON_LAUNCH_FAILED');
    assert.equal(end.message, 'user "mezz-ghost" (the task\'s command.user) does not exist on this agent (not in the passwd database)');
  });
});
