/**
 * `mezz up` as a process: everything it starts listens on 127.0.0.1 only,
 * authentication is on with credentials it writes (mode 0600) and that
 * clients run beside its data dir find by themselves, and an agent killed
 * with SIGKILL is restarted (with a line saying so) while the rest of the
 * cluster stays up; the agent returns with the same id and recovers the
 * task it was running, which never stopped. A restarted master comes back
 * on its port, with authentication still on. The shipped frameworks come
 * up beside them: the admin token deploys an app on the services API,
 * `mezz app list` finds it through the master with no flag, a killed
 * mezz-services comes back on its URL with its app; the same token lists
 * mezz-batch's jobs; Ctrl-C leaves no process behind. A framework's port in
 * use is refused in one line, naming its flag, before anything starts.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { readTokenFile } from '../../lib/auth';
import { alive, Cluster, pidsUnder, ROOT, task, waitFor } from '../harness';
import { cleanEnv, listeningSockets, MEZZ, mezzIn, mezzUp, processTree, TSX } from '../fixtures/mezz-up';

const MODES = ['credentials.json', 'acls.json', 'agent-credentials.json', 'token', 'services-token', 'batch-token', 'functions-token'];

describe('mezz up keeps the cluster up, on loopback, with authentication on', () => {
  const c = new Cluster();
  after(() => c.teardown());

  test('binds 127.0.0.1, writes its credentials 0600, and clients beside its data dir find the token', async () => {
    const dir = path.join(c.dir, 'here');
    const up = await mezzUp(c, dir);
    const env = { MEZZ_MASTER: up.master };

    // Every listening socket of its whole process tree (itself, masters, agents, tasks) is on loopback.
    const sockets = listeningSockets(processTree(up.proc.child.pid!));
    for (const name of ['master', 'agent-1', 'agent-2', 'services', 'batch', 'functions']) assert.ok(sockets.some((s) => s.pid === up.pidOf(name)), `${name} listens`);
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
    const frameworkTokens = ['services-token', 'batch-token', 'functions-token'].map((f) => readTokenFile(path.join(up.dataDir, f)));
    for (const log of ['master', 'agent-1', 'agent-2', 'services', 'batch', 'functions']) {
      const text = readFileSync(path.join(up.dataDir, 'logs', `${log}.log`), 'utf8');
      assert.equal([token, ...frameworkTokens].some((t) => text.includes(t)), false, `${log}.log never holds a token`);
    }
  });

  test('restarts a killed agent, which recovers its running task, and a killed master, which comes back with authentication on', async () => {
    const dir = path.join(c.dir, 'restarts');
    const up = await mezzUp(c, dir, { frameworks: false });
    assert.deepEqual([up.services, up.batch, up.functions], [undefined, undefined, undefined], `--no-frameworks starts no framework:\n${up.proc.output()}`);
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

  test('starts the shipped frameworks: the admin token deploys on the services API and lists batch jobs, mezz app list finds services with no flag, a killed mezz-services comes back, Ctrl-C leaves nothing behind', { timeout: 300_000 }, async () => {
    const dir = path.join(c.dir, 'frameworks');
    const up = await mezzUp(c, dir, { agents: 1 });
    const out = () => up.proc.output();
    const url = up.services;
    assert.match(url ?? '', /^http:\/\/127\.0\.0\.1:\d+$/, `the banner names the services API:\n${out()}`);
    assert.equal((await fetch(`${url}/health`)).status, 200, 'the banner comes once /health answers');
    const env = { MEZZ_MASTER: up.master };
    const token = readTokenFile(path.join(up.dataDir, 'token'));

    // mezz-batch beside it, its Metronome API open to the admin token (503 until it leads and has loaded its jobs).
    assert.equal((await fetch(`${up.batch}/health`)).status, 200, `the banner names mezz-batch once /health answers:\n${out()}`);
    const jobs = await waitFor('GET /v1/jobs answered', async () => {
      const r = await fetch(`${up.batch}/v1/jobs`, { headers: { authorization: `Bearer ${token}` } });
      return r.status === 503 ? undefined : { status: r.status, body: await r.text() };
    }, 60_000, 250);
    assert.deepEqual(jobs, { status: 200, body: '[]' }, 'the admin token lists the (no) jobs');

    // mezz-functions too: OpenWhisk's API, the admin token listing the (no) actions.
    const actions = await waitFor('GET /api/v1/namespaces/_/actions answered', async () => {
      const r = await fetch(`${up.functions}/api/v1/namespaces/_/actions`, { headers: { authorization: `Bearer ${token}` } });
      return r.status === 503 ? undefined : { status: r.status, body: await r.text() };
    }, 60_000, 250);
    assert.deepEqual(actions, { status: 200, body: '[]' }, `the admin token lists the (no) actions:\n${out()}`);

    // Registered with its own principal, its API named by its webui_url.
    const fw = await waitFor('services registered with the master', () => {
      const list = JSON.parse(mezzIn(dir, ['frameworks', '--json'], env).stdout || '[]') as { name: string; principal: string; webuiUrl: string; state: string }[];
      return list.find((f) => f.name === 'services' && f.state === 'ACTIVE');
    }, 60_000, 250);
    assert.deepEqual([fw.principal, fw.webuiUrl], ['services', url]);

    // curl -X POST -H "Authorization: Bearer $(cat .mezz/token)" -d @examples/services/basic-0.json $URL/v2/apps
    const post = (auth?: string) => fetch(`${url}/v2/apps`, {
      method: 'POST', body: readFileSync(path.join(ROOT, 'examples/services/basic-0.json')),
      headers: { 'content-type': 'application/json', ...(auth ? { authorization: `Bearer ${auth}` } : {}) },
    });
    assert.equal((await post()).status, 401, 'no token: refused');
    assert.equal((await post(readTokenFile(path.join(up.dataDir, 'services-token')))).status, 403, "the framework's own principal has no right on its API");
    // 503 until the instance leads and is subscribed, a moment after the master lists it.
    const created = await waitFor('POST /v2/apps answered', async () => { const r = await post(token); return r.status === 503 ? undefined : r; });
    assert.equal(created.status, 201, await created.text());

    const appList = () => mezzIn(dir, ['app', 'list'], env);
    await waitFor('mezz app list (no flag but the master) to show /basic-0 running', () => /^\/basic-0\s+1\/1\s/m.test(appList().stdout), 60_000, 500);
    const basic = () => (JSON.parse(mezzIn(dir, ['tasks', '--json'], env).stdout) as { id: string; state: string }[]).filter((t) => t.id.startsWith('basic-0.'));
    const [running] = basic();
    assert.equal(running?.state, 'TASK_RUNNING');

    // A crash is reported and restarted like an agent's; it comes back on its URL with its app, launching nothing again.
    process.kill(up.pidOf('services'), 'SIGKILL');
    await waitFor(`"services exited (signal SIGKILL); restarting in 1s" (output: ${out()})`, () => out().includes('services exited (signal SIGKILL); restarting in 1s'));
    await waitFor(`services to be back (output: ${out()})`, () => /services is back, pid \d+/.test(out()));
    await waitFor('/basic-0 listed again through the same URL', () => /^\/basic-0\s+1\/1\s/m.test(appList().stdout), 60_000, 500);
    assert.deepEqual(basic().map((t) => [t.id, t.state]), [[running!.id, 'TASK_RUNNING']], 'the same task, not a second');

    const rm = mezzIn(dir, ['app', 'rm', '/basic-0'], env);
    assert.equal(rm.status, 0, rm.stderr);
    await waitFor('the app\'s task killed', () => basic().every((t) => t.state === 'TASK_KILLED'), 60_000, 250);

    // Ctrl-C in a terminal signals mezz up's process group; every group it started must end too.
    const tree = processTree(up.proc.child.pid!);
    assert.ok(tree.length >= 6, `mezz up, its master, agent, services, batch and functions: ${tree.join(' ')}`);
    process.kill(-up.proc.child.pid!, 'SIGINT');
    assert.equal(await up.proc.exited, 0, out());
    assert.deepEqual(tree.filter(alive), [], 'every process of its tree is gone');
    for (const pid of tree) assert.throws(() => process.kill(-pid, 0), { code: 'ESRCH' }, `process group ${pid} is empty`);
    assert.deepEqual(pidsUnder(dir), [], 'nothing runs in its directory: no orphan, no task');
  });

  for (const name of ['services', 'batch', 'functions']) {
    test(`a ${name} port in use is refused in one line naming it and the flags, before anything starts`, async () => {
      const holder = net.createServer();
      await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
      try {
        const port = (holder.address() as net.AddressInfo).port;
        const dataDir = path.join(c.dir, `taken-${name}`, '.mezz');
        // The other framework on any free port: its default may be taken on a shared machine.
        const ports = { '--services-port': '0', '--batch-port': '0', '--functions-port': '0', [`--${name}-port`]: String(port) };
        const r = spawnSync(process.execPath, [MEZZ, 'up', '--port', '0', ...Object.entries(ports).flat(), '--data-dir', dataDir],
          { encoding: 'utf8', timeout: 60_000, env: cleanEnv() });
        assert.equal(r.status, 1, r.stdout + r.stderr);
        assert.equal(r.stderr, `mezz: port ${port} on 127.0.0.1 (the ${name} API) is in use; choose another with --${name}-port N (0: any free port), or start no framework with --no-frameworks\n`);
        assert.equal(existsSync(dataDir), false, 'nothing was started or written');
      } finally {
        holder.close();
      }
    });
  }
});
