/**
 * The batch scheduler leading over an in-memory store and a fake framework:
 * offers from fake agents go in, launches come out, the test reports the
 * tasks' ends. Checks what the store holds at each step, since that is what a
 * next leader starts from. (The real processes are in test/integration/batch*.)
 */
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { describe, test } from 'node:test';
import type { LeaderContext } from '../../frameworks/foundation';
import { parseJob } from '../../frameworks/batch/job-spec';
import { BatchScheduler } from '../../frameworks/batch/scheduler';
import type { StoredRun } from '../../frameworks/batch/run-store';
import { toProto, make } from '../../lib/resources';
import type { TaskInfo } from '../../lib/proto';
import { memoryState } from './memory-state';

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

class FakeFramework extends EventEmitter {
  launched: TaskInfo[] = [];
  declined: string[] = [];
  killed: string[] = [];
  acked: string[] = [];
  private seq = 0;
  launch(_offers: string[], tasks: TaskInfo[]) { this.launched.push(...tasks); return true; }
  decline(ids: string[]) { this.declined.push(...ids); }
  kill(taskId: string) { this.killed.push(taskId); }
  acknowledge(a: { uuid: string }) { this.acked.push(a.uuid); }
  revive() {}
  suppress() {}
  async reconcileTasks() { return { statuses: new Map() }; }
  /** One offer per agent, `cpus` each. */
  offer(agents: number, cpus = 1) {
    const offers = Array.from({ length: agents }, (_, i) => ({
      id: `o${++this.seq}`, agentId: `a${i}`, hostname: `h${i}`, allocationRole: '*', attributes: [],
      resources: toProto(make({ cpus, mem: 1024 })),
    }));
    this.emit('offers', offers);
  }
  report(taskId: string, state: string, exitCode?: number) {
    this.emit('update', { taskId, state, agentId: 'a0', uuid: `u-${taskId}-${state}`, message: '', ...(exitCode !== undefined ? { exitCode } : {}) });
  }
}

