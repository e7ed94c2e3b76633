/**
 * A registration on the wire, for the real and the simulated agent: the
 * agent's info and its tasks in bounded pages, `register` with the first
 * TASKS_PER_PAGE tasks and `more_tasks`, then `register_tasks` pages, the
 * last with `more: false`. One message per agent would grow with its tasks
 * (and their labels) without limit; the master assembles the pages and
 * registers the agent once it has the last one.
 */
import { TASKS_PER_PAGE } from '../lib/limits';
import type { AgentInfo, AgentMessage, AgentTask } from '../lib/proto';

export function registrationMessages(info: AgentInfo, tasks: readonly AgentTask[], lostLeader: string, perPage = TASKS_PER_PAGE): AgentMessage[] {
  const pages = Math.max(1, Math.ceil(tasks.length / perPage));
  const out: AgentMessage[] = [{ register: { info, tasks: tasks.slice(0, perPage), lostLeader, moreTasks: pages > 1 } }];
  for (let p = 1; p < pages; p++) {
    out.push({ registerTasks: { tasks: tasks.slice(p * perPage, (p + 1) * perPage), more: p < pages - 1 } });
  }
  return out;
}
