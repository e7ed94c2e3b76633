/**
 * The leader's records and the few mutations every room of the master
 * shares: a task starts or ends (resources move between agent, framework
 * and pool), an update or event goes out. The rooms — agent lifecycle
 * (`agents.ts`), framework lifecycle (`frameworks.ts`), scheduler calls
 * (`scheduler-calls.ts`) and offers (`offers.ts`) — decide; this records.
 */
import type { Logger } from '../lib/log';
import * as res from '../lib/resources';
import { isTerminal, type TaskState } from '../lib/proto';
import type { Event, TaskStatus, TaskStatus__Output } from '../lib/proto';
import type { Clock } from './clock';
import type { Registry } from './registry';
import type { AgentRecord, FrameworkRecord, OfferRecord, TaskRecord } from './state';

const COMPLETED_TASKS_KEPT = 1000;

/** Whether `fw` may see `state`: TASK_KILLING only where declared, as Mesos sends it only then. */
export function showsState(fw: FrameworkRecord, state: TaskStatus['state']): boolean {
  return state !== 'TASK_KILLING' || fw.capabilities.has('TASK_KILLING_STATE');
}

/**
 * A task's status as `fw` may see it. The master records the truth (the
 * operator's ListTasks shows TASK_KILLING), but to a framework without
 * TASK_KILLING_STATE a task being killed still runs, as it would in Mesos,
 * whose agent never sends it TASK_KILLING: reconciliation answers RUNNING
 * until the task's end arrives. The agent sends KILLING only after RUNNING,
 * so RUNNING is the state such a framework last saw; the kill's reason and
 * message stay, telling it a kill is under way.
 */
function shownTo(fw: FrameworkRecord, status: TaskStatus): TaskStatus {
  return showsState(fw, status.state) ? status : { ...status, state: 'TASK_RUNNING' };
}
const REMOVED_FRAMEWORKS_KEPT = 50;

export class Cluster {
  readonly agents = new Map<string, AgentRecord>();
  readonly frameworks = new Map<string, FrameworkRecord>();
  readonly offers = new Map<string, OfferRecord>();
  readonly weights = new Map<string, number>();
  /** Recently removed frameworks, oldest first, kept for the operator's view of their tasks. */
  readonly removedFrameworkRecords: FrameworkRecord[] = [];
  removedAgents = new Set<string>();
  removedFrameworks = new Set<string>();
  /** Tasks sent to an agent that has not reported on them yet (see the launch timeout). */
  readonly staging = new Set<TaskRecord>();
  stopped = false;

  constructor(
    readonly clock: Clock,
    readonly log: Logger,
    readonly registry: Registry,
    /** Asks for an allocation round soon (coalesced); set by the offers room. */
    readonly scheduleAllocation: () => void,
  ) {}

  now(): number {
    return this.clock.now();
  }

  addTask(task: TaskRecord): void {
    const fw = this.frameworks.get(task.frameworkId)!;
    const agent = this.agents.get(task.agentId)!;
    fw.tasks.set(task.id, task);
    agent.tasks.set(task.id, task);
    agent.used = res.add(agent.used, task.resources);
    this.addAllocation(fw, task.role, task.resources);
  }

  /** A task that comes back (its agent returned with it): live again, so its stale ended record goes. */
  readoptTask(task: TaskRecord): void {
    const fw = this.frameworks.get(task.frameworkId)!;
    const stale = fw.completed.findLastIndex((t) => t.id === task.id);
    if (stale >= 0) fw.completed.splice(stale, 1);
    this.addTask(task);
  }

  /** Moves a task to a terminal (or unreachable) state, frees its resources and tells its framework. */
  endTask(task: TaskRecord, status: Partial<TaskStatus__Output> & Pick<TaskStatus, 'state'>, notify = true): void {
    const fw = this.frameworks.get(task.frameworkId);
    const agent = this.agents.get(task.agentId);
    task.status = {
      ...task.status, uuid: '', source: 'SOURCE_MASTER', exitCode: undefined, healthy: undefined,
      ...status, taskId: task.id, agentId: task.agentId, frameworkId: task.frameworkId, timestamp: status.timestamp ?? this.now() / 1000,
    };
    this.staging.delete(task);
    if (agent?.tasks.delete(task.id)) agent.used = res.subtract(agent.used, task.resources);
    if (fw?.tasks.delete(task.id)) {
      this.subtractAllocation(fw, task.role, task.resources);
      this.keepEnded(fw, task);
      if (notify) this.sendUpdate(fw, task.status);
    }
    this.scheduleAllocation();
  }