async function until(what: string, f: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!f()) {
    assert.ok(Date.now() < deadline, `timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function job(body: Record<string, unknown>) {
  const r = parseJob({ run: { cmd: 'true', cpus: 1, mem: 32 }, ...body });
  assert.ok(r.job, JSON.stringify(r.errors));
  return r.job;
}

async function leading(kv = new Map<string, unknown>(), opts: { now?: () => number; gangTimeoutMs?: number } = {}) {
  const framework = new FakeFramework();
  const scheduler = new BatchScheduler({ log: quiet as never, retryDelayMs: 1, ...opts });
  const abort = new AbortController();
  await scheduler.lead({ framework, state: memoryState(kv), failover: true, signal: abort.signal } as unknown as LeaderContext);
  return { framework, scheduler, kv, stop: () => abort.abort() };
}

const env = (t: TaskInfo) => t.command?.environment ?? {};
const storedRuns = (kv: Map<string, unknown>) => [...kv].filter(([k]) => k.startsWith('runs/')).map(([, v]) => v as StoredRun);

describe('batch scheduler', () => {
  test('an Indexed job of completions 6, parallelism 3 runs each index once to success; the store holds the run before any launch', async () => {
    const { framework, scheduler, kv, stop } = await leading();
    try {
      await scheduler.putJob(job({ id: 'idx', completions: 6, parallelism: 3, completionMode: 'Indexed' }), 'create');
      const run = await scheduler.startRun('idx');
      assert.equal(storedRuns(kv).find((r) => r.id === run.id)?.state, 'INITIAL', 'stored before anything launches');
      framework.offer(6);
      await until('3 launches', () => framework.launched.length === 3);
      assert.deepEqual(framework.launched.map((t) => env(t).MEZZ_JOB_INDEX).sort(), ['0', '1', '2']);
      for (const t of framework.launched) assert.ok(kv.has(`tasks/${t.taskId}`), `${t.taskId} stored`);
      for (const t of framework.launched.slice(0, 3)) framework.report(t.taskId!, 'TASK_FINISHED', 0);
      framework.offer(6);
      await until('3 more launches', () => framework.launched.length === 6);
      for (const t of framework.launched.slice(3)) framework.report(t.taskId!, 'TASK_FINISHED', 0);
      await until('SUCCESS', () => scheduler.run('idx', run.id)?.state === 'SUCCESS');
      assert.deepEqual(framework.launched.map((t) => env(t).MEZZ_JOB_INDEX).sort(), ['0', '1', '2', '3', '4', '5']);
      await until('the run archived with its tasks', () => (scheduler.run('idx', run.id)?.tasks?.length ?? 0) === 6);
      assert.ok(![...kv.keys()].some((k) => k.startsWith('tasks/')), 'task records leave the store with the run archived');
      assert.ok(framework.acked.length >= 6, 'each update acknowledged once stored');
    } finally {
      stop();
    }
  });

  test('a failing task is retried up to backoffLimit, then the run FAILED with that reason and the exit codes kept', async () => {
    const { framework, scheduler, stop } = await leading();
    try {
      await scheduler.putJob(job({ id: 'flaky', backoffLimit: 2, run: { cmd: 'false', cpus: 1, mem: 32, restart: { policy: 'ON_FAILURE' } } }), 'create');
      const run = await scheduler.startRun('flaky');
      for (let attempt = 1; attempt <= 3; attempt++) {
        await until(`attempt ${attempt}`, () => { framework.offer(1); return framework.launched.length === attempt; });
        framework.report(framework.launched[attempt - 1]!.taskId!, 'TASK_FAILED', 1);
      }
      await until('FAILED', () => scheduler.run('flaky', run.id)?.state === 'FAILED');
      assert.equal(scheduler.run('flaky', run.id)?.reason, 'backoff limit reached');
      await until('archived', () => scheduler.run('flaky', run.id)?.tasks !== undefined);
      assert.deepEqual(scheduler.run('flaky', run.id)!.tasks!.map((t) => [t.attempt, t.exitCode]), [[1, 1], [2, 1], [3, 1]]);
    } finally {
      stop();
    }
  });

  test('restart policy NEVER (Metronome\'s default): the first failure fails the run', async () => {
    const { framework, scheduler, stop } = await leading();
    try {
      await scheduler.putJob(job({ id: 'once' }), 'create');
      const run = await scheduler.startRun('once');
      await until('a launch', () => { framework.offer(1); return framework.launched.length === 1; });
      framework.report(framework.launched[0]!.taskId!, 'TASK_FAILED', 3);
      await until('FAILED', () => scheduler.run('once', run.id)?.state === 'FAILED');
      assert.equal(scheduler.run('once', run.id)?.reason, 'task failed');
    } finally {
      stop();
    }
  });

  test('a DAG A → {B, C} → D: children are stored with the parent\'s success, and D does not run when C fails', async () => {
    const { framework, scheduler, kv, stop } = await leading();
    try {
      await scheduler.putJob(job({ id: 'a' }), 'create');
      await scheduler.putJob(job({ id: 'b', dependencies: [{ id: 'a' }] }), 'create');
      await scheduler.putJob(job({ id: 'c', dependencies: [{ id: 'a' }] }), 'create');
      await scheduler.putJob(job({ id: 'd', dependencies: [{ id: 'b' }, { id: 'c' }] }), 'create');
      const cycle = await scheduler.putJob(job({ id: 'a', dependencies: [{ id: 'd' }] }), 'replace');
      assert.match(cycle.errors?.[0]?.errors[0] ?? '', /cycle: a → d → (b|c) → a/);
      await scheduler.startRun('a');
      await until('a launched', () => { framework.offer(2); return framework.launched.length === 1; });
      framework.report(framework.launched[0]!.taskId!, 'TASK_FINISHED', 0);
      await until('b and c runs', () => scheduler.activeRuns('b').length === 1 && scheduler.activeRuns('c').length === 1);
      const a = storedRuns(kv).find((r) => r.jobId === 'a')!;
      assert.equal(a.state, 'SUCCESS');
      assert.deepEqual(storedRuns(kv).filter((r) => r.trigger === 'dependency').map((r) => [r.jobId, r.parents]).sort(), [['b', [a.id]], ['c', [a.id]]]);
      await until('b and c launched', () => { framework.offer(2); return framework.launched.length === 3; });
      const byJob = (id: string) => framework.launched.find((t) => env(t).MEZZ_JOB_ID === id)!.taskId!;
      framework.report(byJob('b'), 'TASK_FINISHED', 0);
      framework.report(byJob('c'), 'TASK_FAILED', 1);
      await until('c FAILED', () => scheduler.finishedRuns('c').length === 1);
      assert.equal(scheduler.activeRuns('d').length + scheduler.finishedRuns('d').length, 0, 'd does not run: c failed');
      assert.deepEqual(scheduler.dependencyStatus('d'), { due: false, why: 'waiting for c to succeed yet' });
      // c run again and succeeding makes d due.
      await scheduler.startRun('c');
      await until('c again', () => { framework.offer(2); return framework.launched.length === 4; });
      framework.report(framework.launched[3]!.taskId!, 'TASK_FINISHED', 0);
      await until('d runs', () => scheduler.activeRuns('d').length === 1);
    } finally {
      stop();
    }
  });

  test('a gang of 4 on room for 3 never starts a partial gang; at the timeout the offers go back and the run backs off, then fails', async () => {
    let now = 1_000_000;
    const { framework, scheduler, stop } = await leading(undefined, { now: () => now, gangTimeoutMs: 10_000 });
    try {
      await scheduler.putJob(job({ id: 'gang', completions: 4, parallelism: 4, gang: true, backoffLimit: 1, run: { cmd: 'true', cpus: 1, mem: 32, restart: { policy: 'ON_FAILURE' } } }), 'create');
      const run = await scheduler.startRun('gang');
      framework.offer(3);
      await until('the gang holding', () => scheduler.run('gang', run.id)?.gang?.holdingSince !== undefined);
      const q = scheduler.queue();
      assert.equal(q.length, 1);
      assert.ok(q[0]!.waiting.every((w) => Object.keys(w.reasons).some((k) => /^gang: 3 of 4 placeable/.test(k))), JSON.stringify(q[0]!.waiting));
      assert.equal(framework.declined.length, 0, 'offers are held while the gang waits');
      now += 10_000;
      framework.offer(0);
      await until('the first timeout', () => scheduler.run('gang', run.id)?.gang?.timeouts === 1);
      await until('the held offers given back', () => framework.declined.length >= 3);
      now += 400_000;
      framework.offer(3);
      await until('holding again', () => scheduler.run('gang', run.id)?.gang?.holdingSince !== undefined);
      now += 10_000;
      framework.offer(0);
      await until('FAILED', () => scheduler.run('gang', run.id)?.state === 'FAILED');
      assert.equal(scheduler.run('gang', run.id)?.reason, 'gang timeout');
      assert.equal(framework.launched.length, 0, 'no task of a partial gang ever launched');
    } finally {
      stop();
    }
  });

  test('each second\'s tick (real clock) makes one run stored with its cursor; FORBID skips, REPLACE replaces, ALLOW overlaps', async () => {
    const { scheduler, kv, stop } = await leading();
    try {
      for (const policy of ['ALLOW', 'FORBID', 'REPLACE']) {
        const schedules = [{ id: 'every-second', cron: '* * * * * *', timezone: 'Europe/Berlin', concurrencyPolicy: policy }];
        await scheduler.putJob(job({ id: policy.toLowerCase(), schedules }), 'create');
      }
      // Nothing is offered: every run stays active, so the policies decide.
      await until('3 ticks of ALLOW', () => scheduler.activeRuns('allow').length >= 3, 10_000);
      await until('REPLACE to have replaced twice', () => scheduler.finishedRuns('replace').length >= 2, 10_000);
      assert.equal(scheduler.activeRuns('forbid').length, 1, 'FORBID: no second run while one is active');
      assert.equal(scheduler.activeRuns('replace').length, 1);
      assert.ok(scheduler.finishedRuns('replace').every((r) => r.state === 'FAILED' && r.reason === 'replaced'));
      const allow = storedRuns(kv).filter((r) => r.jobId === 'allow');
      const ticks = allow.map((r) => r.tick!);
      assert.equal(new Set(ticks).size, ticks.length, 'one run per tick');
      for (const t of ticks) assert.equal(t % 1000, 0, 'a run belongs to a whole-second tick');
      assert.ok((kv.get('cursors/allow/every-second') as number) >= Math.max(...ticks), 'the cursor is stored with the run');
    } finally {
      stop();
    }
  });

  test('a new leader over the same store launches nothing twice, and a job with active runs is not deleted without stopCurrentJobRuns', async () => {
    const first = await leading();
    await first.scheduler.putJob(job({ id: 'long', completions: 2, parallelism: 2 }), 'create');
    const run = await first.scheduler.startRun('long');
    await until('2 launched', () => { first.framework.offer(2); return first.framework.launched.length === 2; });
    first.stop();
    const second = await leading(first.kv);
    try {
      second.framework.offer(2);
      await new Promise((r) => setTimeout(r, 50));
      await until('a round', () => second.scheduler.queue().length === 0);
      assert.equal(second.framework.launched.length, 0, 'the stored tasks count as running');
      await assert.rejects(second.scheduler.deleteJob('long', false), /has 1 active run\(s\).*stopCurrentJobRuns=true/);
      await second.scheduler.deleteJob('long', true);
      await until('its tasks killed', () => second.framework.killed.length === 2);
      for (const t of first.framework.launched) second.framework.report(t.taskId!, 'TASK_KILLED');
      await until('the stopped run gone with the job', () => second.scheduler.run('long', run.id) === undefined);
    } finally {
      second.stop();
    }
  });
});
