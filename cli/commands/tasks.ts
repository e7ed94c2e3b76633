/** `mezz tasks`: tasks, filtered by framework, state or agent. */
import type { Command } from 'commander';
import type { TaskSummary__Output } from '../../lib/proto';
import type { OperatorConnection } from '../client';
import { print, withMaster } from '../context';
import { CliError } from '../errors';
import { TASK_HEADERS, filterTasks, normalizeTaskState, tableOrNone, taskJson, taskRow, type TaskFilter } from '../views';

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
      const shown = filterTasks(await listAllTasks(conn, filter), filter);
      print(g, shown.map(taskJson), () => tableOrNone(TASK_HEADERS, shown.map(taskRow), 'tasks'));
    }));
}

/**
 * Every task the master lists under `filter`, page after page (ListTasks
 * returns at most 1000 a call). Each page resumes after the last task of the
 * one before, so the pages end; a master that hands back the token it was
 * given is a CliError rather than a loop.
 */
export async function listAllTasks(conn: OperatorConnection, filter: TaskFilter = {}): Promise<TaskSummary__Output[]> {
  const tasks: TaskSummary__Output[] = [];
  let pageToken = '';
  for (;;) {
    const page = await conn.call('listTasks', {
      frameworkId: filter.frameworkId ?? '', state: filter.state ?? '', agentId: filter.agentId ?? '', pageToken,
    });
    tasks.push(...page.tasks);
    if (!page.nextPageToken) return tasks;
    if (page.nextPageToken === pageToken) throw new CliError('the master returned the same page of tasks twice; is it a different version from this CLI?');
    pageToken = page.nextPageToken;
  }
}
