/**
 * `mezz app …`: the services framework's apps, through its Marathon-style
 * API, found through the master (cli/framework-api.ts). Deploy follows the
 * app until every instance runs (and is healthy, when it has health
 * checks), showing progress, unless --detach.
 */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import { durationOption } from '../../lib/duration-option';
import { errorMessage } from '../../lib/errors';
import { type Globals, print, withMaster } from '../context';
import { CliError, UsageError } from '../errors';
import { FrameworkApi } from '../framework-api';
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

type Opts = { framework: string };

/** Runs `fn` with the services API found through the master. */
function withApi(cmd: Command, fn: (api: FrameworkApi, g: Globals) => Promise<void>): Promise<void> {
  return withMaster(cmd, async (conn, g) => fn(await FrameworkApi.find(conn, g, cmd.optsWithGlobals<Opts>().framework), g));
}

const appPath = (id: string) => `/v2/apps/${id.replace(/^\/+/, '')}`;

function health(t: TaskView): string {
  if (!t.healthCheckResults?.length) return '-';
  return t.healthCheckResults.every((h) => h.alive) ? 'healthy' : 'unhealthy';
}

function appRow(a: AppView): string[] {
  return [a.id, `${a.tasksRunning ?? 0}/${a.instances}`, a.healthChecks?.length ? String(a.tasksHealthy ?? 0) : '-', String(a.cpus), String(a.mem), a.version ?? ''];
}

/** Reads an app document (JSON or YAML) from a file or stdin, and the id it names. */
async function readApp(file: string): Promise<{ text: string; id: string; yaml: boolean }> {
  let text: string;
  try {
    text = file === '-' ? await readStdin() : await readFile(file, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read ${file}: ${errorMessage(err)}`);
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new UsageError(`${file} is neither JSON nor YAML: ${errorMessage(err).split('\n')[0]}`);
  }
  const id = (doc as { id?: unknown } | null)?.id;
  if (typeof id !== 'string' || !id) throw new UsageError(`${file} names no app id (the "id" field, e.g. "/shop/web")`);
  return { text, id, yaml: !text.trimStart().startsWith('{') };
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Polls the app until every instance runs the deployed version (healthy, when it has checks); prints each change. */
async function follow(api: FrameworkApi, id: string, version: string | undefined, deadlineMs: number): Promise<AppView> {
  const until = Date.now() + deadlineMs;
  let last = '';
  for (;;) {
    const { app } = await api.request<{ app: AppView & { tasks?: TaskView[] } }>('GET', appPath(id));
    const current = (app.tasks ?? []).filter((t) => !version || t.version === version);
    const running = current.filter((t) => t.state === 'TASK_RUNNING');
    const healthy = running.filter((t) => health(t) !== 'unhealthy' && (!app.healthChecks?.length || health(t) === 'healthy'));
    const line = `${app.id}: ${running.length}/${app.instances} running, ${healthy.length} ready (version ${version ?? app.version ?? '?'})`;
    if (line !== last) process.stderr.write(`${line}\n`);
    last = line;
    if (healthy.length >= app.instances && (app.tasks ?? []).filter((t) => t.state === 'TASK_RUNNING').length <= app.instances) return app;
    if (Date.now() > until) {
      throw new CliError(`${app.id} did not reach ${app.instances} ready instances within ${Math.round(deadlineMs / 1000)}s (${running.length} running, ${healthy.length} ready); see 'mezz app why ${app.id}'`);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

export function registerApp(program: Command): void {
  const app = program
    .command('app')
    .description('the services framework\'s apps (Marathon\'s app JSON): deploy, list, show, scale, tasks, why, rm')
    .option('--framework <name>', 'the services framework\'s name at the master', 'services');

  app.command('list').description('every app: instances running, healthy, resources, version')
    .action((_o, cmd: Command) => withApi(cmd, async (api, g) => {
      const { apps } = await api.request<{ apps: AppView[] }>('GET', '/v2/apps');
      print(g, apps, () => (apps.length ? formatTable(['ID', 'RUNNING', 'HEALTHY', 'CPUS', 'MEM', 'VERSION'], apps.map(appRow)) : 'no apps'));
    }));

  app.command('show <id>').description('one app and its tasks')
    .action((id: string, _o, cmd: Command) => withApi(cmd, async (api, g) => {
      const { app: a } = await api.request<{ app: AppView & { tasks?: TaskView[] } }>('GET', appPath(id));
      print(g, a, () => `${formatTable(['ID', 'RUNNING', 'HEALTHY', 'CPUS', 'MEM', 'VERSION'], [appRow(a)])}\n\n${tasksTable(a.tasks ?? [])}`);
    }));

  app.command('tasks <id>').description('an app\'s tasks: host, ports, state, health')
    .action((id: string, _o, cmd: Command) => withApi(cmd, async (api, g) => {
      const { tasks } = await api.request<{ tasks: TaskView[] }>('GET', `${appPath(id)}/tasks`);
      print(g, tasks, () => tasksTable(tasks));
    }));

  app.command('deploy <file>').description('create or replace an app from a JSON or YAML file (- for stdin), and follow it until it runs')
    .option('--detach', 'return once the app is stored, without following it')
    .addOption(durationOption('--wait <duration>', 'how long to follow before giving up', { unit: 'ms', default: 600_000, positive: true }))
    .action((file: string, o: { detach?: boolean; wait: number }, cmd: Command) => withApi(cmd, async (api, g) => {
      const waitMs = o.wait;
      const doc = await readApp(file);
      const body = doc.yaml ? doc.text : JSON.parse(doc.text);
      const r = await api.request<{ version?: string; deploymentId?: string }>('PUT', `${appPath(doc.id)}?partialUpdate=false`, body);
      if (o.detach) return print(g, r, () => `${doc.id}: stored as version ${r.version ?? '?'}`);
      const done = await follow(api, doc.id, r.version, waitMs);
      print(g, done, () => `${done.id}: ${done.instances} instance(s) running`);
    }));

  app.command('scale <id> <instances>').description('set an app\'s number of instances')
    .action((id: string, n: string, _o, cmd: Command) => {
      if (!/^\d+$/.test(n)) throw new UsageError(`instances must be a whole number ≥ 0, got ${n.slice(0, 20)}`);
      return withApi(cmd, async (api, g) => {
        const r = await api.request<{ version?: string }>('PUT', appPath(id), { instances: Number(n) });
        print(g, r, () => `${id}: scaling to ${n} (version ${r.version ?? '?'})`);
      });
    });

  app.command('why <id>').description('why instances of an app are not running: backoff left, and offers declined by reason')
    .action((id: string, _o, cmd: Command) => withApi(cmd, async (api, g) => {
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
    .action((id: string, _o, cmd: Command) => withApi(cmd, async (api, g) => {
      const r = await api.request('DELETE', appPath(id));
      print(g, r, () => `${id}: removed; its tasks are being killed`);
    }));
}

function tasksTable(tasks: TaskView[]): string {
  if (!tasks.length) return 'no tasks';
  return formatTable(['TASK', 'HOST', 'PORTS', 'STATE', 'HEALTH'], tasks.map((t) => [t.id, t.host, t.ports.join(','), t.state, health(t)]));
}
