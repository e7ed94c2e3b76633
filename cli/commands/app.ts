/**
 * `mezz app …`: the services framework's apps, through its Marathon-style
 * API, found through the master (cli/framework-api.ts). Every change (deploy,
 * scale, restart, rollback) is a deployment on the framework's side; the
 * command follows it until it ends (cli/rollout.ts), showing the rollout,
 * unless --detach.
 */
import type { Command } from 'commander';
import { durationOption } from '../../lib/duration-option';
import { type Globals, print } from '../context';
import { CliError, UsageError } from '../errors';
import { type FrameworkApi, FrameworkApiError, withFrameworkApi } from '../framework-api';
import { appPath, followDeployment } from '../rollout';
import { changeQuery, type DeploymentJson, definitionOf, lockedMessage, olderThan, outcome, versionsText, versionView } from '../rollout-view';
import { readSpecFile, specBody } from '../spec-file';
import { formatTable } from '../table';

interface AppView {
  id: string;
  instances: number;
  cpus: number;
  mem: number;
  version?: string;
  healthChecks?: unknown[];
  tasksRunning?: number;
  tasksHealthy?: number;
  tasksStaged?: number;
}

interface TaskView {
  id: string;
  host: string;
  ports: number[];
  state: string;
  version?: string;
  healthCheckResults?: { alive: boolean }[];
}

interface QueueEntry {
  app: { id: string };
  count: number;
  delay?: { timeLeftSeconds: number };
  reasons?: Record<string, number>;
}

function health(t: TaskView): string {
  if (!t.healthCheckResults?.length) return '-';
  return t.healthCheckResults.every((h) => h.alive) ? 'healthy' : 'unhealthy';
}

function appRow(a: AppView): string[] {
  return [a.id, `${a.tasksRunning ?? 0}/${a.instances}`, a.healthChecks?.length ? String(a.tasksHealthy ?? 0) : '-', String(a.cpus), String(a.mem), a.version ?? ''];
}

/** The flags of a command that starts a deployment. */
interface ChangeOptions {
  detach?: boolean;
  wait: number;
  force?: boolean;
  /** --deadline, in seconds. */
  deadline?: number;
}

/** A change's answer: the deployment that carries it out and the app's new version. */
interface Change {
  deploymentId: string;
  version: string;
}

/** Adds --detach, --wait, --force and --deadline to a command that starts a deployment. */
function changeFlags(cmd: Command): Command {
  return cmd
    .option('--detach', 'return at once with the deployment id, without following it')
    .option('--force', 'supersede a deployment that holds the app (it is cancelled in place)')
    // Longer than the framework's default deadline (10m), so that a deployment that fails is seen rolled back.
    .addOption(durationOption('--wait <duration>', 'how long to follow the deployment before giving up (it keeps running)', { unit: 'ms', default: 900_000, positive: true }))
    .addOption(durationOption('--deadline <duration>', 'roll back when the deployment makes no progress for this long (absent: the app\'s MEZZ_DEPLOYMENT_DEADLINE_SECONDS label, else 10m)', { unit: 's', positive: true }));
}

/** Sends a change of `app`; a 409 is said as which deployment holds the app and what to do. */
async function sendChange(api: FrameworkApi, app: string, method: string, path: string, body?: unknown): Promise<Change> {
  try {
    return await api.request<Change>(method, path, body);
  } catch (err) {
    if (err instanceof FrameworkApiError && err.status === 409 && err.body?.deployments) throw new CliError(lockedMessage(app, err.body.deployments));
    throw err;
  }
}

/**
 * With --detach, prints the deployment id; else follows the deployment:
 * prints `done(final)` (or the final deployment, --json) when it succeeded,
 * and fails with what went wrong and what became of the rollback otherwise.
 */
async function finish(api: FrameworkApi, g: Globals, app: string, r: Change, o: ChangeOptions, done: (d: DeploymentJson) => string): Promise<void> {
  if (o.detach) {
    return print(g, r, () => `${app}: deployment ${r.deploymentId} started (version ${r.version}); watch it with 'mezz deployments watch ${r.deploymentId}'`);
  }
  const ending = await followDeployment(api, r.deploymentId, o.wait);
  const { ok, message } = outcome(ending);
  if (ok) return print(g, ending.deployment, () => done(ending.deployment));
  if (g.json) print(g, ending.deployment, () => '');
  throw new CliError(message);
}

/** The newest version older than the current one that defines the app differently: what `rollback` returns to by default. */
async function previousVersion(api: FrameworkApi, id: string): Promise<string> {
  const { app } = await api.request<{ app: { version: string } }>('GET', appPath(id));
  const { versions } = await api.request<{ versions: string[] }>('GET', `${appPath(id)}/versions`);
  const definition = async (v: string) => definitionOf(await api.request<Record<string, unknown>>('GET', `${appPath(id)}/versions/${encodeURIComponent(v)}`));
  const current = await definition(app.version);
  for (const v of olderThan(versions, app.version)) if ((await definition(v)) !== current) return v;
  throw new CliError(`${id} has no older version that differs from the current one ('mezz app versions ${id}' lists them)`);
}

