/**
 * What each command shows: Operator responses turned into table rows, JSON
 * documents and summaries. Pure, so every view is unit-tested with literal
 * responses.
 */
import type {
  AgentSummary__Output,
  ClusterState__Output,
  FrameworkSummary__Output,
  RoleSummary__Output,
  ScalarResources__Output,
  TaskSummary__Output,
} from '../lib/proto';
import { TASK_STATES } from '../lib/proto';
import { UsageError } from './errors';
import { duration, formatTable, megabytes, num, truncate, usedOf } from './table';

/** Every task state name, in the proto's order. */
export { TASK_STATES };

/** `running`, `RUNNING`, `task_running` → `TASK_RUNNING`; UsageError listing the valid names otherwise. */
export function normalizeTaskState(input: string): string {
  const upper = input.trim().toUpperCase().replace(/-/g, '_');
  const full = upper.startsWith('TASK_') ? upper : `TASK_${upper}`;
  if (TASK_STATES.includes(full)) return full;
  const valid = TASK_STATES.map(shortState).map((s) => s.toLowerCase()).join(', ');
  throw new UsageError(`unknown task state "${input}"; valid states: ${valid} (or their TASK_* names)`);
}

/** `TASK_RUNNING` → `RUNNING`, for tables. */
export function shortState(state: string): string {
  return state.replace(/^TASK_/, '');
}

export interface Scalars {
  cpus: number;
  mem: number;
  disk: number;
  gpus: number;
}

export function scalars(s: ScalarResources__Output | null | undefined): Scalars {
  return { cpus: s?.cpus ?? 0, mem: s?.mem ?? 0, disk: s?.disk ?? 0, gpus: s?.gpus ?? 0 };
}

// ── status ─────────────────────────────────────────────────────────────

/** Seconds since the epoch; tolerates milliseconds. */
function epochSeconds(t: number): number {
  return t > 1e11 ? t / 1000 : t;
}

/** `mezz status`: a few aligned lines. `now` is seconds since the epoch. */
export function statusText(s: ClusterState__Output, now: number): string {
  const started = s.startedAt ? `, up ${duration(now - epochSeconds(s.startedAt))}` : '';
  const role = s.leader ? 'leader' : 'not the leader';
  const byState = Object.entries(s.tasksByState ?? {})
    .filter(([, n]) => n > 0)
    .sort(([a], [b]) => TASK_STATES.indexOf(a) - TASK_STATES.indexOf(b))
    .map(([state, n]) => `${n} ${shortState(state).toLowerCase()}`);
  const total = scalars(s.total);
  const used = scalars(s.used);
  const offered = scalars(s.offered);
  const res = (k: keyof Scalars, f: (x: number) => string) =>
    `${usedOf(used[k], total[k], f)} used, ${f(offered[k])} offered`;
  const lines: [string, string][] = [
    ['master', `${s.masterId || '?'} at ${s.address || '?'} (${role}), version ${s.version || '?'}${started}`],
    ...(s.cluster ? [['cluster', s.cluster] as [string, string]] : []),
    ['agents', `${s.agentsActive} active, ${s.agentsUnreachable} unreachable`],
    ['frameworks', `${s.frameworksActive} active, ${s.frameworksInactive} inactive`],
    ['tasks', byState.join(', ') || 'none'],
    ['cpus', res('cpus', num)],
    ['mem', res('mem', megabytes)],
    ['disk', res('disk', megabytes)],
    ['gpus', res('gpus', num)],
  ];
  return lines.map(([k, v]) => `${k.padEnd(11)}${v}`).join('\n');
}

// ── agents ─────────────────────────────────────────────────────────────

export const AGENT_HEADERS = ['ID', 'HOSTNAME', 'STATE', 'CPUS', 'MEM', 'DISK', 'GPUS', 'TASKS', 'ISOLATION'];

export function agentRow(a: AgentSummary__Output): string[] {
  const total = scalars(a.resources);
  const used = scalars(a.used);
  return [
    a.id, a.hostname, a.state,
    usedOf(used.cpus, total.cpus), usedOf(used.mem, total.mem, megabytes), usedOf(used.disk, total.disk, megabytes),
    usedOf(used.gpus, total.gpus), String(a.tasks), a.isolation.join(',') || '-',
  ];
}

export function agentJson(a: AgentSummary__Output) {
  return {
    id: a.id,
    hostname: a.hostname,
    address: a.address,
    state: a.state,
    resources: scalars(a.resources),
    used: scalars(a.used),
    offered: scalars(a.offered),
    attributes: Object.fromEntries(a.attributes.map((x) => [x.name, x.text])),
    ports: a.ports,
    tasks: a.tasks,
    isolation: a.isolation,
    registeredAt: a.registeredAt,
  };
}

// ── frameworks ─────────────────────────────────────────────────────────

