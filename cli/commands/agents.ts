/** `mezz agents`: every agent, its resources and what it runs. */
import type { Command } from 'commander';
import { print, withMaster } from '../context';
import { AGENT_HEADERS, agentJson, agentRow, tableOrNone } from '../views';

export function registerAgents(program: Command): void {
  program
    .command('agents')
    .description('list agents: state, resources used/total, tasks, isolation')
    .action((_opts, cmd: Command) => withMaster(cmd, async (conn, g) => {
      const { agents } = await conn.call('listAgents', {});
      print(g, agents.map(agentJson), () => tableOrNone(AGENT_HEADERS, agents.map(agentRow), 'agents registered'));
    }));
}
