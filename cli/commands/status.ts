/** `mezz status`: the cluster at a glance. */
import type { Command } from 'commander';
import { print, withMaster } from '../context';
import { statusText } from '../views';

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description('show the cluster at a glance: master, agents, frameworks, tasks, resources')
    .action((_opts, cmd: Command) => withMaster(cmd, async (conn, g) => {
      const state = await conn.call('getState', {});
      print(g, state, () => statusText(state, Date.now() / 1000));
    }));
}
