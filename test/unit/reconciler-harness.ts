/**
 * A small in-process cluster for the reconciler, after Nomad's
 * scheduler/tests Harness: fake agents with resources, hostnames and
 * attributes; a round builds one offer per agent from what its live tasks
 * leave free, runs `reconcile` with the harness clock, and applies the plan
 * (records stored, kills ended at once). Tests then report updates
 * (RUNNING, FAILED, LOST …) and move the clock themselves.
 */
import type { Offer, TaskInfo, TaskState } from '../../lib/proto';
import { fromProto, make, subtract, toProto } from '../../lib/resources';
import { type Plan, type TaskGroup, type TaskRecord, reconcile } from '../../frameworks/foundation';

export interface FakeAgent {
  name: string;
  cpus: number;
  mem: number;
  ports?: [number, number];
  attrs?: Record<string, string>;
  /** The offers' allocation role; `*` when left out, none (`''`) when empty. */
  role?: string;
}

const LIVE = new Set(['TASK_STAGING', 'TASK_STARTING', 'TASK_RUNNING', 'TASK_KILLING', 'TASK_UNREACHABLE']);

export class Sim {
  /** The clock, ms; starts at a round number so that expected times read easily. */
  now = 1_000_000;
  readonly records = new Map<string, TaskRecord>();
  readonly infos = new Map<string, TaskInfo>();
  private offerSeq = 0;

  constructor(readonly agents: FakeAgent[], public groups: TaskGroup[]) {}

  /** One offer per agent: its resources less those of its live tasks. */
  offers(): Offer[] {
    return this.agents.map((a) => {
      let free = make({ cpus: a.cpus, mem: a.mem, ports: a.ports ? [{ begin: a.ports[0], end: a.ports[1] }] : [] });
      for (const r of this.records.values()) {
        if (r.agentId === `agent-${a.name}` && LIVE.has(r.state)) free = subtract(free, fromProto(this.infos.get(r.taskId)!.resources ?? []));
      }
      return {
        id: `offer-${++this.offerSeq}`, agentId: `agent-${a.name}`, hostname: a.name, allocationRole: a.role ?? '*',
        resources: toProto(free), attributes: Object.entries(a.attrs ?? {}).map(([name, text]) => ({ name, text })),
      };
    });
  }

  tasks(): TaskRecord[] {
    return [...this.records.values()];
  }

  /** Runs one round at `now` and applies it: launched tasks are STAGING, killed ones KILLED. */
  round(): Plan {
    const plan = reconcile({ groups: this.groups, tasks: this.tasks(), offers: this.offers(), now: this.now });
    for (const l of plan.launches) {
      l.records.forEach((r, i) => {
        if (this.records.has(r.taskId)) throw new Error(`task id ${r.taskId} launched twice`);
        this.records.set(r.taskId, r);
        this.infos.set(r.taskId, l.tasks[i]!);
      });
    }
    for (const k of plan.kills) this.report(k.taskId, 'TASK_KILLED');
    return plan;
  }

  /** An update for one task, at `now`. */
  report(taskId: string, state: TaskState): void {
    const r = this.records.get(taskId);
    if (!r) throw new Error(`no task ${taskId}`);
    const startedAt = r.startedAt ?? (state === 'TASK_RUNNING' ? this.now : undefined);
    this.records.set(taskId, { ...r, state, updatedAt: this.now, ...(startedAt !== undefined ? { startedAt } : {}) });
  }

  /** Every STAGING task reports RUNNING. */
  startAll(): void {
    for (const r of this.tasks()) if (r.state === 'TASK_STAGING') this.report(r.taskId, 'TASK_RUNNING');
  }

  live(): TaskRecord[] {
    return this.tasks().filter((r) => LIVE.has(r.state));
  }

  launchedIds(plan: Plan): string[] {
    return plan.launches.flatMap((l) => l.records.map((r) => r.taskId));
  }
}

/** A service group of `count` small tasks; override anything. */
export function service(over: Partial<TaskGroup> = {}): TaskGroup {
  return { id: '/web', version: 'v1', count: 1, restart: 'service', resources: { cpus: 1, mem: 128 }, task: { command: 'serve' }, ...over };
}

/** A batch group of `count` small tasks; override anything. */
export function batch(over: Partial<TaskGroup> = {}): TaskGroup {
  return { id: 'job-run-1', version: 'v1', count: 1, restart: 'batch', resources: { cpus: 1, mem: 128 }, task: { command: 'work' }, ...over };
}
