/**
 * `mezz deployments [rm ID [--force]]`: the services framework's running
 * deployments (step, state, what blocks them, what they roll back), and
 * cancelling one: rolled back by default, in place with --force.
 */
import type { Command } from 'commander';
import { print } from '../context';
import { withFrameworkApi } from '../framework-api';
import { type DeploymentJson, deploymentsText } from '../rollout-view';

export function registerDeployments(program: Command): void {
  const deployments = program
    .command('deployments')
    .description('the services framework\'s running deployments: apps, step N/M, state, what blocks them; rm cancels one')
    .option('--framework <name>', 'the services framework\'s name at the master', 'services')
    .action((_o, cmd: Command) => withFrameworkApi(cmd, async (api, g) => {
      const list = await api.request<DeploymentJson[]>('GET', '/v2/deployments');
      print(g, list, () => deploymentsText(list));
    }));

  deployments.command('rm <id>')
    .description('cancel a running deployment: its apps are rolled back to their previous versions (a rollback deployment), or with --force left as they are, at once')
    .option('--force', 'cancel in place: no rollback; the apps stay defined as the deployment\'s target')
    .action((id: string, o: { force?: boolean }, cmd: Command) => withFrameworkApi(cmd, async (api, g) => {
      const r = await api.request<{ deploymentId?: string; version?: string }>('DELETE', `/v2/deployments/${encodeURIComponent(id)}${o.force ? '?force=true' : ''}`);
      print(g, r, () => (r.deploymentId
        ? `deployment ${id} cancelled; its apps roll back as deployment ${r.deploymentId} ('mezz deployments' shows it)`
        : `deployment ${id} cancelled in place: no rollback; its apps stay defined as its target`));
    }));
}
