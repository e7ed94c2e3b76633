/** `mezz roles` and `mezz weights set`: roles, their weights and shares. */
import type { Command } from 'commander';
import { print, withMaster } from '../context';
import { ROLE_HEADERS, parseWeight, roleJson, roleRow, tableOrNone } from '../views';
import type { RoleSummary__Output } from '../../lib/proto';
import type { Globals } from '../context';

function printRoles(g: Globals, roles: RoleSummary__Output[]): void {
  print(g, roles.map(roleJson), () => tableOrNone(ROLE_HEADERS, roles.map(roleRow), 'roles'));
}

export function registerRoles(program: Command): void {
  program
    .command('roles')
    .description('list roles: weight, dominant share, allocation, frameworks')
    .action((_opts, cmd: Command) => withMaster(cmd, async (conn, g) => {
      const { roles } = await conn.call('listRoles', {});
      printRoles(g, roles);
    }));

  const weights = program.command('weights').description("change roles' weights");
  weights
    .command('set <role> <weight>')
    .description("set a role's weight (a positive number; the default is 1) and show the roles")
    // A negative weight looks like an option to the parser; let it through to parseWeight, which says what is wrong.
    .allowUnknownOption()
    .action((role: string, weightText: string, _opts, cmd: Command) => {
      const weight = parseWeight(weightText);
      return withMaster(cmd, async (conn, g) => {
        const { roles } = await conn.call('updateWeights', { weights: [{ role, weight }] });
        printRoles(g, roles);
      });
    });
}
