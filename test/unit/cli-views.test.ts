import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { unreachableMessage } from '../../cli/client';
import { tidyDetails } from '../../lib/grpc';
import { UsageError } from '../../cli/errors';
import { duration, formatTable, megabytes, num, truncate } from '../../cli/table';
import {
  agentJson, agentRow, filterTasks, killJson, killText, normalizeTaskState, parseWeight, roleRow, statusText, taskJson, taskRow,
  teardownJson, teardownText,
} from '../../cli/views';
import type { AgentSummary__Output, ClusterState__Output, RoleSummary__Output, TaskSummary__Output } from '../../lib/proto';

const zero = { cpus: 0, mem: 0, disk: 0, gpus: 0 };

function task(p: Partial<TaskSummary__Output>): TaskSummary__Output {
  return {
    id: 't', name: '', frameworkId: 'fw-1', agentId: 'agent-1', state: 'TASK_RUNNING', resources: zero,
    message: '', updatedAt: 0, command: '', role: '*', ...p,
  };
}

describe('formatTable', () => {
  const cases = [
    {
      name: 'pads every column but the last to its widest cell',
      headers: ['ID', 'STATE', 'MESSAGE'],
      rows: [['a', 'RUNNING', ''], ['bbbb', 'FAILED', 'exit 2']],
      // widths: ID = 4 (bbbb), STATE = 7 (RUNNING); three spaces between columns
      want: 'ID     STATE     MESSAGE\na      RUNNING\nbbbb   FAILED    exit 2',
    },
    { name: 'headers only', headers: ['A', 'B'], rows: [], want: 'A   B' },
  ];
  for (const c of cases) it(c.name, () => assert.equal(formatTable(c.headers, c.rows), c.want));
});

describe('number formats', () => {
  const cases: [string, string, string][] = [
    [num(2), '2', 'integers stay whole'],
    [num(0.1 + 0.2), '0.3', 'float noise is rounded to two decimals'],
    [num(1 / 3), '0.33', 'two decimals at most'],
    [megabytes(512), '512MB', 'below 1024 MB'],
    [megabytes(1536), '1.5GB', '1536 / 1024 = 1.5'],
    [megabytes(2 * 1024 * 1024), '2TB', '2 · 1024² MB'],
    [duration(90), '1m30s', '90 = 60 + 30'],
    [duration(604800), '7d', 'a week'],
    [duration(93784), '1d2h', '86400 + 7200 + 184: two units at most'],
    [duration(0), '0s', 'zero'],
    [truncate('a  b\nc', 10), 'a b c', 'whitespace folded onto one line'],
    [truncate('abcdefghij', 5), 'abcd…', 'cut with an ellipsis'],
  ];
  for (const [got, want, why] of cases) it(`${why}: ${want}`, () => assert.equal(got, want));
});

describe('normalizeTaskState', () => {
  const cases: [string, string][] = [
    ['running', 'TASK_RUNNING'],
    ['RUNNING', 'TASK_RUNNING'],
    ['TASK_FAILED', 'TASK_FAILED'],
    ['task_killed', 'TASK_KILLED'],
    ['gone-by-operator', 'TASK_GONE_BY_OPERATOR'],
  ];
  for (const [input, want] of cases) it(`${input} → ${want}`, () => assert.equal(normalizeTaskState(input), want));

  it('rejects an unknown state, listing the valid ones', () => {
    assert.throws(() => normalizeTaskState('runing'), (e: unknown) =>
      e instanceof UsageError && e.exitCode === 2 && /"runing"/.test(e.message) && /running, finished/.test(e.message));
  });
});

describe('parseWeight', () => {
  it('accepts positive numbers', () => {
    assert.equal(parseWeight('2'), 2);
    assert.equal(parseWeight('0.5'), 0.5);
  });
  for (const bad of ['-1', '0', 'abc', '', 'Infinity', '1e999']) {
    it(`rejects "${bad}"`, () => assert.throws(() => parseWeight(bad), UsageError));
  }
});