export const FRAMEWORK_HEADERS = ['ID', 'NAME', 'ROLES', 'STATE', 'TASKS', 'CPUS', 'MEM', 'GPUS', 'FAILOVER', 'URL'];

export function frameworkRow(f: FrameworkSummary__Output): string[] {
  const used = scalars(f.used);
  return [
    f.id, f.name, f.roles.join(',') || '*', f.suppressed ? `${f.state} (suppressed)` : f.state,
    String(f.tasks), num(used.cpus), megabytes(used.mem), num(used.gpus), duration(f.failoverTimeout), f.webuiUrl || '-',
  ];
}

export function frameworkJson(f: FrameworkSummary__Output) {
  return {
    id: f.id,
    name: f.name,
    roles: f.roles,
    state: f.state,
    failoverTimeout: f.failoverTimeout,
    used: scalars(f.used),
    offered: scalars(f.offered),
    tasks: f.tasks,
    suppressed: f.suppressed,
    capabilities: f.capabilities,
    registeredAt: f.registeredAt,
    webuiUrl: f.webuiUrl,
    principal: f.principal,
  };
}

// ── tasks ──────────────────────────────────────────────────────────────

export const TASK_HEADERS = ['ID', 'NAME', 'FRAMEWORK', 'AGENT', 'STATE', 'EXIT', 'CPUS', 'MEM', 'MESSAGE'];

export function taskRow(t: TaskSummary__Output): string[] {
  const r = scalars(t.resources);
  return [
    t.id, t.name || '-', t.frameworkId, t.agentId || '-', shortState(t.state),
    t.exitCode === undefined || t.exitCode === null ? '-' : String(t.exitCode),
    num(r.cpus), megabytes(r.mem), truncate(t.message, 60) || '-',
  ];
}

export function taskJson(t: TaskSummary__Output) {
  return {
    id: t.id,
    name: t.name,
    state: t.state,
    agentId: t.agentId,
    frameworkId: t.frameworkId,
    exitCode: t.exitCode ?? null,
    message: t.message,
    resources: scalars(t.resources),
    role: t.role,
    command: t.command,
    updatedAt: t.updatedAt,
  };
}

/** The filters of `mezz tasks`, applied again here in case a master ignores one. */
export interface TaskFilter {
  frameworkId?: string;
  state?: string;
  agentId?: string;
}

export function filterTasks(tasks: readonly TaskSummary__Output[], f: TaskFilter): TaskSummary__Output[] {
  return tasks.filter((t) =>
    (!f.frameworkId || t.frameworkId === f.frameworkId) && (!f.state || t.state === f.state) && (!f.agentId || t.agentId === f.agentId));
}

// ── roles ──────────────────────────────────────────────────────────────

export const ROLE_HEADERS = ['ROLE', 'WEIGHT', 'SHARE', 'CPUS', 'MEM', 'FRAMEWORKS'];

export function roleRow(r: RoleSummary__Output): string[] {
  const a = scalars(r.allocated);
  return [r.name, num(r.weight), `${num(r.share * 100)}%`, num(a.cpus), megabytes(a.mem), String(r.frameworks.length)];
}

export function roleJson(r: RoleSummary__Output) {
  return { name: r.name, weight: r.weight, share: r.share, allocated: scalars(r.allocated), frameworks: r.frameworks };
}

/** A table, or `none` in words when there are no rows. */
export function tableOrNone(headers: readonly string[], rows: readonly string[][], what: string): string {
  return rows.length ? formatTable(headers, rows) : `no ${what}`;
}

/** `mezz weights set`'s WEIGHT: a positive, finite number. */
export function parseWeight(text: string): number {
  const w = Number(text);
  if (text.trim() === '' || !Number.isFinite(w) || w <= 0) {
    throw new UsageError(`weight must be a positive number, e.g. 2 or 0.5; got "${text}"`);
  }
  return w;
}

// ── kill, teardown ─────────────────────────────────────────────────────

/** `mezz kill`: the task the master was asked to kill, and where it runs. */
export function killJson(taskId: string, r: { frameworkId: string; agentId: string }) {
  return { taskId, frameworkId: r.frameworkId, agentId: r.agentId };
}

export function killText(k: ReturnType<typeof killJson>): string {
  return `${formatTable(['TASK', 'FRAMEWORK', 'AGENT'], [[k.taskId, k.frameworkId, k.agentId]])}\n\n` +
    `kill sent: the task ends TASK_KILLED once its agent has stopped it (mezz tasks --state killed)`;
}

/** `mezz teardown`: the framework removed and how many of its tasks are being killed. */
export function teardownJson(frameworkId: string, r: { tasks: number }) {
  return { frameworkId, tasksKilled: r.tasks };
}

export function teardownText(t: ReturnType<typeof teardownJson>): string {
  return formatTable(['FRAMEWORK', 'TASKS KILLED'], [[t.frameworkId, String(t.tasksKilled)]]);
}
