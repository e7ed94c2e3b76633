/**
 * mezz-services' scheduling behaviour end to end, through the public /v2
 * API on a real master and three agents: h1 and h2 on rack r1, h3 on rack
 * r2. Placement constraints (GROUP_BY, MAX_PER, LIKE, UNLIKE), a crashing
 * command's growing launch delay and its reset through DELETE
 * /v2/queue/{id}/delay, an unreachable agent's task replaced as its app's
 * unreachableStrategy says (and, on the agent's return, the original kept
 * unless expunged), and the API answering while the master is dead. One
 * cluster for all; about 50 s.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Cluster, waitFor, type Proc } from '../harness';

interface TaskJson { id: string; host: string; state: string }
interface AppJson { id: string; instances: number; tasksRunning: number; tasks: TaskJson[] }
interface QueueEntry { app: { id: string }; count: number; delay: { timeLeftSeconds: number; overdue: boolean }; reasons: Record<string, number> }

const RACK: Record<string, string> = { h1: 'r1', h2: 'r1', h3: 'r2' };
/** Small tasks with no ports, so a dozen fit on any agent. */
const SMALL = { cpus: 0.05, mem: 16, portDefinitions: [] };

describe('mezz-services behaviour on a master and three agents over two racks', () => {
  const c = new Cluster();
  let master: Proc;
  const agents = new Map<string, Proc>();
  let base: string;

  /** Every call gives up after `timeoutMs`: a hang is a failure, not a stuck test. */
  const call = async (method: string, url: string, body?: unknown, timeoutMs = 5000) => {
    const r = await fetch(`${base}${url}`, {
      method,
      signal: AbortSignal.timeout(timeoutMs),
      ...(body !== undefined ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } } : {}),
    });
    const text = await r.text();
    return { status: r.status, body: text ? JSON.parse(text) : undefined };
  };
  const app = async (id: string) => (await call('GET', `/v2/apps${id}`)).body?.app as AppJson | undefined;
  const running = async (id: string) => ((await app(id))?.tasks ?? []).filter((t) => t.state === 'TASK_RUNNING');
  const queue = async () => (await call('GET', '/v2/queue')).body.queue as QueueEntry[];
  const create = async (spec: Record<string, unknown>) => {
    const r = await call('POST', '/v2/apps', { ...SMALL, ...spec });
    assert.equal(r.status, 201, JSON.stringify(r.body));
  };
  const remove = async (id: string) => {
    assert.equal((await call('DELETE', `/v2/apps${id}`)).status, 200);
    await waitFor(`${id} gone`, async () => (await call('GET', `/v2/apps${id}`)).status === 404, 20_000, 200);
  };
  const startMaster = (port = 0) => c.startMaster({ port, args: ['--agent-ping-timeout', '2'] });

  before(async () => {
    master = await startMaster();
    for (const [i, h] of Object.keys(RACK).entries()) {
      const ports = 31000 + i * 200;
      agents.set(h, await c.startAgent(master.address, {
        name: h,
        resources: `cpus:2;mem:1024;disk:1024;ports:[${ports}-${ports + 99}]`,
        args: ['--hostname', h, '--attributes', `rack:${RACK[h]}`],
      }));
    }
    const services = await c.spawn('services', 'mezz-services.mjs', [
      '--master', master.address, '--host', '127.0.0.1', '--port', '0', '--data-dir', path.join(c.dir, 'services'),
    ]);
    base = `http://${services.address}`;
    await waitFor('services to lead', async () => (await call('GET', '/v2/info')).body?.elected, 30_000, 200);
  });
  after(async () => {
    // A stopped agent gets SIGCONT first, so that its teardown is not left pending.
    for (const a of agents.values()) {
      try {
        process.kill(-a.child.pid!, 'SIGCONT');
      } catch {
        /* gone */
      }
    }
    await c.teardown();
  });

  test('GROUP_BY rack spreads evenly, MAX_PER caps a rack (the rest waits, the queue says why), LIKE and UNLIKE pin', async () => {
    await create({ id: '/spread', cmd: 'sleep 600', instances: 4, constraints: [['rack', 'GROUP_BY', '2']] });
    await create({ id: '/spread-any', cmd: 'sleep 600', instances: 4, constraints: [['rack', 'GROUP_BY']] });
    await create({ id: '/per-rack', cmd: 'sleep 600', instances: 3, constraints: [['rack', 'MAX_PER', '1']] });
    await create({ id: '/like', cmd: 'sleep 600', instances: 3, constraints: [['hostname', 'LIKE', 'h[12]']] });
    await create({ id: '/unlike', cmd: 'sleep 600', instances: 2, constraints: [['rack', 'UNLIKE', 'r1']] });

    const racks = async (id: string, n: number) => {
      const tasks = await waitFor(`${n} of ${id} running`, async () => {
        const r = await running(id);
        return r.length === n ? r : undefined;
      }, 60_000, 250);
      const out: Record<string, number> = {};
      for (const t of tasks) out[RACK[t.host]!] = (out[RACK[t.host]!] ?? 0) + 1;
      return { tasks, racks: out };
    };
    // With the number of racks given, rack r2's one agent takes as many as r1's two.
    assert.deepEqual((await racks('/spread', 4)).racks, { r1: 2, r2: 2 });
    // Without it, as Marathon: spread over the racks the framework has seen in its offers, here both.
    assert.deepEqual((await racks('/spread-any', 4)).racks, { r1: 2, r2: 2 });
    assert.deepEqual((await racks('/per-rack', 2)).racks, { r1: 1, r2: 1 });
    const waiting = await waitFor('the 3rd /per-rack instance in the queue', async () => (await queue()).find((e) => e.app.id === '/per-rack' && e.reasons['constraint rack:MAX_PER:1']), 20_000, 250);
    assert.equal(waiting.count, 1, JSON.stringify(waiting));
    for (const t of (await racks('/like', 3)).tasks) assert.match(t.host, /^h[12]$/);
    for (const t of (await racks('/unlike', 2)).tasks) assert.equal(t.host, 'h3');

    for (const id of ['/spread', '/spread-any', '/per-rack', '/like', '/unlike']) await remove(id);
  });

  test('a command that fails at once is relaunched after 1, 2, 4, 8, 8 s; the queue shows the delay; DELETE /v2/queue/{id}/delay relaunches at once', async () => {
    const marker = path.join(c.dir, 'crash-starts');
    /** Each attempt's start, in ms since the epoch, as the task itself wrote it. */
    const starts = () => (existsSync(marker) ? readFileSync(marker, 'utf8').trim().split('\n').map((l) => Number(l) / 1e6) : []);
    await create({ id: '/crash', cmd: `date +%s%N >> ${marker}; exit 1`, backoffSeconds: 1, backoffFactor: 2, maxLaunchDelaySeconds: 8 });

    const expected = [1, 2, 4, 8, 8];
    const times = await waitFor('6 attempts', () => (starts().length >= 6 ? starts() : undefined), 60_000, 100);
    const gaps = expected.map((_, i) => (times[i + 1]! - times[i]!) / 1000);
    const shown = `gaps ${gaps.map((g) => g.toFixed(2)).join(', ')} s`;
    process.stderr.write(`/crash: ${shown}\n`);
    // A launch waits for the next offer once its delay is over: declined offers come back after 1 s, at the
    // master's next allocation (0.5 s), so each gap is its delay plus up to about 1.5 s; 4 s on a loaded machine
    // still tells a capped 8 s from an uncapped 16 s.
    const lag = 1.5;
    expected.forEach((want, i) => {
      assert.ok(gaps[i]! >= 0.9 * want, `gap ${i + 1} is at least ${0.9 * want} s: ${shown}`);
      assert.ok(gaps[i]! <= want + 4, `gap ${i + 1} is at most ${want + 4} s: ${shown}`);
    });
    for (let i = 1; i < 4; i++) assert.ok(gaps[i]! > gaps[i - 1]! - lag, `the delay grows until its cap: ${shown}`);

    // The 7th attempt waits 8 s: the queue says so, and a reset of the delay launches it now.
    const entry = await waitFor('/crash delayed in the queue', async () => {
      const e = (await queue()).find((q) => q.app.id === '/crash');
      return e && starts().length === 6 && e.delay.timeLeftSeconds >= 5 ? e : undefined;
    }, 15_000, 100);
    assert.equal(entry.delay.overdue, false);
    assert.deepEqual(entry.reasons, { backoff: 1 });
    const resetAt = Date.now();
    const reset = await call('DELETE', '/v2/queue/crash/delay');
    assert.equal(reset.status, 204);
    const seventh = await waitFor('the 7th attempt', () => starts()[6], 15_000, 50);
    const after = (seventh - resetAt) / 1000;
    assert.ok(after < entry.delay.timeLeftSeconds - 2, `launched ${after.toFixed(2)} s after the reset, with ${entry.delay.timeLeftSeconds} s of delay left`);
    assert.equal((await call('DELETE', '/v2/queue/nope/delay')).status, 404);
    await remove('/crash');
  });

  test('an unreachable agent\'s task turns TASK_UNREACHABLE, is replaced elsewhere after inactiveAfterSeconds; when the agent returns, the replacement is killed and the original kept', async () => {
    await create({ id: '/partition', cmd: 'sleep 600', unreachableStrategy: { inactiveAfterSeconds: 1, expungeAfterSeconds: 30 } });
    const [original] = await waitFor('/partition running', async () => {
      const r = await running('/partition');
      return r.length === 1 ? r : undefined;
    }, 30_000, 200);
    const agent = agents.get(original!.host)!;
    process.kill(-agent.child.pid!, 'SIGSTOP');
    try {
      // The master stops hearing the agent (ping timeout 2 s): a partition-aware framework is told UNREACHABLE, not LOST.
      const seenAt = await waitFor('the task unreachable', async () => {
        const t = (await app('/partition'))?.tasks.find((x) => x.id === original!.id);
        assert.notEqual(t, undefined, `the task is still known: ${JSON.stringify(await app('/partition'))}`);
        return t!.state === 'TASK_UNREACHABLE' ? Date.now() : undefined;
      }, 20_000, 100);
      const replacement = await waitFor('a replacement running elsewhere', async () => (await running('/partition')).find((t) => t.id !== original!.id), 30_000, 100);
      assert.notEqual(replacement.host, original!.host);
      const staged = Date.parse(((await call('GET', '/v2/apps/partition/tasks')).body.tasks as { id: string; stagedAt: string }[]).find((t) => t.id === replacement.id)!.stagedAt);
      assert.ok(staged - seenAt >= 800, `the replacement was launched ${staged - seenAt} ms after the task was seen unreachable, not before inactiveAfterSeconds (1 s)`);
    } finally {
      process.kill(-agent.child.pid!, 'SIGCONT');
    }
    // The agent re-registers and reports the original running again: one of the two must go.
    const kept = await waitFor('one /partition task left', async () => {
      const tasks = (await app('/partition'))!.tasks;
      return tasks.length === 1 && tasks[0]!.state === 'TASK_RUNNING' ? tasks[0] : undefined;
    }, 30_000, 200);
    // The reconciler keeps the earlier attempt of two equally running ones, as Marathon's YOUNGEST_FIRST kill selection would.
    assert.equal(kept.id, original!.id);
    await remove('/partition');
  });

  test('a task unreachable longer than expungeAfterSeconds is expunged: when its agent returns, it is killed and the replacement kept', async () => {
    await create({ id: '/expunge', cmd: 'sleep 600', unreachableStrategy: { inactiveAfterSeconds: 0, expungeAfterSeconds: 1 } });
    const [original] = await waitFor('/expunge running', async () => {
      const r = await running('/expunge');
      return r.length === 1 ? r : undefined;
    }, 30_000, 200);
    const agent = agents.get(original!.host)!;
    process.kill(-agent.child.pid!, 'SIGSTOP');
    let replacement: TaskJson;
    try {
      await waitFor('the task unreachable', async () => (await app('/expunge'))?.tasks.some((t) => t.id === original!.id && t.state === 'TASK_UNREACHABLE'), 20_000, 100);
      const seenAt = Date.now();
      replacement = await waitFor('a replacement running elsewhere', async () => (await running('/expunge')).find((t) => t.id !== original!.id), 30_000, 100);
      await waitFor('expungeAfterSeconds over', () => Date.now() - seenAt > 1500, 5000, 100);
    } finally {
      process.kill(-agent.child.pid!, 'SIGCONT');
    }
    const kept = await waitFor('the returning task killed', async () => {
      const tasks = (await app('/expunge'))!.tasks;
      return tasks.length === 1 && tasks[0]!.state === 'TASK_RUNNING' ? tasks[0] : undefined;
    }, 30_000, 200);
    assert.equal(kept.id, replacement!.id);
    await remove('/expunge');
  });

  test('with the master killed (-9) the API answers at once, a new app is accepted and stored, and runs once the master is back on its port', async () => {
    await master.kill9();
    const t0 = Date.now();
    const list = await call('GET', '/v2/apps', undefined, 3000);
    assert.equal(list.status, 200);
    assert.ok(Date.now() - t0 < 3000);
    // Accepted: the deployment is stored in mezz-services' own state; launching waits for offers.
    const posted = await call('POST', '/v2/apps', { ...SMALL, id: '/orphan', cmd: 'sleep 600' }, 5000);
    assert.equal(posted.status, 201, JSON.stringify(posted.body));
    assert.equal((await app('/orphan'))?.tasksRunning, 0);
    const queued = await waitFor('/orphan waiting for offers', async () => (await queue()).find((e) => e.app.id === '/orphan'), 10_000, 200);
    assert.deepEqual(queued.reasons, { 'no offers': 1 });

    master = await startMaster(master.port);
    const t = await waitFor('/orphan running after the master is back', async () => (await running('/orphan'))[0], 60_000, 250);
    assert.ok(Object.keys(RACK).includes(t.host));
    await remove('/orphan');
  });
});
