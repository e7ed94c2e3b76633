/**
 * The agent under bursts, kills and full disks, through real processes: a
 * master, agents started with flags, raw schedulers, marker files the tasks
 * write to prove nothing was killed or ran untracked, and /proc counts.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, statfsSync, statSync } from 'node:fs';
import path from 'node:path';
import { startSimulatedAgents, type SimulatedAgents } from '../../agent/simulated';
import { TASKS_PER_PAGE } from '../../lib/limits';
import type { ListAgentsResponse__Output } from '../../lib/proto/generated/mezzanine/v1/ListAgentsResponse';
import type { ListTasksResponse__Output } from '../../lib/proto/generated/mezzanine/v1/ListTasksResponse';
import type { Offer__Output, TaskStatus__Output } from '../../lib/proto';
import { Cluster, op, task, waitFor, type Proc, type TestScheduler } from '../harness';

const BIG = 'cpus:64;mem:65536;disk:65536;gpus:0;ports:[31000-31100]';
const TERMINAL = new Set(['TASK_FINISHED', 'TASK_FAILED', 'TASK_KILLED', 'TASK_LOST', 'TASK_ERROR', 'TASK_DROPPED', 'TASK_GONE']);

/** Accepts the first outstanding offer with `tasks`; resolves the offer used. */
async function launchOn(fw: TestScheduler, tasks: unknown[], refuseSeconds = 3600): Promise<Offer__Output> {
  const offer = await waitFor('an offer', () => fw.outstanding()[0], 30_000);
  fw.send({ accept: { offerIds: [offer.id], operations: [{ launch: { taskInfos: tasks as never } }], filters: { refuseSeconds } } });
  return offer;
}

function lastState(fw: TestScheduler, id: string): string | undefined {
  const u = fw.updates(id);
  return u[u.length - 1]?.state as string | undefined;
}

/**
 * The task's terminal state, if any update said one. Updates come at least
 * once: under a burst an agent may resend RUNNING (its acknowledgement still
 * on its way) after FINISHED went out, so the last update is not the state.
 */
function endState(fw: TestScheduler, id: string): string | undefined {
  return fw.updates(id).find((u) => TERMINAL.has(u.state as string))?.state as string | undefined;
}

/** The furthest state the task reached (ended, else running, else the last said), whatever order resends came in. */
function furthestState(fw: TestScheduler, id: string): string | undefined {
  return endState(fw, id) ?? (fw.updates(id).some((u) => u.state === 'TASK_RUNNING') ? 'TASK_RUNNING' : lastState(fw, id));
}

function fileSize(p: string): number {
  try {
    return statSync(p).size;
  } catch {
    return 0;
  }
}

describe('a launch burst does not block the agent', () => {
  const cluster = new Cluster();
  after(() => cluster.teardown());

  test('1000 tasks in one accept: another framework\'s service keeps running and the agent stays reachable', async () => {
    const BURST = 1000; // the master's cap per accept (MAX_TASKS_PER_ACCEPT)
    // A short ping timeout: a stall of the agent's event loop over 1 s (1000 tasks stalled it up to 2 s before launch slots) makes it unreachable and its tasks LOST.
    const master = await cluster.startMaster({ args: ['--agent-ping-timeout', '1', '--agent-ping-interval', '0.25'] });
    await cluster.startAgent(master.address, { resources: BIG, args: ['--ping-interval', '0.5'] });
    const marker = path.join(cluster.dir, 'service-marker');
    const a = cluster.scheduler(master.address);
    await a.subscribe({ name: 'service', failoverTimeout: 600 });
    a.autoAck();
    await launchOn(a, [task('service', `while :; do echo x >> ${marker}; sleep 0.1; done`, { cpus: 1, mem: 64 })]);
    await waitFor('the service RUNNING', () => lastState(a, 'service') === 'TASK_RUNNING');
    await waitFor('the service writing its marker', () => fileSize(marker) > 0);

    const b = cluster.scheduler(master.address);
    await b.subscribe({ name: 'burst', failoverTimeout: 600 });
    b.autoAck();
    const ids = Array.from({ length: BURST }, (_, i) => `t${i}`);
    await launchOn(b, ids.map((id) => task(id, 'true', { cpus: 0.01, mem: 1 })));
    const operator = cluster.operator(master.address);
    const started = Date.now();
    let lastSize = fileSize(marker);
    let lastGrowth = Date.now();
    let longestStillMs = 0;
    let failure = '';
    await waitFor(`all ${BURST} burst tasks to end`, async () => {
      const s = fileSize(marker);
      if (s > lastSize) {
        longestStillMs = Math.max(longestStillMs, Date.now() - lastGrowth);
        lastSize = s;
        lastGrowth = Date.now();
      }
      const bad = a.updates('service').find((u: TaskStatus__Output) => TERMINAL.has(u.state as string) || u.state === 'TASK_UNREACHABLE');
      if (bad) failure = `the service was reported ${bad.state}: ${bad.message}`;
      const agents = (await op<object, ListAgentsResponse__Output>(operator, 'listAgents', {})).agents;
      if (agents[0]?.state !== 'ACTIVE') failure ||= `the agent went ${agents[0]?.state} during the burst`;
      return failure || ids.every((id) => endState(b, id) !== undefined);
    }, 240_000, 200);
    assert.equal(failure, '');
    const finished = ids.filter((id) => endState(b, id) === 'TASK_FINISHED').length;
    console.log(`burst of ${BURST}: all ended after ${Date.now() - started} ms; ${finished} FINISHED; service marker still at most ${longestStillMs} ms`);
    assert.equal(finished, BURST);
    // The service still runs and writes: nothing killed it.
    const size = fileSize(marker);
    await waitFor('the service marker to keep growing', () => fileSize(marker) > size, 10_000);
    assert.equal(lastState(a, 'service'), 'TASK_RUNNING');
    assert.equal(readFileSync(marker, 'utf8').length, fileSize(marker));
  });
});