export function registerApp(program: Command): void {
  const app = program
    .command('app')
    .description('the services framework\'s apps (Marathon\'s app JSON): deploy, list, show, scale, restart, rollback, versions, tasks, why, rm')
    .option('--framework <name>', 'the services framework\'s name at the master', 'services');

  app.command('list').description('every app: instances running, healthy, resources, version')
    .action((_o, cmd: Command) => withFrameworkApi(cmd, async (api, g) => {
      const { apps } = await api.request<{ apps: AppView[] }>('GET', '/v2/apps');
      print(g, apps, () => (apps.length ? formatTable(['ID', 'RUNNING', 'HEALTHY', 'CPUS', 'MEM', 'VERSION'], apps.map(appRow)) : 'no apps'));
    }));

  app.command('show <id>').description('one app and its tasks')
    .action((id: string, _o, cmd: Command) => withFrameworkApi(cmd, async (api, g) => {
      const { app: a } = await api.request<{ app: AppView & { tasks?: TaskView[] } }>('GET', appPath(id));
      print(g, a, () => `${formatTable(['ID', 'RUNNING', 'HEALTHY', 'CPUS', 'MEM', 'VERSION'], [appRow(a)])}\n\n${tasksTable(a.tasks ?? [])}`);
    }));

  app.command('tasks <id>').description('an app\'s tasks: host, ports, state, health')
    .action((id: string, _o, cmd: Command) => withFrameworkApi(cmd, async (api, g) => {
      const { tasks } = await api.request<{ tasks: TaskView[] }>('GET', `${appPath(id)}/tasks`);
      print(g, tasks, () => tasksTable(tasks));
    }));

  changeFlags(app.command('deploy <file>')
    .description('create or replace an app from a JSON or YAML file (- for stdin), and follow its deployment until it succeeds or rolls back'))
    .action((file: string, o: ChangeOptions, cmd: Command) => withFrameworkApi(cmd, async (api, g) => {
      const doc = await readSpecFile(file, 'app', '"/shop/web"');
      const r = await sendChange(api, doc.id, 'PUT', `${appPath(doc.id)}${changeQuery(o, { partialUpdate: 'false' })}`, specBody(doc));
      await finish(api, g, doc.id, r, o, (d) => `${doc.id}: version ${r.version} deployed (deployment ${d.id} succeeded)`);
    }));

  changeFlags(app.command('scale <id> <instances>').description('set an app\'s number of instances, and follow the deployment'))
    .action((id: string, n: string, o: ChangeOptions, cmd: Command) => {
      if (!/^\d+$/.test(n)) throw new UsageError(`instances must be a whole number ≥ 0, got ${n.slice(0, 20)}`);
      return withFrameworkApi(cmd, async (api, g) => {
        const r = await sendChange(api, id, 'PUT', `${appPath(id)}${changeQuery(o)}`, { instances: Number(n) });
        await finish(api, g, id, r, o, (d) => `${id}: scaled to ${n} (deployment ${d.id} succeeded)`);
      });
    });

  changeFlags(app.command('restart <id>').description('replace every instance of an app, under its upgrade strategy, and follow the deployment'))
    .action((id: string, o: ChangeOptions, cmd: Command) => withFrameworkApi(cmd, async (api, g) => {
      const r = await sendChange(api, id, 'POST', `${appPath(id)}/restart${changeQuery(o)}`);
      await finish(api, g, id, r, o, (d) => `${id}: restarted as version ${r.version} (deployment ${d.id} succeeded)`);
    }));

  changeFlags(app.command('rollback <id> [version]')
    .description('put an app back to a stored version (default: the newest older one that differs from the current), and follow the deployment'))
    .action((id: string, version: string | undefined, o: ChangeOptions, cmd: Command) => withFrameworkApi(cmd, async (api, g) => {
      const target = version ?? await previousVersion(api, id);
      const r = await sendChange(api, id, 'PUT', `${appPath(id)}${changeQuery(o)}`, { version: target });
      await finish(api, g, id, r, o, (d) => `${id}: rolled back to version ${target}, now version ${r.version} (deployment ${d.id} succeeded)`);
    }));

  app.command('versions <id>').description('an app\'s stored versions, newest first: instances and command of each')
    .action((id: string, _o, cmd: Command) => withFrameworkApi(cmd, async (api, g) => {
      const { app: a } = await api.request<{ app: { version: string } }>('GET', appPath(id));
      const { versions } = await api.request<{ versions: string[] }>('GET', `${appPath(id)}/versions`);
      const list = await Promise.all(versions.map(async (v) =>
        versionView(await api.request<{ version: string; instances?: number; cmd?: string; args?: string[] }>('GET', `${appPath(id)}/versions/${encodeURIComponent(v)}`), a.version)));
      print(g, list, () => versionsText(list));
    }));

  app.command('why <id>').description('why instances of an app are not running: backoff left, and offers declined by reason')
    .action((id: string, _o, cmd: Command) => withFrameworkApi(cmd, async (api, g) => {
      const { queue } = await api.request<{ queue: QueueEntry[] }>('GET', '/v2/queue');
      const want = `/${id.replace(/^\/+/, '')}`;
      const e = queue.find((q) => q.app.id === want);
      print(g, e ?? null, () => {
        if (!e) return `${want}: no instance is waiting to be placed`;
        const reasons = Object.entries(e.reasons ?? {}).sort((a, b) => b[1] - a[1]);
        return `${want}: ${e.count} instance(s) waiting${e.delay?.timeLeftSeconds ? `, backoff ${e.delay.timeLeftSeconds}s left` : ''}\n`
          + (reasons.length ? formatTable(['REASON', 'OFFERS'], reasons.map(([r, n]) => [r, String(n)])) : 'no offer seen yet');
      });
    }));

  app.command('rm <id>').description('remove an app and kill its tasks')
    .action((id: string, _o, cmd: Command) => withFrameworkApi(cmd, async (api, g) => {
      const r = await api.request('DELETE', appPath(id));
      print(g, r, () => `${id}: removed; its tasks are being killed`);
    }));
}

function tasksTable(tasks: TaskView[]): string {
  if (!tasks.length) return 'no tasks';
  return formatTable(['TASK', 'HOST', 'PORTS', 'STATE', 'HEALTH'], tasks.map((t) => [t.id, t.host, t.ports.join(','), t.state, health(t)]));
}
