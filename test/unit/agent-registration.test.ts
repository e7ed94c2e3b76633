/** A registration on the wire: the agent's tasks in pages of TASKS_PER_PAGE, never one unbounded message. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { registrationMessages } from '../../agent/registration';
import { TASKS_PER_PAGE } from '../../lib/limits';
import type { AgentTask } from '../../lib/proto';

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