/** Live `sleep` processes (and, with `orWrappers`, task wrappers) working in a sandbox under `workDir`, by task id (the sandbox is `<task>-<8 hex>`). */
function sleepsUnder(workDir: string, orWrappers = false): Map<number, string> {
  const out = new Map<number, string>();
  const root = path.join(workDir, 'sandboxes') + '/';
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ours = stat.includes('(sleep)') || (orWrappers && readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes('mezz-task-wrapper'));
      if (!ours || stat.slice(stat.lastIndexOf(')') + 2)[0] === 'Z') continue;
      const cwd = readlinkSync(`/proc/${entry}/cwd`);
      if (cwd.startsWith(root)) out.set(Number(entry), path.basename(cwd).replace(/-[0-9a-f]{8}$/, ''));
    } catch {
      // Gone meanwhile.
    }
  }
  return out;
}

function isSleep(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').includes('(sleep)');
  } catch {
    return false;
  }
}

/** A process's group: a task's command runs in the group its wrapper leads. */
function groupOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
  } catch {
    return 0;
  }
}

describe('kill -9 of an agent during a launch burst', () => {
  const cluster = new Cluster();
  after(() => cluster.teardown());

  test('after a restart, every task process of the work dir is reported RUNNING or is gone', async () => {
    const COUNT = 40;
    // The ping timeout outlasts the restart: the tasks the agent adopts are not LOST meanwhile.
    const master = await cluster.startMaster({ args: ['--agent-ping-timeout', '30', '--agent-reregister-timeout', '60'] });
    const workDir = path.join(cluster.dir, 'agent-work');
    const args = ['--isolation', process.env.MEZZ_TEST_ISOLATION ?? 'none'];
    let agent: Proc = await cluster.startAgent(master.address, { name: 'agent', workDir, resources: BIG, args });
    const fw = cluster.scheduler(master.address);
    await fw.subscribe({ name: 'burst', failoverTimeout: 600 });
    fw.autoAck();
    // The race is a matter of milliseconds: a few rounds, each killing the agent as its first task processes appear.
    for (let round = 0; round < 4; round++) {
      const ids = Array.from({ length: COUNT }, (_, i) => `r${round}-s${i}`);
      await launchOn(fw, ids.map((id) => task(id, 'sleep 600', { cpus: 0.01, mem: 1 })), 0);
      // Mid-burst: even rounds as the first task processes appear (wrappers or commands), odd ones once 10 commands run.
      const mine = (wrappers: boolean) => [...sleepsUnder(workDir, wrappers).values()].filter((id) => id.startsWith(`r${round}-`)).length;
      await waitFor('the burst under way', () => (round % 2 === 0 ? mine(true) > 0 : mine(false) >= 10), 30_000, 2);
      await agent.kill9();
      const atKill = mine(false);
      // Restart once the orphans settle: each wrapper left has started its command, or is gone.
      await waitFor('every task wrapper left to run its command or end', () => {
        const procs = sleepsUnder(workDir, true);
        const parents = new Set([...procs.keys()].filter(isSleep).map(groupOf));
        return [...procs.keys()].every((pid) => isSleep(pid) || parents.has(pid));
      }, 10_000, 20);
      agent = await cluster.startAgent(master.address, { name: 'agent', workDir, resources: BIG, args });

      const latest = (id: string) => furthestState(fw, id) ?? 'TASK_STAGING';
      await waitFor('every task RUNNING or ended', () => ids.every((id) => latest(id) === 'TASK_RUNNING' || TERMINAL.has(latest(id))), 60_000, 100);
      // The restarted agent recovers before it registers: by now each process is adopted or killed (a SIGKILL takes moments).
      let untracked: string[] = [];
      await waitFor('every sleep to be a RUNNING task\'s', () => {
        untracked = [...sleepsUnder(workDir)].filter(([, id]) => id.startsWith(`r${round}-`)).filter(([, id]) => latest(id) !== 'TASK_RUNNING').map(([pid, id]) => `${id} (pid ${pid}, ${latest(id)})`);
        return untracked.length === 0;
      }, 5000, 100).catch((err: Error) => {
        throw new Error(`${err.message}; sleeps of tasks not RUNNING: ${untracked.join(', ')}; agent output:\n${agent.output().slice(-3000)}`);
      });
      const sleeps = new Map([...sleepsUnder(workDir)].filter(([, id]) => id.startsWith(`r${round}-`)));
      const running = ids.filter((id) => latest(id) === 'TASK_RUNNING');
      console.log(`round ${round}: kill -9 with ${atKill} sleep(s) started: ${running.length} RUNNING after the restart, ${sleeps.size} sleeps live`);
      // One sleep per RUNNING task: the framework's view and the processes agree both ways.
      assert.deepEqual([...sleeps.values()].sort(), [...running].sort());
    }
  });
});

