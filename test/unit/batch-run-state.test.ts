/**
 * Job run states: INITIAL → STARTING → ACTIVE → SUCCESS, and FAILED with its
 * reason (deadline exceeded, backoff limit reached, task error; stopped and
 * replaced by the caller); a finished run never changes.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TaskRecord } from '../../frameworks/foundation';
import type { TaskState } from '../../frameworks/sdk';
import { endRun, nextRunState, type RunRecord } from '../../frameworks/batch/run-state';

const T0 = 1_000_000;
const run: RunRecord = { id: 'r1', jobId: 'nightly', createdAt: T0, state: 'INITIAL' };
let n = 0;
const task = (instance: number, state: TaskState, launchedAt = T0 + 100): TaskRecord =>
  ({ taskId: `t${++n}`, group: 'nightly.r1', version: 'r1', instance, attempt: 1, state, launchedAt, updatedAt: launchedAt });
const limits = { completions: 2, backoffLimit: 1 };

test('INITIAL until a launch, STARTING until a task runs, ACTIVE, then SUCCESS when every completion is done', () => {
  assert.equal(nextRunState(run, [], limits, T0).state, 'INITIAL');
  const starting = nextRunState(run, [task(0, 'TASK_STAGING')], limits, T0 + 200);
  assert.deepEqual([starting.state, starting.startedAt], ['STARTING', T0 + 100]);
  const active = nextRunState(starting, [task(0, 'TASK_RUNNING'), task(1, 'TASK_STAGING')], limits, T0 + 300);
  assert.equal(active.state, 'ACTIVE');
  assert.equal(nextRunState(active, [task(0, 'TASK_FINISHED'), task(1, 'TASK_STAGING')], limits, T0 + 400).state, 'ACTIVE', 'stays ACTIVE between tasks');
  const done = nextRunState(active, [task(0, 'TASK_FINISHED'), task(1, 'TASK_FINISHED')], limits, T0 + 500);
  assert.deepEqual([done.state, done.finishedAt, done.reason], ['SUCCESS', T0 + 500, undefined]);
  assert.equal(nextRunState(done, [], limits, T0 + 900), done, 'a finished run is final');
});

test('more failed attempts than backoffLimit, over all indexes, fail the run with that reason', () => {
  const one = nextRunState(run, [task(0, 'TASK_FAILED'), task(1, 'TASK_RUNNING')], limits, T0 + 200);
  assert.equal(one.state, 'ACTIVE', 'one failure is within a backoffLimit of 1');
  const two = nextRunState(one, [task(0, 'TASK_FAILED'), task(1, 'TASK_KILLED'), task(0, 'TASK_RUNNING')], limits, T0 + 300);
  assert.deepEqual([two.state, two.reason], ['FAILED', 'backoff limit reached']);
});

test('activeDeadlineSeconds from the first launch; a task error fails at once', () => {
  const timed = { ...limits, activeDeadlineSeconds: 60 };
  assert.equal(nextRunState(run, [task(0, 'TASK_RUNNING')], timed, T0 + 100 + 59_999).state, 'ACTIVE');
  assert.deepEqual(nextRunState(run, [task(0, 'TASK_RUNNING')], timed, T0 + 100 + 60_000).reason, 'deadline exceeded');
  assert.equal(nextRunState(run, [], timed, T0 + 10 * 60_000).state, 'INITIAL', 'the deadline runs from the start, not from the record');
  assert.deepEqual(nextRunState(run, [task(0, 'TASK_ERROR')], { ...limits, backoffLimit: 6 }, T0).reason, 'task error');
});

test('stopped and replaced are the caller\'s; a finished run stays as it ended', () => {
  const stopped = endRun({ ...run, state: 'ACTIVE' }, 'stopped', T0 + 5);
  assert.deepEqual([stopped.state, stopped.reason, stopped.finishedAt], ['FAILED', 'stopped', T0 + 5]);
  assert.equal(endRun(stopped, 'replaced', T0 + 9), stopped);
});
