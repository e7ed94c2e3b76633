/**
 * `mezz job …`: the batch framework's jobs, through its Metronome-style /v1
 * API, found through the master (`--framework batch`, its `webui_url`) or
 * given outright (`--url`, env MEZZ_BATCH_URL). `run` follows the run to its
 * end (cli/job-follow.ts) and exits with its outcome; `logs` reads a run's
 * task through the master as `mezz logs` does. What is shown is
 * cli/job-view.ts'.
 */
import { Option, type Command } from 'commander';
import { nextTicks, parseSchedule } from '../../frameworks/batch/cron';
import { type Globals, print, withMaster } from '../context';
import { CliError, UsageError } from '../errors';
import { FrameworkApi, FrameworkApiError, type FrameworkOptions, withFrameworkApi } from '../framework-api';
import { followRun, getJob, getRun, jobPath, runPath } from '../job-follow';
import {
  graphText, type JobJson, jobsText, jobText, latestRunId, type NextRuns, runOutcome, runRows, runsText, type RunJson, taskOfIndex,
} from '../job-view';
import { readSpecFile, specBody } from '../spec-file';
import { printTaskLog } from './logs';

/** How many next run times `show` gives each schedule (the three). */
const NEXT_RUNS = 3;

/** Each schedule's next run times after `now`, computed here with mezz-batch's own cron reading; the reason instead when its cron does not parse. */
function nextRuns(job: JobJson, now: number): NextRuns {
  return new Map((job.schedules ?? []).map((s) => {
    const parsed = parseSchedule(s.cron, s.timezone);
    return [s.id, parsed.schedule ? nextTicks(parsed.schedule, now, NEXT_RUNS) : parsed.errors.flatMap((e) => e.errors).join('; ')];
  }));
}

/** `show --json`: the job as the API gave it, each schedule with `nextRunAt` (ISO) added unless the API gave them. */
function withNextRuns(job: JobJson, next: NextRuns): JobJson {
  if (!job.schedules) return job;
  return {
    ...job,
    schedules: job.schedules.map((s) => {
      const times = next.get(s.id);
      return 'nextRunAt' in s || !Array.isArray(times) ? s : { ...s, nextRunAt: times.map((t) => new Date(t).toISOString()) };
    }),
  };
}

/** Sends a job spec (create: POST, update: PUT); a 409 or 404 is said with the command that fits. */
async function sendJob(api: FrameworkApi, file: string, mode: 'create' | 'update'): Promise<JobJson> {
  const spec = await readSpecFile(file, 'job', '"nightly.report"');
  try {
    return mode === 'create'
      ? await api.request<JobJson>('POST', '/v1/jobs', specBody(spec))
      : await api.request<JobJson>('PUT', jobPath(spec.id), specBody(spec));
  } catch (err) {
    if (err instanceof FrameworkApiError && mode === 'create' && err.status === 409) throw new CliError(`${err.message}; change it with 'mezz job update ${file}'`);
    if (err instanceof FrameworkApiError && mode === 'update' && err.status === 404) throw new CliError(`${err.message}; create it with 'mezz job create ${file}'`);
    throw err;
  }
}

/** Prints a finished run (--json: the run) when it succeeded; fails with its reason otherwise (exit 1). */
function finishRun(g: Globals, run: RunJson, completions: number | undefined): void {
  const { ok, message } = runOutcome(run, completions);
  if (ok) return print(g, run, () => message);
  if (g.json) print(g, run, () => '');
  throw new CliError(message);
}

function parseIndex(text: string): number {
  if (!/^\d+$/.test(text) || Number(text) > 1e6) throw new UsageError(`--index must be a whole number from 0 to 1000000, got ${text.slice(0, 20)}`);
  return Number(text);
}

interface LogsOptions extends FrameworkOptions {
  index: string;
  stderr?: boolean;
  follow?: boolean;
}

