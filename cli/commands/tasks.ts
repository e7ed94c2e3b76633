/** `mezz tasks`: tasks, filtered by framework, state or agent. */
import type { Command } from 'commander';
import { print, withMaster } from '../context';
import { TASK_HEADERS, filterTasks, normalizeTaskState, tableOrNone, taskJson, taskRow } from '../views';

interface TasksOptions {
  framework?: string;
  state?: string;
  agent?: string;
}

export function registerTasks(program: Command): void {
  program
    .command('tasks')
    .description('list tasks')
    .option('--framework <id>', 'only tasks of this framework')
    .option('--state <state>', 'only tasks in this state, e.g. running or TASK_FAILED')
    .option('--agent <id>', 'only tasks on this agent')
    .action((opts: TasksOptions, cmd: Command) => withMaster(cmd, async (conn, g) => {
      // Checked before any call, so a typo fails fast with the valid names.
      const filter = { frameworkId: opts.framework, state: opts.state ? normalizeTaskState(opts.state) : undefined, agentId: opts.agent };
      const { tasks } = await conn.call('listTasks', { frameworkId: filter.frameworkId ?? '', state: filter.state ?? '', agentId: filter.agentId ?? '' });
      const shown = filterTasks(tasks, filter);
      print(g, shown.map(taskJson), () => tableOrNone(TASK_HEADERS, shown.map(taskRow), 'tasks'));
    }));
}