describe('views', () => {
  const agent: AgentSummary__Output = {
    id: 'agent-1', hostname: 'h1', address: '127.0.0.1:4001', state: 'ACTIVE',
    resources: { cpus: 4, mem: 8192, disk: 10240, gpus: 1 }, used: { cpus: 1.5, mem: 512, disk: 0, gpus: 0 },
    offered: { cpus: 2.5, mem: 7680, disk: 10240, gpus: 1 }, attributes: [{ name: 'rack', text: 'r1' }],
    ports: '31000-32000', tasks: 3, isolation: ['posix/process-group', 'cgroups/cpu'], registeredAt: 1700000000,
  };

  it('agent row shows used/total', () => {
    // mem 512 MB of 8192 MB = 8 GB; disk 0 of 10240 MB = 10 GB
    assert.deepEqual(agentRow(agent), ['agent-1', 'h1', 'ACTIVE', '1.5/4', '512MB/8GB', '0MB/10GB', '0/1', '3', 'posix/process-group,cgroups/cpu']);
  });

  it('agent JSON flattens attributes into an object', () => {
    const j = agentJson(agent);
    assert.deepEqual(j.attributes, { rack: 'r1' });
    assert.deepEqual(j.resources, { cpus: 4, mem: 8192, disk: 10240, gpus: 1 });
    assert.equal(j.address, '127.0.0.1:4001');
  });

  it('task row and JSON: exit code 0 is shown, a missing one is a dash / null', () => {
    const done = task({ id: 't1', state: 'TASK_FINISHED', exitCode: 0, resources: { cpus: 0.1, mem: 32, disk: 0, gpus: 0 } });
    const running = task({ id: 't2', message: 'a very long message '.repeat(5) });
    assert.deepEqual(taskRow(done), ['t1', '-', 'fw-1', 'agent-1', 'FINISHED', '0', '0.1', '32MB', '-']);
    assert.equal(taskRow(running)[5], '-');
    assert.equal(taskRow(running)[8]!.length, 60);
    assert.equal(taskJson(done).exitCode, 0);
    assert.equal(taskJson(running).exitCode, null);
  });

  it('filterTasks applies every given filter', () => {
    const tasks = [task({ id: 'a', state: 'TASK_RUNNING' }), task({ id: 'b', state: 'TASK_FAILED' }), task({ id: 'c', agentId: 'agent-2' })];
    assert.deepEqual(filterTasks(tasks, { state: 'TASK_RUNNING' }).map((t) => t.id), ['a', 'c']);
    assert.deepEqual(filterTasks(tasks, { state: 'TASK_RUNNING', agentId: 'agent-2' }).map((t) => t.id), ['c']);
    assert.deepEqual(filterTasks(tasks, {}).map((t) => t.id), ['a', 'b', 'c']);
  });

  it('role row shows the share as a percentage and counts frameworks', () => {
    const r: RoleSummary__Output = { name: 'dev', weight: 2, share: 0.125, allocated: { cpus: 1, mem: 2048, disk: 0, gpus: 0 }, frameworks: ['fw-1', 'fw-2'] };
    assert.deepEqual(roleRow(r), ['dev', '2', '12.5%', '1', '2GB', '2']);
  });

  it('status text', () => {
    const s: ClusterState__Output = {
      masterId: 'm-1', version: '0.1.0', cluster: '', address: '127.0.0.1:5050', startedAt: 1000, leader: true, masters: [],
      agentsActive: 2, agentsUnreachable: 0, frameworksActive: 1, frameworksInactive: 0,
      tasksByState: { TASK_FINISHED: 10, TASK_RUNNING: 3, TASK_FAILED: 0 },
      total: { cpus: 8, mem: 16384, disk: 0, gpus: 0 }, used: { cpus: 1.5, mem: 512, disk: 0, gpus: 0 }, offered: zero,
    };
    // up: 1090 - 1000 = 90 s; tasks in proto order (RUNNING before FINISHED), zero counts left out
    assert.equal(statusText(s, 1090), [
      'master     m-1 at 127.0.0.1:5050 (leader), version 0.1.0, up 1m30s',
      'agents     2 active, 0 unreachable',
      'frameworks 1 active, 0 inactive',
      'tasks      3 running, 10 finished',
      'cpus       1.5/8 used, 0 offered',
      'mem        512MB/16GB used, 0MB offered',
      'disk       0MB/0MB used, 0MB offered',
      'gpus       0/0 used, 0 offered',
    ].join('\n'));
  });
});

describe('client messages', () => {
  it('tidies grpc-js connection details', () => {
    assert.equal(tidyDetails('No connection established. Last error: Error: connect ECONNREFUSED 127.0.0.1:1. Resolution note: '), 'connect ECONNREFUSED 127.0.0.1:1');
  });
  it('says what to do when no master answers', () => {
    assert.equal(unreachableMessage([{ address: 'a:1', reason: 'UNAVAILABLE: x' }]),
      "cannot reach the master at a:1 (UNAVAILABLE: x); is it running? start one with 'mezz up'");
    assert.match(unreachableMessage([{ address: 'a:1', reason: 'r1' }, { address: 'b:2', reason: 'r2' }]), /^cannot reach any master \(a:1: r1; b:2: r2\)/);
  });
});

describe('kill and teardown views', () => {
  it('mezz kill: the task, its framework and agent, and what happens next', () => {
    const k = killJson('web-1', { frameworkId: 'fw-1', agentId: 'agent-7' });
    assert.deepEqual(k, { taskId: 'web-1', frameworkId: 'fw-1', agentId: 'agent-7' });
    assert.equal(killText(k), 'TASK    FRAMEWORK   AGENT\nweb-1   fw-1        agent-7\n\nkill sent: the task ends TASK_KILLED once its agent has stopped it (mezz tasks --state killed)');
  });
  it('mezz teardown: the framework and how many tasks are being killed', () => {
    const t = teardownJson('fw-1', { tasks: 3 });
    assert.deepEqual(t, { frameworkId: 'fw-1', tasksKilled: 3 });
    assert.equal(teardownText(t), 'FRAMEWORK   TASKS KILLED\nfw-1        3');
  });
});