export function registerJob(program: Command): void {
  const job = program
    .command('job')
    .description('the batch framework\'s jobs (Metronome\'s job JSON): create, update, run, list, show, runs, stop, rm, logs, graph')
    .option('--framework <name>', 'the batch framework\'s name at the master', 'batch')
    .addOption(new Option('--url <url>', 'the batch framework\'s API, instead of asking the master (e.g. http://127.0.0.1:9000)').env('MEZZ_BATCH_URL'));

  job.command('create <file>').description('create a job from a JSON or YAML file (- for stdin): Metronome\'s job JSON with Mezzanine\'s additions')
    .action((file: string, _o, cmd: Command) => withFrameworkApi(cmd, async (api, g) => {
      const created = await sendJob(api, file, 'create');
      print(g, created, () => `job ${created.id} created; run it now with 'mezz job run ${created.id}'`);
    }));

  job.command('update <file>').description('replace a job from a JSON or YAML file (- for stdin); runs under way keep the job as it was')
    .action((file: string, _o, cmd: Command) => withFrameworkApi(cmd, async (api, g) => {
      const updated = await sendJob(api, file, 'update');
      print(g, updated, () => `job ${updated.id} updated`);
    }));

  job.command('run <id>').description('start a run of a job now and follow it: completions, running tasks, failed attempts; exit 0 when it succeeds, 1 when it fails')
    .option('--detach', 'print the run id and return, without following it')
    .action((id: string, o: { detach?: boolean }, cmd: Command) => withFrameworkApi(cmd, async (api, g) => {
      const run = await api.request<RunJson>('POST', `${jobPath(id)}/runs`);
      if (o.detach) return print(g, run, () => `run ${run.id} of job ${id} started; follow it with 'mezz job runs ${id}' or its logs with 'mezz job logs ${id} ${run.id}'`);
      const completions = run.completions ?? (await getJob(api, id)).completions;
      finishRun(g, await followRun(api, id, run.id, completions), completions);
    }));

  job.command('list').description('every job: schedules (cron and time zone), parents, last run, active runs')
    .action((_o, cmd: Command) => withFrameworkApi(cmd, async (api, g) => {
      const jobs = await api.request<JobJson[]>('GET', '/v1/jobs?embed=activeRuns,historySummary,schedules');
      print(g, jobs, () => jobsText(jobs, Date.now()));
    }));

  job.command('show <id>').description('one job: its run, schedules with their next three run times, active runs, history')
    .action((id: string, _o, cmd: Command) => withFrameworkApi(cmd, async (api, g) => {
      const j = await getJob(api, id, ['activeRuns', 'schedules', 'history']);
      const now = Date.now();
      const next = nextRuns(j, now);
      print(g, withNextRuns(j, next), () => jobText(j, next, now));
    }));

  job.command('runs <id>').description('a job\'s runs, active and finished (as many as its history keeps), newest first: status, reason, trigger, times')
    .action((id: string, _o, cmd: Command) => withFrameworkApi(cmd, async (api, g) => {
      const rows = runRows(await getJob(api, id, ['activeRuns', 'history']));
      print(g, rows, () => runsText(rows));
    }));

  job.command('stop <id> <run>').description('stop a run: its tasks are killed and it ends FAILED (stopped)')
    .action((id: string, runId: string, _o, cmd: Command) => withFrameworkApi(cmd, async (api, g) => {
      const run = await api.request<RunJson | undefined>('POST', `${runPath(id, runId)}/actions/stop`);
      print(g, run ?? null, () => (run?.status === 'SUCCESS'
        ? `run ${runId} of job ${id} had already succeeded`
        : `run ${runId} of job ${id} stopped; its tasks are being killed`));
    }));

  job.command('rm <id>').description('remove a job and its history; refused while it has active runs, unless --stop-runs')
    .option('--stop-runs', 'stop the job\'s active runs (their tasks are killed) and remove it')
    .action((id: string, o: { stopRuns?: boolean }, cmd: Command) => withFrameworkApi(cmd, async (api, g) => {
      try {
        const removed = await api.request('DELETE', `${jobPath(id)}?stopCurrentJobRuns=${o.stopRuns ? 'true' : 'false'}`);
        print(g, removed ?? null, () => `job ${id} removed${o.stopRuns ? '; its active runs were stopped' : ''}`);
      } catch (err) {
        if (!(err instanceof FrameworkApiError && err.status === 409 && !o.stopRuns)) throw err;
        // 409 is also "other jobs depend on it": say --stop-runs only when runs are what holds it.
        const active = (await getJob(api, id, ['activeRuns'])).activeRuns ?? [];
        if (!active.length) throw err;
        throw new CliError(`job ${id} has ${active.length} active run(s) (${active.map((r) => r.id).join(', ')}): remove it with --stop-runs, which stops them, or stop them with 'mezz job stop ${id} RUN'`);
      }
    }));

  job.command('logs <id> [run]').description('the stdout (or --stderr) of a run\'s task, from its sandbox through the master: the latest attempt of --index (default 0) of RUN (default the newest run)')
    .option('--index <n>', 'which index\'s task (Indexed jobs: MEZZ_JOB_INDEX)', '0')
    .option('--stderr', 'the task\'s stderr instead of its stdout')
    .option('-f, --follow', 'keep printing as the task writes, until it ends (Ctrl-C stops)')
    .action((id: string, runArg: string | undefined, o: LogsOptions, cmd: Command) => {
      const index = parseIndex(o.index);
      return withMaster(cmd, async (conn, g) => {
        const api = await FrameworkApi.locate(conn, g, cmd.optsWithGlobals<FrameworkOptions>());
        const runId = runArg ?? latestRunId(await getJob(api, id, ['activeRuns', 'history']));
        if (!runId) throw new CliError(`job ${id} has no runs yet; start one with 'mezz job run ${id}'`);
        const found = taskOfIndex(await getRun(api, id, runId), index);
        if ('why' in found) throw new CliError(found.why);
        await printTaskLog(conn, found.task.id, o.stderr ? 'stderr' : 'stdout', Boolean(o.follow));
      });
    });

  job.command('graph').description('the jobs\' dependencies (their DAG) as a tree from the jobs without parents, or as Graphviz DOT')
    .option('--dot', 'Graphviz DOT (`mezz job graph --dot | dot -Tsvg > jobs.svg`)')
    .action((o: { dot?: boolean }, cmd: Command) => withFrameworkApi(cmd, async (api, g) => {
      const jobs = await api.request<JobJson[]>('GET', '/v1/jobs');
      print(g, jobs.map((j) => ({ id: j.id, dependencies: (j.dependencies ?? []).map((d) => d.id) })), () => graphText(jobs, Boolean(o.dot)));
    }));
}
