/** `mezz status`: the cluster at a glance, and the master group when there is one. */
import type { Command } from 'commander';
import { print, withMaster } from '../context';
import { statusText } from '../views';
import { masterGroup, masterTable } from './leader';

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description('show the cluster at a glance: masters, agents, frameworks, tasks, resources')
    .action((_opts, cmd: Command) => withMaster(cmd, async (conn, g) => {
      const state = await conn.call('getState', {});
      // With several masters (HA), show how each one answers.
      const group = state.masters.length > 1 || g.masters.length > 1 ? await masterGroup(conn, [...g.masters, ...state.masters]) : undefined;
      print(g, group ? { ...state, group: group.masters } : state, () =>
        statusText(state, Date.now() / 1000) + (group ? `\n\n${masterTable(group.masters)}` : ''));
    }));
}
