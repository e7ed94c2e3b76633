/**
 * `mezz deployments [rm ID [--force] | watch ID]`: the services framework's
 * running deployments (step, state, what blocks them, what they roll back),
 * cancelling one (rolled back by default, in place with --force), and
 * following one to its end, as `mezz app deploy` does.
 */
import type { Command } from 'commander';
import { durationOption } from '../../lib/duration-option';
import { print } from '../context';
import { CliError } from '../errors';
import { withFrameworkApi } from '../framework-api';
import { followDeployment } from '../rollout';
import { type DeploymentJson, deploymentsText, outcome } from '../rollout-view';

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

  deployments.command('watch <id>')
    .description('follow a deployment (running or among the last 50 finished) to its end, and its rollback if it has one: exit 0 when it succeeded')
    .addOption(durationOption('--wait <duration>', 'how long to follow it before giving up (it keeps running)', { unit: 'ms', default: 900_000, positive: true }))
    .action((id: string, o: { wait: number }, cmd: Command) => withFrameworkApi(cmd, async (api, g) => {
      const ending = await followDeployment(api, id, o.wait);
      const { ok, message } = outcome(ending);
      if (ok) return print(g, ending.deployment, () => message);
      if (g.json) print(g, ending.deployment, () => '');
      throw new CliError(message);
    }));
}
