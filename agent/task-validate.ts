/**
 * Local checks on a TaskInfo before anything touches the disk: what the
 * master cannot know about this agent, or a framework got wrong. Returns
 * reasons, never throws.
 */
import type { TaskInfo__Output } from '../lib/proto';
import { fromProto } from '../lib/resources';
import { errorMessage } from '../lib/errors';
import { idProblem } from './sandbox';

export function taskProblems(frameworkId: string, task: TaskInfo__Output): string[] {
  const out: string[] = [];
  const fw = idProblem('framework id', frameworkId);
  if (fw) out.push(fw);
  const id = idProblem('task id', task.taskId);
  if (id) out.push(id);
  if (!task.command?.value) out.push('the task has no command (command.value is empty)');
  try {
    fromProto(task.resources ?? []);
  } catch (e) {
    out.push(`bad resources: ${errorMessage(e)}`);
  }
  const grace = Number(task.killGraceSeconds ?? 0);
  if (!Number.isFinite(grace) || grace < 0) out.push(`kill_grace_seconds ${grace} must be a finite number ≥ 0`);
  return out;
}
