/**
 * Local checks on a TaskInfo before anything touches the disk: what the
 * master cannot know about this agent, or a framework got wrong. Returns
 * reasons, never throws.
 */
import type { TaskInfo__Output } from '../lib/proto';
import { fromProto, gpuIdsOf, portList } from '../lib/resources';
import { errorMessage } from '../lib/errors';
import { taskHealthCheckProblems } from '../lib/health-check-spec';
import { taskCheckProblems } from '../lib/check-spec';
import { idProblem } from './sandbox';

/**
 * `hostGpus`: the GPUs this agent found; a task naming a GPU id not among
 * them (a master working from stale resources, or a hand-made TaskInfo) is
 * refused rather than run without it.
 */
export function taskProblems(frameworkId: string, task: TaskInfo__Output, hostGpus: readonly { uuid: string }[] = []): string[] {
  const out: string[] = [];
  const fw = idProblem('framework id', frameworkId);
  if (fw) out.push(fw);
  const id = idProblem('task id', task.taskId);
  if (id) out.push(id);
  if (!task.command?.value) out.push('the task has no command (command.value is empty)');
  try {
    const resources = fromProto(task.resources ?? []);
    const ports = portList(resources.ports);
    out.push(...taskHealthCheckProblems(task, ports), ...taskCheckProblems(task, ports));
    const have = new Set(hostGpus.map((g) => g.uuid));
    const unknown = gpuIdsOf(resources).filter((g) => !have.has(g));
    if (unknown.length) {
      out.push(`the task names GPU${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}, which this agent does not have ` +
        `(it has ${hostGpus.map((g) => g.uuid).join(', ') || 'none'})`);
    }
  } catch (e) {
    out.push(`bad resources: ${errorMessage(e)}`);
  }
  const grace = Number(task.killGraceSeconds ?? 0);
  if (!Number.isFinite(grace) || grace < 0) out.push(`kill_grace_seconds ${grace} must be a finite number ≥ 0`);
  return out;
}
