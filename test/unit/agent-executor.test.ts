import assert from 'node:assert/strict';
import { access, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LaunchError } from '../../agent/errors';
import { checkpointPath, readCheckpoints } from '../../agent/executor/checkpoint';
import { taskEnvironment } from '../../agent/executor/environment';
import type { TaskExit } from '../../agent/executor/executor';
import { commandArgv, parseExitStatus, PosixExecutor } from '../../agent/executor/executor-posix';
import { Sandboxes } from '../../agent/sandbox';
import { outcomeOf, Reason } from '../../agent/task-status';
import type { CommandInfo__Output, TaskInfo__Output } from '../../lib/proto';
import { groupMembers, killGroups, tempDir, testLogger, waitFor } from '../fixtures/agent-harness';
import { rootOrSkip } from '../harness';

const FW = 'fw-exec';
let workDir: string;
let executor: PosixExecutor;
let sandboxes: Sandboxes;
const exits = new Map<string, TaskExit>();
const pgids = new Set<number>();

before(async () => {
  workDir = await tempDir();
  sandboxes = new Sandboxes(workDir);
  executor = new PosixExecutor({ workDir, logger: testLogger() });
  executor.onExit((key, exit) => exits.set(key, exit));
});
after(async () => {
  killGroups(pgids);
  executor.close();
  await rm(workDir, { recursive: true, force: true });
});

function taskInfo(taskId: string, command: Partial<CommandInfo__Output>, extra: Partial<TaskInfo__Output> = {}): TaskInfo__Output {
  return {
    taskId, name: taskId, agentId: 'agent-1', resources: [], labels: {}, killGraceSeconds: 0, healthCheck: null, healthChecks: [], check: null,
    command: { value: '', shell: false, arguments: [], environment: {}, uris: [], user: '', ...command },
    ...extra,
  };
}

const nobody = { name: 'nobody', uid: 65534, gid: 65534, home: '/nonexistent' };

/** Launches a task in a fresh sandbox (as `user` when given); the caller waits for `exits.get(taskId)`. */
async function launch(task: TaskInfo__Output, base: NodeJS.ProcessEnv = process.env, user?: typeof nobody) {
  const sandbox = await sandboxes.create(FW, task.taskId, user);
  const environment = taskEnvironment({ task, frameworkId: FW, agentId: 'agent-1', sandbox, base, user });
  const { pid } = await executor.launch({ key: task.taskId, frameworkId: FW, agentId: 'agent-1', task, sandbox, environment, user });
  pgids.add(pid);
  return { sandbox, pid };
}

const exitOf = (key: string, timeoutMs?: number) => waitFor(`task ${key} to exit`, () => exits.get(key), timeoutMs);
const read = (sandbox: string, file: string) => readFile(join(sandbox, file), 'utf8');