/** A task asking for `diskMb` of disk (none when undefined). */
function diskTask(id: string, cmd: string, diskMb?: number) {
  const t = task(id, cmd, { cpus: 0.1, mem: 32 });
  return diskMb === undefined ? t : { ...t, resources: [...t.resources, { name: 'disk', scalar: diskMb }] };
}

describe('the disk resource', () => {
  const cluster = new Cluster();
  after(() => cluster.teardown());

  test('a task over its disk is FAILED with REASON_CONTAINER_LIMITATION_DISK; one without a disk resource is not limited', async () => {
    const master = await cluster.startMaster();
    await cluster.startAgent(master.address, { resources: BIG, args: ['--isolation', 'none', '--disk-check-interval', '200ms'] });
    const fw = cluster.scheduler(master.address);
    await fw.subscribe({ name: 'disk', failoverTimeout: 600 });
    fw.autoAck();
    const write = 'head -c 20000000 /dev/zero > big && sleep 600';
    await launchOn(fw, [diskTask('hog', write, 1), diskTask('free', write)]);
    const failed = await waitFor('hog FAILED', () => fw.updates('hog').find((u) => u.state === 'TASK_FAILED'), 30_000);
    assert.equal(failed.reason, 'REASON_CONTAINER_LIMITATION_DISK');
    assert.match(failed.message, /^task exceeded its disk limit of 1 MB: its sandbox holds (19|20)\.\d MB/);
    // The unlimited one wrote as much and still runs.
    await waitFor('free RUNNING', () => lastState(fw, 'free') === 'TASK_RUNNING');
    assert.equal(fw.updates('free').some((u) => TERMINAL.has(u.state as string)), false);
  });
});