  /** Keeps an ended task for reconciliation and the operator's view (bounded). */
  keepEnded(fw: FrameworkRecord, task: TaskRecord): void {
    fw.completed.push(task);
    if (fw.completed.length > COMPLETED_TASKS_KEPT) fw.completed.shift();
  }

  /**
   * The record the master keeps of an ended task (live or removed
   * framework) that ran on `agentId`, if any: an agent's later report
   * about it replaces what the master assumed (UNREACHABLE, LOST).
   */
  endedTaskOn(agentId: string, frameworkId: string, taskId: string): TaskRecord | undefined {
    const fw = this.frameworks.get(frameworkId) ?? this.removedFrameworkRecords.findLast((f) => f.id === frameworkId);
    const t = fw?.completed.findLast((c) => c.id === taskId);
    return t?.agentId === agentId ? t : undefined;
  }

  /** An ended (or unreachable) task's record takes the real end its agent reports later. */
  correctEnded(task: TaskRecord, status: TaskStatus__Output): void {
    if (!isTerminal(status.state) || task.status.state === status.state) return;
    task.status = { ...status, uuid: '', taskId: task.id, agentId: task.agentId, frameworkId: task.frameworkId };
  }

  removeFramework(fw: FrameworkRecord): void {
    this.frameworks.delete(fw.id);
    this.removedFrameworks.add(fw.id);
    this.removedFrameworkRecords.push(fw);
    if (this.removedFrameworkRecords.length > REMOVED_FRAMEWORKS_KEPT) this.removedFrameworkRecords.shift();
  }

  droppedState(frameworkId: string): TaskState {
    return this.frameworks.get(frameworkId)?.capabilities.has('PARTITION_AWARE') ? 'TASK_DROPPED' : 'TASK_LOST';
  }

  addAllocation(fw: FrameworkRecord, role: string, r: res.Resources): void {
    fw.allocated.set(role, res.add(fw.allocated.get(role) ?? res.empty(), r));
  }

  subtractAllocation(fw: FrameworkRecord, role: string, r: res.Resources): void {
    const cur = fw.allocated.get(role);
    if (!cur) return;
    const left = res.subtract(cur, r);
    if (res.isEmpty(left)) fw.allocated.delete(role);
    else fw.allocated.set(role, left);
  }

  send(fw: FrameworkRecord, event: Event): void {
    if (!fw.link || this.stopped) return;
    fw.link.send(event);
  }

  /**
   * Sends `fw` a task's status as it may see it (`shownTo`). An agent's
   * update it may not see never comes here: `agents.ts` withholds it and
   * acknowledges it for the framework.
   */
  sendUpdate(fw: FrameworkRecord, status: TaskStatus): void {
    this.send(fw, { update: { status: { source: 'SOURCE_MASTER', timestamp: this.now() / 1000, ...shownTo(fw, status), frameworkId: fw.id } } });
  }

  /** Live and recently ended tasks, for the operator API. */
  *allTasks(): Iterable<TaskRecord> {
    for (const fw of this.removedFrameworkRecords) yield* fw.completed;
    for (const fw of this.frameworks.values()) {
      yield* fw.completed;
      yield* fw.tasks.values();
    }
    for (const agent of this.agents.values()) {
      for (const t of agent.tasks.values()) if (!this.frameworks.has(t.frameworkId)) yield t;
    }
  }

  findTask(taskId: string): TaskRecord | undefined {
    for (const fw of [...this.frameworks.values(), ...this.removedFrameworkRecords]) {
      const t = fw.tasks.get(taskId) ?? fw.completed.findLast((c) => c.id === taskId);
      if (t) return t;
    }
    return undefined;
  }
}
