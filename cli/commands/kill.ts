/** `mezz kill TASK` and `mezz teardown FRAMEWORK`: an operator stops a task, or a whole framework. */
import type { Command } from 'commander';
import { idProblem } from '../../lib/limits';
import { print, withMaster } from '../context';
import { UsageError } from '../errors';
import { killJson, killText, teardownJson, teardownText } from '../views';

/** The id itself, or a UsageError saying what is wrong with it before any call is made. */
function checkedId(what: string, id: string): string {
  const problem = idProblem(what, id);
  if (problem) throw new UsageError(problem);
  return id;
}

export function registerKill(program: Command): void {
  program
    .command('kill <task>')
    .description("kill a running task (ACL kill_task on its framework's principal)")
    .option('--framework <id>', 'the framework of the task, when two frameworks use the same task id')
    .action((taskText: string, opts: { framework?: string }, cmd: Command) => {
      const taskId = checkedId('task id', taskText);
      const frameworkId = opts.framework === undefined ? '' : checkedId('--framework', opts.framework);
      return withMaster(cmd, async (conn, g) => {
        const k = killJson(taskId, await conn.call('killTask', { taskId, frameworkId }));
        print(g, k, () => killText(k));
      });
    });

  program
    .command('teardown <framework>')
    .description("remove a framework and kill its tasks (ACL teardown_framework on its principal)")
    .action((frameworkText: string, _opts, cmd: Command) => {
      const frameworkId = checkedId('framework id', frameworkText);
      return withMaster(cmd, async (conn, g) => {
        const t = teardownJson(frameworkId, await conn.call('teardownFramework', { frameworkId }));
        print(g, t, () => teardownText(t));
      });
    });
}
