/**
 * Following a batch run until it ends: polls `GET /v1/jobs/{id}/runs/{run}`
 * and shows each change of its progress line on stderr (redrawn in place on
 * a terminal). A run that has left the active runs is looked up in the
 * job's history; mezz-batch unreachable or without a leader for a while (a
 * failover) is waited out, up to a limit.
 */
import { errorMessage } from '../lib/errors';
import { CliError } from './errors';
import { type FrameworkApi, FrameworkApiError, FrameworkUnreachableError } from './framework-api';
import { finishedRun, isFinished, type JobJson, progressLine, type RunJson } from './job-view';
import { ProgressLine } from './progress-line';

const POLL_MS = 500;
/** How long mezz-batch may stay unreachable (or answer 502-504) while a run is followed: longer than a standby takes to lead. */
const OUTAGE_MS = 60_000;

export const jobPath = (id: string) => `/v1/jobs/${encodeURIComponent(id)}`;
export const runPath = (jobId: string, runId: string) => `${jobPath(jobId)}/runs/${encodeURIComponent(runId)}`;

/** A job with `embed` (`activeRuns`, `schedules`, `history`, `historySummary`). */
export function getJob(api: FrameworkApi, id: string, embed: readonly string[] = []): Promise<JobJson> {
  return api.request<JobJson>('GET', `${jobPath(id)}${embed.length ? `?embed=${embed.join(',')}` : ''}`);
}

/**
 * A run, active or finished. Where the API answers only active runs (as
 * Metronome's does), a finished one is found in the job's history, without
 * its tasks. CliError when neither knows it.
 */
export async function getRun(api: FrameworkApi, jobId: string, runId: string): Promise<RunJson> {
  try {
    return await api.request<RunJson>('GET', runPath(jobId, runId));
  } catch (err) {
    if (!(err instanceof FrameworkApiError && err.status === 404)) throw err;
  }
  const found = finishedRun(await getJob(api, jobId, ['history']), runId);
  if (!found) throw new CliError(`job ${jobId} has no run ${runId}: 'mezz job runs ${jobId}' lists its active runs and the finished ones its history keeps`);
  return found;
}

function isOutage(err: unknown): boolean {
  return err instanceof FrameworkUnreachableError || (err instanceof FrameworkApiError && err.status >= 502 && err.status <= 504);
}

/** Follows run `runId` of `jobId` until it is SUCCESS or FAILED, and answers it. `completions`: the job's, for a run JSON without them. */
export async function followRun(api: FrameworkApi, jobId: string, runId: string, completions?: number): Promise<RunJson> {
  const out = new ProgressLine();
  let outageSince: number | undefined;
  try {
    out.note(`following run ${runId} of job ${jobId} (Ctrl-C stops watching; the run carries on)`);
    for (;;) {
      try {
        const run = await getRun(api, jobId, runId);
        outageSince = undefined;
        out.show(progressLine(run, completions));
        if (isFinished(run)) return run;
      } catch (err) {
        if (!isOutage(err)) throw err;
        outageSince ??= Date.now();
        if (Date.now() - outageSince > OUTAGE_MS) throw err;
        out.show(`run ${runId}: ${errorMessage(err)}; trying again`);
      }
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  } finally {
    out.end();
  }
}
