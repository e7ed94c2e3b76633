/** A registration on the wire: the agent's tasks in pages of TASKS_PER_PAGE tasks and REGISTRATION_PAGE_BYTES, never one unbounded message. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { registrationMessages } from '../../agent/registration';
import { MAX_MASTER_MESSAGE_BYTES } from '../../lib/grpc';
import { TASKS_PER_PAGE } from '../../lib/limits';
import { mezzProto, type AgentTask } from '../../lib/proto';

const tasks = (n: number): AgentTask[] => Array.from({ length: n }, (_, i) => ({ frameworkId: 'fw', task: { taskId: `t${i}` } as never }));
const info = { id: 'agent-1', hostname: 'h' };

describe('registrationMessages', () => {
  const cases = [
    // pages = max(1, ceil(n / TASKS_PER_PAGE))
    { name: 'no tasks: one register', n: 0, want: [['register', 0, false]] },
    { name: 'one page exactly', n: TASKS_PER_PAGE, want: [['register', TASKS_PER_PAGE, false]] },
    { name: 'one more than a page', n: TASKS_PER_PAGE + 1, want: [['register', TASKS_PER_PAGE, true], ['registerTasks', 1, false]] },
    { name: '2.5 pages', n: 2.5 * TASKS_PER_PAGE,
      want: [['register', TASKS_PER_PAGE, true], ['registerTasks', TASKS_PER_PAGE, true], ['registerTasks', TASKS_PER_PAGE / 2, false]] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const msgs = registrationMessages(info, tasks(c.n), '');
      assert.deepEqual(msgs.map((m) => (m.register
        ? ['register', m.register.tasks!.length, m.register.moreTasks]
        : ['registerTasks', m.registerTasks!.tasks!.length, m.registerTasks!.more])), c.want);
      const all = msgs.flatMap((m) => (m.register?.tasks ?? m.registerTasks?.tasks)!).map((t) => t.task!.taskId);
      assert.deepEqual(all, tasks(c.n).map((t) => t.task!.taskId), 'every task once, in order');
    });
  }
});

describe('registration pages are bounded in bytes too', () => {
  const big = (i: number): AgentTask => ({ frameworkId: 'fw', task: { taskId: `b${i}`, command: { value: 'x'.repeat(60_000) } } as never });

  it('tasks of 60 KB in pages of 200 KB: 3 a page, every task once, in order', () => {
    const all = Array.from({ length: 7 }, (_, i) => big(i));
    const msgs = registrationMessages(info, all, '', TASKS_PER_PAGE, 200_000);
    // 3 × ~60 KB ≤ 200 KB < 4 × 60 KB: pages of 3, 3, 1
    assert.deepEqual(msgs.map((m) => (m.register?.tasks ?? m.registerTasks?.tasks)!.length), [3, 3, 1]);
    assert.deepEqual(msgs.flatMap((m) => (m.register?.tasks ?? m.registerTasks?.tasks)!).map((t) => t.task!.taskId), all.map((t) => t.task!.taskId));
  });

  it('a task larger than a page goes alone, never dropped', () => {
    const msgs = registrationMessages(info, [big(0), big(1)], '', TASKS_PER_PAGE, 1000);
    assert.deepEqual(msgs.map((m) => (m.register?.tasks ?? m.registerTasks?.tasks)!.length), [1, 1]);
  });

  it('a full page of tasks at the size limits stays under the master\'s cap', () => {
    // command 64 KB, environment 64 KB, 64 labels of 4 KB: about 400 KB a task, 80 MB for 200 of them in one page
    const huge = (i: number): AgentTask => ({
      frameworkId: 'fw',
      task: {
        taskId: `h${i}`, labels: Object.fromEntries(Array.from({ length: 64 }, (_, k) => [`k${k}`, 'v'.repeat(4096)])),
        command: { value: 'x'.repeat(64 * 1024), environment: { E: 'e'.repeat(64 * 1024 - 1) } },
      } as never,
    });
    const msgs = registrationMessages(info, Array.from({ length: TASKS_PER_PAGE }, (_, i) => huge(i)), '');
    const serialize = mezzProto().AgentGateway.service.Connect.requestSerialize;
    for (const m of msgs) assert.ok(serialize(m).length <= MAX_MASTER_MESSAGE_BYTES / 4 + 64 * 1024, `a page of ${serialize(m).length} bytes`);
    assert.ok(msgs.length > 1);
  });
});
