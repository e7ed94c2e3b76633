/** `mezz frameworks`: every framework, its roles and what it uses. */
import type { Command } from 'commander';
import { print, withMaster } from '../context';
import { FRAMEWORK_HEADERS, frameworkJson, frameworkRow, tableOrNone } from '../views';

export function registerFrameworks(program: Command): void {
  program
    .command('frameworks')
    .description('list frameworks: roles, state, tasks, resources in use, failover timeout')
    .action((_opts, cmd: Command) => withMaster(cmd, async (conn, g) => {
      const { frameworks } = await conn.call('listFrameworks', {});
      print(g, frameworks.map(frameworkJson), () => tableOrNone(FRAMEWORK_HEADERS, frameworks.map(frameworkRow), 'frameworks subscribed'));
    }));
}