describe('a full work dir', () => {
  const cluster = new Cluster();
  const mnt = path.join(cluster.dir, 'full');
  let mounted = false;
  after(async () => {
    await cluster.teardown().catch(() => undefined);
    if (mounted) execFileSync('umount', ['-l', mnt]);
  });

  test('launches fail naming ENOSPC, no command runs without its checkpoint, and a restarted agent starts and recovers', async (t) => {
    mkdirSync(mnt, { recursive: true });
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', mnt]);
      mounted = true;
    } catch (err) {
      t.skip(`cannot mount a tmpfs here (not root?): ${(err as Error).message}`);
      return;
    }
    const master = await cluster.startMaster({ args: ['--agent-ping-timeout', '30'] });
    const args = ['--isolation', 'none'];
    let agent = await cluster.startAgent(master.address, { name: 'agent', workDir: mnt, resources: BIG, args });
    const fw = cluster.scheduler(master.address);
    await fw.subscribe({ name: 'full', failoverTimeout: 600 });
    fw.autoAck();
    // The filler takes every free byte, then runs on.
    await launchOn(fw, [task('filler', 'cat /dev/zero > fill 2>/dev/null; sleep 600')], 0);
    await waitFor('filler RUNNING', () => lastState(fw, 'filler') === 'TASK_RUNNING');
    await waitFor('the disk full', () => statfsSync(mnt).bavail === 0, 10_000);

    await launchOn(fw, [task('late', `touch ${path.join(cluster.dir, 'late-ran')}; sleep 600`)], 0);
    const failed = await waitFor('late FAILED', () => fw.updates('late').find((u) => TERMINAL.has(u.state as string)), 30_000);
    assert.equal(failed.state, 'TASK_FAILED');
    assert.match(failed.message, /out of space \(ENOSPC\)/);
    assert.doesNotMatch(failed.message, /exit status 1/);
    assert.equal(existsSync(path.join(cluster.dir, 'late-ran')), false, 'the command never ran');

    // Killed and restarted with the disk still full: it starts, and the filler is still its task.
    await agent.kill9();
    agent = await cluster.startAgent(master.address, { name: 'agent', workDir: mnt, resources: BIG, args });
    await waitFor('the agent back', async () => (await op<object, ListAgentsResponse__Output>(cluster.operator(master.address), 'listAgents', {}))
      .agents.some((a) => a.state === 'ACTIVE' && a.tasks === 1), 30_000);
    assert.equal(lastState(fw, 'filler'), 'TASK_RUNNING');
    assert.match(agent.output(), /recovered \d+ task\(s\) from checkpoints: 1 still running/);
  });
});

describe('re-registration in pages', () => {
  const cluster = new Cluster();
  let sim: SimulatedAgents | undefined;
  after(async () => {
    await sim?.stop();
    await cluster.teardown();
  });

  test(`an agent with ${2 * TASKS_PER_PAGE + 50} tasks re-registers after a master restart with all of them known`, async () => {
    const COUNT = 2 * TASKS_PER_PAGE + 50; // three pages: 200 + 200 + 50
    const dataDir = path.join(cluster.dir, 'master-data');
    let master = await cluster.startMaster({ dataDir, args: ['--agent-reregister-timeout', '60'] });
    sim = await startSimulatedAgents({
      masters: [master.address], count: 1, taskDurationMs: 0, resources: { cpus: 1000, mem: 100_000 },
      pingIntervalMs: 500, statusRetryMs: 500, logger: { debug() {}, info() {}, warn() {}, error() {} } as never,
    });
    await sim.waitRegistered({ timeoutMs: 30_000 });
    const fw = cluster.scheduler(master.address);
    await fw.subscribe({ name: 'pages', failoverTimeout: 600 });
    fw.autoAck();
    const ids = Array.from({ length: COUNT }, (_, i) => `p${i}`);
    await launchOn(fw, ids.map((id) => task(id, 'sleep 3600', { cpus: 0.01, mem: 1 })));
    await waitFor(`all ${COUNT} RUNNING`, () => ids.every((id) => furthestState(fw, id) === 'TASK_RUNNING'), 60_000);

    await master.stop();
    await waitFor('the agent to notice', () => sim!.registered() === 0);
    master = await cluster.startMaster({ dataDir, port: master.port, args: ['--agent-reregister-timeout', '60'] });
    await sim.waitRegistered({ timeoutMs: 30_000 });
    const known = await waitFor(`${COUNT} tasks RUNNING at the new master`, async () => {
      const r = await op<object, ListTasksResponse__Output>(cluster.operator(master.address), 'listTasks', { state: 'TASK_RUNNING' });
      return r.tasks.length >= COUNT ? r.tasks : undefined;
    }, 30_000);
    assert.deepEqual(known.map((t) => t.id).sort(), [...ids].sort());
  });
});
