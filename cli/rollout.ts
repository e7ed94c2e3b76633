/**
 * Following a deployment of the services framework until it ends: polls
 * `GET /v2/deployments/{id}` (finished ones included) and the apps of its
 * current step, shows each change of the progress line on stderr (redrawn in
 * place on a terminal), and, when it failed or was cancelled, follows its
 * rollback (`<id>-rollback`) too, so the user learns how that ended.
 */
import { formatDuration } from '../lib/duration';
import { CliError } from './errors';
import { type FrameworkApi, FrameworkApiError } from './framework-api';
import { ProgressLine } from './progress-line';
import {
  type AppRollout, type AppTasksJson, countsShown, type DeploymentJson, type Ending, isFinished, progressLine, rolloutOf, stillRunning, watchedApps,
} from './rollout-view';

const POLL_MS = 500;

export const appPath = (id: string) => `/v2/apps/${id.replace(/^\/+/, '')}`;

/** One deployment, running or finished; undefined when the API knows none by that id. */
export async function getDeployment(api: FrameworkApi, id: string): Promise<DeploymentJson | undefined> {
  try {
    return await api.request<DeploymentJson>('GET', `/v2/deployments/${encodeURIComponent(id)}`);
  } catch (err) {
    if (err instanceof FrameworkApiError && err.status === 404) return undefined;
    throw err;
  }
}

/**
 * Follows deployment `id` (and its rollback, when it has one) until it ends or
 * `waitMs` runs out: the Ending, whatever it is (the caller judges it with
 * `outcome`); a CliError saying the deployment keeps running when time is up.
 */
export async function followDeployment(api: FrameworkApi, id: string, waitMs: number): Promise<Ending> {
  const until = Date.now() + waitMs;
  const out = new ProgressLine();
  try {
    out.note(`following deployment ${id} (Ctrl-C stops watching; the deployment carries on)`);
    const deployment = await watch(api, id, until, waitMs, out);
    if (deployment.status.state === 'succeeded' || deployment.rollbackOf) return { deployment };
    const rollback = await getDeployment(api, `${id}-rollback`);
    if (!rollback) return { deployment };
    out.note(`deployment ${id} ${deployment.status.state}; following its rollback ${rollback.id}`);
    return { deployment, rollback: await watch(api, rollback.id, until, waitMs, out) };
  } finally {
    out.end();
  }
}

async function watch(api: FrameworkApi, id: string, until: number, waitMs: number, out: ProgressLine): Promise<DeploymentJson> {
  for (;;) {
    const d = await getDeployment(api, id);
    if (!d) throw new CliError(`deployment ${id} does not exist: mezz-services knows the running deployments and the last 50 finished`);
    out.show(progressLine(d, countsShown(d) ? await Promise.all(watchedApps(d).map((app) => rollout(api, app))) : []));
    if (isFinished(d)) return d;
    if (Date.now() >= until) throw new CliError(stillRunning(d, formatDuration(waitMs / 1000)));
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

async function rollout(api: FrameworkApi, app: string): Promise<AppRollout> {
  try {
    return rolloutOf((await api.request<{ app: AppTasksJson }>('GET', appPath(app))).app);
  } catch (err) {
    if (err instanceof FrameworkApiError && err.status === 404) return { app, gone: true };
    throw err;
  }
}