describe('PosixExecutor', () => {
  it('writes stdout and stderr to the sandbox; exit 0 is recorded', async () => {
    const { sandbox } = await launch(taskInfo('out', { value: 'echo to-out; echo to-err >&2' }));
    assert.deepEqual(await exitOf('out'), { kind: 'exited', code: 0 });
    assert.equal(await read(sandbox, 'stdout'), 'to-out\n');
    assert.equal(await read(sandbox, 'stderr'), 'to-err\n');
    assert.equal(await read(sandbox, 'exit_status'), 'exit 0\n');
  });

  it('reports exit 3 and writes it to exit_status', async () => {
    const { sandbox } = await launch(taskInfo('three', { value: 'exit 3' }));
    assert.deepEqual(await exitOf('three'), { kind: 'exited', code: 3 });
    assert.equal(await read(sandbox, 'exit_status'), 'exit 3\n');
  });

  it('runs a program with arguments without a shell', async () => {
    const { sandbox } = await launch(taskInfo('argv', { value: '/bin/echo', arguments: ['a  b', '$HOME'] }));
    assert.deepEqual(await exitOf('argv'), { kind: 'exited', code: 0 });
    assert.equal(await read(sandbox, 'stdout'), 'a  b $HOME\n');
  });

  it('gives the task a clean environment with its ports and ids; cwd is the sandbox; stdin is empty', async () => {
    const task = taskInfo('env', { value: 'env; pwd; cat; echo stdin-done', environment: { GREETING: 'hi', MEZZ_TASK_ID: 'spoofed' } }, {
      resources: [{ name: 'ports', ranges: [{ begin: 31000, end: 31001 }, { begin: 31500, end: 31500 }], scalar: 0, set: [], role: '*' }],
    });
    const { sandbox } = await launch(task, { HOME: '/home/x', PATH: process.env.PATH, AGENT_SECRET: 'no' });
    assert.deepEqual(await exitOf('env'), { kind: 'exited', code: 0 });
    const out = await read(sandbox, 'stdout');
    const env = Object.fromEntries(out.split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
    assert.equal(env.MEZZ_TASK_ID, 'env');
    assert.equal(env.MEZZ_FRAMEWORK_ID, FW);
    assert.equal(env.MEZZ_AGENT_ID, 'agent-1');
    assert.equal(env.MEZZ_SANDBOX, sandbox);
    assert.equal(env.PORT0, '31000');
    assert.equal(env.PORT1, '31001');
    assert.equal(env.PORT2, '31500');
    assert.equal(env.PORTS, '31000,31001,31500');
    assert.equal(env.GREETING, 'hi');
    assert.equal(env.HOME, '/home/x');
    assert.equal(env.AGENT_SECRET, undefined);
    assert.match(out, new RegExp(`^${sandbox}$`, 'm'), 'cwd');
    assert.match(out, /^stdin-done$/m);
  });

  it('checkpoints the launch under meta/ and drops the checkpoint on release', async () => {
    const { pid } = await launch(taskInfo('cp', { value: 'exit 0' }));
    await exitOf('cp');
    const cps = await readCheckpoints(workDir);
    const cp = cps.find((c) => c.task.taskId === 'cp');
    assert.ok(cp, 'checkpoint written');
    assert.equal(cp.pid, pid);
    assert.equal(cp.pgid, pid);
    assert.equal(cp.frameworkId, FW);
    await executor.release('cp');
    await assert.rejects(access(checkpointPath(workDir, FW, 'cp')));
  });

  it('kill ends the whole process tree within the grace', async () => {
    const { pid, sandbox } = await launch(taskInfo('tree', { value: 'sleep 1000 & sleep 1000; wait' }));
    // wrapper, sh, two sleeps
    await waitFor('the task tree to start', async () => (await groupMembers(pid)).length >= 4);
    const t0 = Date.now();
    assert.equal(executor.kill('tree', 2000), true);
    assert.equal(executor.kill('tree', 2000), true, 'idempotent');
    assert.deepEqual(await exitOf('tree'), { kind: 'signaled', signal: 'SIGTERM' });
    await waitFor('no process of the group to remain', async () => (await groupMembers(pid)).length === 0, 2500);
    assert.ok(Date.now() - t0 < 2000, 'SIGTERM was enough');
    assert.equal(await read(sandbox, 'exit_status'), 'signal TERM\n');
  });

  it('SIGKILLs a tree that ignores SIGTERM once the grace is over', async () => {
    const { pid } = await launch(taskInfo('stubborn', { value: 'trap "" TERM; sleep 1000 & sleep 1000; wait' }));
    await waitFor('the task tree to start', async () => (await groupMembers(pid)).length >= 4);
    const t0 = Date.now();
    executor.kill('stubborn', 300);
    assert.deepEqual(await exitOf('stubborn', 5000), { kind: 'executor-terminated', signal: 'SIGKILL' });
    assert.ok(Date.now() - t0 >= 290, 'waited for the grace');
    await waitFor('no process of the group to remain', async () => (await groupMembers(pid)).length === 0, 2000);
  });

  it('when the main command ends, what is left of its group is killed', async () => {
    const { pid } = await launch(taskInfo('orphans', { value: 'sleep 1000 & echo started' }));
    assert.deepEqual(await exitOf('orphans'), { kind: 'exited', code: 0 });
    await waitFor('the orphaned sleep to be killed', async () => (await groupMembers(pid)).length === 0, 2000);
  });

  it('kill of a task that is not running returns false', () => {
    assert.equal(executor.kill('nothing', 100), false);
  });

  it('rejects with LaunchError when the sandbox is unusable', async () => {
    const task = taskInfo('nosandbox', { value: 'true' });
    await assert.rejects(
      executor.launch({ key: 'nosandbox', frameworkId: FW, agentId: 'a', task, sandbox: join(workDir, 'missing'), environment: {} }),
      (e: Error) => e instanceof LaunchError && /ENOENT/.test(e.message),
    );
  });

  describe('as another user (root only)', () => {
    it('runs the command as the user, its stdout its own (0600), and records its checkpoint\'s user', async (t) => {
      if (!rootOrSkip(t, 'the executor switching users')) return;
      const { sandbox } = await launch(taskInfo('as-nobody', { value: 'id -u; id -G', shell: true }), process.env, nobody);
      assert.deepEqual(await exitOf('as-nobody'), { kind: 'exited', code: 0 });
      assert.equal(await read(sandbox, 'stdout'), '65534\n65534\n');
      const out = await stat(join(sandbox, 'stdout'));
      assert.deepEqual({ uid: out.uid, mode: out.mode & 0o777 }, { uid: 65534, mode: 0o600 });
      const cp = (await readCheckpoints(workDir)).find((c) => c.task.taskId === 'as-nobody');
      assert.deepEqual(cp?.user, nobody);
    });

    it('a task\'s own MEZZ_RUN_AS=0:0 does not make it root', async (t) => {
      if (!rootOrSkip(t, 'the executor switching users')) return;
      const { sandbox } = await launch(taskInfo('sneaky', { value: 'id -u', shell: true, environment: { MEZZ_RUN_AS: '0:0' } }), process.env, nobody);
      await exitOf('sneaky');
      assert.equal(await read(sandbox, 'stdout'), '65534\n');
    });

    it('an exit_status the task links elsewhere is not written through by root, nor read through', async (t) => {
      if (!rootOrSkip(t, 'the executor switching users')) return;
      const target = join(workDir, 'precious');
      await writeFile(target, 'keep\n');
      await launch(taskInfo('linker', { value: `ln -s ${target} exit_status; exit 4`, shell: true }), process.env, nobody);
      // The record is written as nobody, who may not write the root-owned file: the task ends without one.
      assert.deepEqual(await exitOf('linker'), { kind: 'exited', code: 4 });
      assert.equal(await readFile(target, 'utf8'), 'keep\n');
    });

    it('a stdout planted as a symlink (an archive could) fails the launch rather than be opened', async (t) => {
      if (!rootOrSkip(t, 'the executor switching users')) return;
      const task = taskInfo('planted', { value: 'echo hi', shell: true });
      const sandbox = await sandboxes.create(FW, 'planted', nobody);
      const target = join(workDir, 'not-yours');
      await writeFile(target, 'keep\n');
      await symlink(target, join(sandbox, 'stdout'));
      const environment = taskEnvironment({ task, frameworkId: FW, agentId: 'agent-1', sandbox, user: nobody });
      await assert.rejects(executor.launch({ key: 'planted', frameworkId: FW, agentId: 'agent-1', task, sandbox, environment, user: nobody }), LaunchError);
      assert.equal(await readFile(target, 'utf8'), 'keep\n');
    });
  });
});

describe('commandArgv', () => {
  const cases = [
    { name: 'no arguments: shell', cmd: { value: 'echo hi', shell: false, arguments: [] }, want: ['/bin/sh', '-c', 'echo hi'] },
    { name: 'shell flag wins', cmd: { value: 'echo', shell: true, arguments: ['x'] }, want: ['/bin/sh', '-c', 'echo'] },
    { name: 'program and arguments', cmd: { value: '/bin/echo', shell: false, arguments: ['a', 'b'] }, want: ['/bin/echo', 'a', 'b'] },
  ];
  for (const c of cases) it(c.name, () => assert.deepEqual(commandArgv({ environment: {}, uris: [], user: '', ...c.cmd }), c.want));
});

describe('parseExitStatus', () => {
  const cases: { input: string; want: TaskExit | undefined }[] = [
    { input: 'exit 0\n', want: { kind: 'exited', code: 0 } },
    { input: 'exit 127\n', want: { kind: 'exited', code: 127 } },
    { input: 'signal TERM\n', want: { kind: 'signaled', signal: 'SIGTERM' } },
    { input: 'signal SIGSEGV', want: { kind: 'signaled', signal: 'SIGSEGV' } },
    { input: 'exit', want: undefined },
    { input: '', want: undefined },
  ];
  for (const c of cases) it(JSON.stringify(c.input), () => assert.deepEqual(parseExitStatus(c.input), c.want));
});

describe('outcomeOf', () => {
  const cases = [
    { name: 'exit 0', exit: { kind: 'exited', code: 0 } as TaskExit, killed: undefined,
      want: { state: 'TASK_FINISHED', reason: Reason.COMMAND_EXITED, message: 'command exited with status 0', exitCode: 0 } },
    { name: 'exit 3', exit: { kind: 'exited', code: 3 } as TaskExit, killed: undefined,
      want: { state: 'TASK_FAILED', reason: Reason.COMMAND_EXITED, message: 'command exited with status 3', exitCode: 3 } },
    { name: 'signal', exit: { kind: 'signaled', signal: 'SIGSEGV' } as TaskExit, killed: undefined,
      want: { state: 'TASK_FAILED', reason: Reason.COMMAND_SIGNALED, message: 'terminated by signal SIGSEGV'} },
    { name: 'wrapper died', exit: { kind: 'executor-terminated', signal: 'SIGKILL' } as TaskExit, killed: undefined,
      want: { state: 'TASK_FAILED', reason: Reason.EXECUTOR_TERMINATED, message: "task wrapper terminated by signal SIGKILL before the command's end was recorded"} },
    { name: 'killed, even if it exited 0', exit: { kind: 'exited', code: 0 } as TaskExit, killed: Reason.TASK_KILLED,
      want: { state: 'TASK_KILLED', reason: Reason.TASK_KILLED, message: 'killed: command exited with status 0', exitCode: 0 } },
  ];
  for (const c of cases) it(c.name, () => assert.deepEqual(outcomeOf(c.exit, c.killed), c.want));
});
