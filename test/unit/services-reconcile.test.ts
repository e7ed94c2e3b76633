/**
 * The leader asks the master for every live task's state each
 * --reconcile-interval, and applies the answers: a status update lost on the
 * way (here: the master says the task is gone while the scheduler still
 * believes it runs) is corrected without a failover.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { LeaderContext } from '../../frameworks/foundation';
import { ServicesScheduler } from '../../frameworks/services/scheduler';
import type { ServiceTask } from '../../frameworks/services/app-store';
import { memoryState } from './memory-state';

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

test('live tasks are reconciled with the master on the interval, and its answers applied', async () => {
  const record = {
    taskId: 'web.v1.0.1', group: '/web', version: 'v1', instance: 0, attempt: 1, state: 'TASK_RUNNING',
    launchedAt: 0, startedAt: 1, updatedAt: 1, agentId: 'a1', hostname: 'h1', ports: [],
  } as ServiceTask;
  const kv = new Map<string, unknown>([[`tasks/${record.taskId}`, record]]);
  const state = memoryState(kv);
  const asked: string[][] = [];
  let masterSays = 'TASK_RUNNING';
  const framework = {
    on() {}, revive() {}, suppress() {}, launch() {}, decline() {}, kill() {},
    reconcileTasks: async (tasks: { taskId: string }[]) => {
      asked.push(tasks.map((t) => t.taskId));
      return { statuses: new Map(tasks.map((t) => [t.taskId, { taskId: t.taskId, state: masterSays, healthy: null }])) };
    },
  };
  const scheduler = new ServicesScheduler({ log: quiet as never, newId: () => 'd1', reconcileIntervalMs: 30 });
  const lead = new AbortController();
  try {
    await scheduler.lead({ framework, state, failover: true, signal: lead.signal } as unknown as LeaderContext);
    const until = async (what: string, f: () => boolean) => {
      const deadline = Date.now() + 10_000;
      while (!f()) {
        assert.ok(Date.now() < deadline, `timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    };
    await until('a reconciliation after the one at takeover', () => asked.length >= 2);
    assert.deepEqual(asked[0], [record.taskId]);
    assert.equal(scheduler.tasks('/web').length, 1, 'the master says it runs: nothing changes');
    masterSays = 'TASK_LOST';
    await until('the lost task to be seen as ended', () => scheduler.tasks('/web').length === 0);
    const seen = asked.length;
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(asked.length, seen, 'with no live task left, the master is not asked');
  } finally {
    lead.abort();
  }
});
