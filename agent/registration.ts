/**
 * A registration on the wire, for the real and the simulated agent: the
 * agent's info and its tasks in bounded pages, `register` with the first
 * page and `more_tasks`, then `register_tasks` pages, the last with
 * `more: false`. One message per agent would grow with its tasks (and their
 * labels) without limit; the master assembles the pages and registers the
 * agent once it has the last one.
 *
 * A page holds at most TASKS_PER_PAGE tasks and REGISTRATION_PAGE_BYTES of
 * them (encoded), so it stays below what the master takes in one message
 * (lib/grpc MAX_MASTER_MESSAGE_BYTES) whatever the tasks were launched with:
 * 200 tasks at every lib/limits maximum would be about 140 MB.
 */
import { MAX_MASTER_MESSAGE_BYTES } from '../lib/grpc';
import { TASKS_PER_PAGE } from '../lib/limits';
import { mezzProto, type AgentInfo, type AgentMessage, type AgentTask } from '../lib/proto';

/** Encoded bytes of tasks in one page: a quarter of the master's cap, leaving room for the agent's info beside them. */
export const REGISTRATION_PAGE_BYTES = MAX_MASTER_MESSAGE_BYTES / 4;

/** A task's encoded size, as one page of it alone (a few bytes above its share of a longer page). */
function encodedBytes(task: AgentTask): number {
  return mezzProto().AgentGateway.service.Connect.requestSerialize({ registerTasks: { tasks: [task], more: false } }).length;
}

export function registrationMessages(
  info: AgentInfo, tasks: readonly AgentTask[], lostLeader: string, perPage = TASKS_PER_PAGE, pageBytes = REGISTRATION_PAGE_BYTES,
): AgentMessage[] {
  const pages = paginate(tasks, perPage, pageBytes);
  const out: AgentMessage[] = [{ register: { info, tasks: pages[0], lostLeader, moreTasks: pages.length > 1 } }];
  for (let p = 1; p < pages.length; p++) out.push({ registerTasks: { tasks: pages[p], more: p < pages.length - 1 } });
  return out;
}

/** Tasks in order, cut into pages of at most `perPage` tasks and `pageBytes` bytes (a larger task goes alone); at least one page. */
function paginate(tasks: readonly AgentTask[], perPage: number, pageBytes: number): AgentTask[][] {
  const pages: AgentTask[][] = [[]];
  let bytes = 0;
  for (const task of tasks) {
    const size = encodedBytes(task);
    const page = pages.at(-1)!;
    if (page.length && (page.length >= perPage || bytes + size > pageBytes)) {
      pages.push([task]);
      bytes = size;
    } else {
      page.push(task);
      bytes += size;
    }
  }
  return pages;
}
