/**
 * `mezz up` as a process: everything it starts listens on 127.0.0.1 only,
 * authentication is on with credentials it writes (mode 0600) and that
 * clients run beside its data dir find by themselves, and an agent killed
 * with SIGKILL is restarted (with a line saying so) while the rest of the
 * cluster stays up; the agent returns with the same id and recovers the
 * task it was running, which never stopped. A restarted master comes back
 * on its port, with authentication still on.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { readTokenFile } from '../../lib/auth';
import { alive, Cluster, ROOT, task, waitFor } from '../harness';
import { cleanEnv, listeningSockets, mezzIn, mezzUp, processTree, TSX } from '../fixtures/mezz-up';

const MODES = ['credentials.json', 'acls.json', 'agent-credentials.json', 'token'];

describe('mezz up keeps the cluster up, on loopback, with authentication on', () => {
  const c = new Cluster();
  after(() => c.teardown());

  test('binds 127.0.0.1, writes its credentials 0600, and clients beside its data dir find the token', async () => {
    const dir = path.join(c.dir, 'here');
    const up = await mezzUp(c, dir);
    const env = { MEZZ_MASTER: up.master };

    // Every listening socket of its whole process tree (itself, masters, agents, tasks) is on loopback.
    const sockets = listeningSockets(processTree(up.proc.child.pid!));
    for (const name of ['master', 'agent-1', 'agent-2']) assert.ok(sockets.some((s) => s.pid === up.pidOf(name)), `${name} listens`);
    assert.deepEqual(sockets.filter((s) => s.address !== '127.0.0.1'), [], 'nothing listens beyond 127.0.0.1');

    for (const f of MODES) assert.equal(statSync(path.join(up.dataDir, f)).mode & 0o777, 0o600, `${f} is mode 0600`);
    const token = readTokenFile(path.join(up.dataDir, 'token'));
    assert.equal(up.proc.output().includes(token), false, 'the banner never shows the token');
    assert.match(up.proc.output(), /The admin token is in .*\.mezz\/token/);

    // No flags: the token is ./.mezz/token of the working directory.
    const status = mezzIn(dir, ['status'], env);
    assert.equal(status.status, 0, status.stderr);
    assert.match(status.stdout, /agents\s+2 active/);
    const wrong = mezzIn(dir, ['status'], { ...env, MEZZ_TOKEN: 'wrong-token-0123456789' });
    assert.equal(wrong.status, 1);
    assert.match(wrong.stderr, /^mezz: UNAUTHENTICATED: .*mezz sent the token from MEZZ_TOKEN/);
    const elsewhere = mezzIn(c.dir, ['status'], env);
    assert.equal(elsewhere.status, 1, 'without the token: refused');
    assert.match(elsewhere.stderr, /UNAUTHENTICATED: the master requires a token and mezz found none/);
    assert.equal(mezzIn(c.dir, ['status'], { ...env, MEZZ_TOKEN_FILE: path.join(up.dataDir, 'token') }).status, 0, 'MEZZ_TOKEN_FILE from anywhere');

    // An example, unchanged, finds the token the same way.
    const hello = spawnSync(process.execPath, ['--import', TSX, path.join(ROOT, 'examples/hello-framework.ts'), '--tasks', '2', '--cmd', 'echo hi'],
      { cwd: dir, encoding: 'utf8', timeout: 90_000, env: cleanEnv(env) });
    assert.equal(hello.status, 0, hello.stdout + hello.stderr);
    assert.match(hello.stdout, /all 2 tasks finished/);
    for (const log of ['master', 'agent-1', 'agent-2']) {
      assert.equal(readFileSync(path.join(up.dataDir, 'logs', `${log}.log`), 'utf8').includes(token), false, `${log}.log never holds the token`);
    }
  });

  test('restarts a killed agent, which recovers its running task, and a killed master, which comes back with authentication on', async () => {
    const dir = path.join(c.dir, 'restarts');
    const up = await mezzUp(c, dir);
    const { master, dataDir } = up;
    const out = () => up.proc.output();
    const mezz = (args: string[], env: Record<string, string> = {}) => mezzIn(dir, [...args, '--master', master], env);
    const secrets = MODES.map((f) => readFileSync(path.join(dataDir, f), 'utf8'));

    // A task that prints its pid, then runs until killed.
    const fw = c.scheduler(master, { token: readTokenFile(path.join(dataDir, 'token')) });
    await fw.subscribe({ name: 'up-test', failoverTimeout: 600 });
    fw.autoAck();
    const offer = (await fw.waitEvent('an offer', (e) => !!e.offers?.offers.length)).offers!.offers[0]!;
    fw.send({ accept: { offerIds: [offer.id], operations: [{ launch: { taskInfos: [task('survivor', 'echo $$; exec sleep 600', { cpus: 0.5, mem: 64 })] } }] } });
    await fw.waitEvent('survivor RUNNING', (e) => e.update?.status?.taskId === 'survivor' && e.update.status.state === 'TASK_RUNNING');

    // Which of mezz up's agents runs it: the one whose work dir holds its sandbox.
    const name = ['agent-1', 'agent-2'].find((n) => existsSync(path.join(dataDir, n, 'sandboxes', fw.frameworkId)))!;
    assert.ok(name, 'the task has a sandbox in one agent work dir');
    const taskPid = Number(await waitFor('the task\'s pid in its stdout', () => mezz(['logs', 'survivor']).stdout.trim()));
    const masterPid = up.pidOf('master');
    process.kill(up.pidOf(name), 'SIGKILL');

    await waitFor(`"${name} exited (signal SIGKILL); restarting in 1s" (output: ${out()})`, () => out().includes(`${name} exited (signal SIGKILL); restarting in 1s`));
    await waitFor(`${name} to be back (output: ${out()})`, () => new RegExp(`${name} is back, pid \\d+`).test(out()));
    const agents = await waitFor('the agent ACTIVE again, with its task', () => {
      const r = mezz(['agents', '--json']);
      const list = r.status === 0 ? JSON.parse(r.stdout) as { id: string; state: string; tasks: number }[] : [];
      const a = list.find((x) => x.id === offer.agentId);
      return a?.state === 'ACTIVE' && a.tasks === 1 ? list : undefined;
    });
    assert.equal(agents.length, 2, 'the same two agents, no new id');
    const tasks = JSON.parse(mezz(['tasks', '--json']).stdout) as { id: string; state: string; agentId: string }[];
    assert.deepEqual(tasks.map((t) => [t.id, t.state, t.agentId]), [['survivor', 'TASK_RUNNING', offer.agentId]]);
    assert.ok(alive(taskPid), 'the task process never stopped');
    assert.deepEqual(fw.updates('survivor').map((s) => s.state).filter((s) => s !== 'TASK_STARTING' && s !== 'TASK_RUNNING'), [], 'no LOST or KILLED update');
    assert.ok(alive(masterPid), 'the master stayed up');

    // The master, asked for any free port, comes back on the one it had, with the same credentials.
    process.kill(masterPid, 'SIGKILL');
    const newMasterPid = Number((await waitFor(`the master to be back (output: ${out()})`, () => /master is back, pid (\d+)/.exec(out())))[1]);
    await waitFor('mezz status against the restarted master', () => mezz(['status']).status === 0);
    const wrong = mezz(['status'], { MEZZ_TOKEN: 'wrong-token-0123456789' });
    assert.match(wrong.stderr, /UNAUTHENTICATED/, 'authentication is still on');
    assert.deepEqual(MODES.map((f) => readFileSync(path.join(dataDir, f), 'utf8')), secrets, 'the credentials are the same');

    // Ctrl-C still stops everything, cleanly.
    process.kill(up.proc.child.pid!, 'SIGTERM');
    assert.equal(await up.proc.exited, 0, out());
    assert.equal(alive(newMasterPid), false, 'the master is gone');
  });
});
