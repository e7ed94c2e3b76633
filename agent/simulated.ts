/**
 * Simulated agents: many agents in one process, each with its own
 * AgentGateway.Connect stream over real gRPC, its own id, resources and
 * attributes, that answer the master as the real agent does but run
 * nothing. For scale tests and benchmarks (`mezz-agent --simulate N`).
 *
 *   register(id, resources, tasks) ──▶ master ──registered──▶ ping every interval
 *   run_tasks ──▶ STARTING ──▶ RUNNING ──(task duration; 0: until killed)──▶ FINISHED
 *   kill_task ──▶ KILLED            shutdown_framework ──▶ KILLED (each task)
 *   every update ─▶ StatusUpdateQueue: resent on (re)registration and on the
 *                   retry tick until acknowledged; terminal + acked ─▶ forget
 *   stream lost ──▶ the real agent's connection core (master-link.ts) and
 *                   leader following (lib/leader-follower.ts): the leader a
 *                   standby names, else the next master after a backoff
 *                   ──▶ re-register with tasks
 *
 * The connection (registration, pings, silence watchdog, leader following,
 * reconnect) is the real agent's own, so that the failover bench measures
 * the policy production runs. What differs from the real agent: no files
 * server (port 0), no sandbox, no process, and KILLED follows a kill at
 * once (no KILLING, no grace). A registration may go unanswered for 15 s
 * (thousands of agents registering at one instant queue up at the master),
 * and the agents of a group share HTTP/2 connections when asked to.
 * A task's labels may override the simulation: `sim.duration` (e.g. "2s",
 * "0" for until killed) and `sim.exit-code` (non-zero: TASK_FAILED).
 *
 * Agents share the process's event loop, so timers are shared where one
 * per agent would cost: one silence check and one retry tick for the
 * group, one ping interval per registered agent.
 */
import { type ClientSecurity, makeClient } from '../lib/auth';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseDuration } from '../lib/duration';
import { errorMessage } from '../lib/errors';
import type { BackoffOptions } from '../lib/backoff';
import { newUuid, newId } from '../lib/ids';
import { LeaderFollower } from '../lib/leader-follower';
import { createLogger, type Logger } from '../lib/log';
import {
  isTerminal, mezzProto,
  type AgentGatewayClient, type AgentTask, type Attribute, type FrameworkInfo__Output,
  type MasterMessage__Output, type TaskInfo__Output, type TaskState, type TaskStatus,
} from '../lib/proto';
import { make as makeResources, toProto, type Resources } from '../lib/resources';
import { VERSION } from '../lib/version';
import { writeJsonAtomic } from './executor/checkpoint';
import { MasterLink, type Registered } from './master-link';
import { capStatusMessage } from '../lib/limits';
import { StatusUpdateQueue } from './status-updates';
import { Reason } from './task-status';
import { taskProblems } from './task-validate';

/** cpus:4 mem:4096 disk:10000 ports:[31000-32000], the resources of each agent unless overridden. */
export const SIMULATED_RESOURCES: Resources = makeResources({ cpus: 4, mem: 4096, disk: 10_000, ports: [{ begin: 31000, end: 32000 }] });

export interface SimulatedAgentsOptions {
  /** Master addresses, `host:port`; each agent tries them in turn and follows the leader a standby names. */
  masters: string[];
  count: number;
  /** Overrides of SIMULATED_RESOURCES, key by key; the same for every agent. */
  resources?: Partial<Resources>;
  /** Extra attributes; every agent also has `sim:true` and `index:<i>`. */
  attributes?: Attribute[] | ((index: number) => Attribute[]);
  /** How long a task runs before FINISHED; 0 keeps it running until killed. Default 5000. */
  taskDurationMs?: number;
  /** Delay between STARTING and RUNNING. Default 0 (both at once). */
  startDelayMs?: number;
  /** Hostname of agent i is `<prefix>-<i>`. Default `sim`. */
  hostnamePrefix?: string;
  /** Index of the first agent (several simulating processes get distinct names). Default 0. */
  firstIndex?: number;
  /** Where the agents' ids are kept (`simulated-agents.json`), so a restarted process re-registers as the same agents; default: in memory only. */
  stateDir?: string;
  /** Ping interval until the master sets one. Default 1000. */
  pingIntervalMs?: number;
  /** Unacknowledged updates are resent after this long. Default 2000. */
  statusRetryMs?: number;
  /** Reconnect backoff, each delay jittered to 50–100 %: from initialMs, doubling up to maxMs. Default 100 → 2000. */
  backoff?: { initialMs?: number; maxMs?: number };
  /**
   * HTTP/2 connections per master that the agents' streams share (agent i
   * uses connection i mod N). Default `count`: each agent its own
   * connection, as real agents have.
   */
  connections?: number;
  /** The agents' credential (token) and TLS material. Default: none, plaintext. */
  security?: ClientSecurity;
  logger?: Logger;
}

/** A task as a simulated agent tracks it. */
export interface SimulatedTaskView {
  frameworkId: string;
  taskId: string;
  state: TaskState;
}

export interface SimulatedAgents {
  readonly agents: readonly SimulatedAgent[];
  /** Agents registered now (with the master `masterId`, when given). */
  registered(masterId?: string): number;
  /** Resolves once `count` agents (default all) are registered (with `masterId`, when given); rejects after `timeoutMs` (default 60 s). */
  waitRegistered(opts?: { count?: number; masterId?: string; timeoutMs?: number }): Promise<void>;
  /** Tasks tracked over all agents (running ones and ended ones whose last update is unacknowledged). */
  taskCount(): number;
  /** Closes every stream and connection; the simulated tasks vanish. Idempotent. */
  stop(): Promise<void>;
}

/** What the agents of one group share: options, connections, the clock of the group's ticks. */
interface Group {
  masters: string[];
  resources: Resources;
  taskDurationMs: number;
  startDelayMs: number;
  pingIntervalMs: number;
  statusRetryMs: number;
  backoff: Required<BackoffOptions>;
  log: Logger;
  client(master: string, slot: number): AgentGatewayClient;
  idChanged(): void;
  lost(agent: SimulatedAgent, master: string, why: string, wasRegistered: boolean): void;
}

interface SimTask {
  key: string;
  frameworkId: string;
  task: TaskInfo__Output;
  latest: TaskStatus;
  timer?: NodeJS.Timeout;
}

/**
 * How long a registration may go unanswered. Longer than the real agent's
 * (three ping intervals): thousands of agents registering at one instant,
 * as only a simulation does, queue up at the master, and giving up early
 * would only add reconnections to the queue.
 */
const REGISTER_TIMEOUT_MS = 15_000;

export class SimulatedAgent {
  readonly hostname: string;
  readonly attributes: Attribute[];
  /** The id the master assigned; empty until the first registration. */
  id: string;
  /** The master that registered this agent last (its id), and when (ms since the epoch). */
  masterId = '';
  registeredAt = 0;
  /** Registrations so far, first included. */
  registrations = 0;

  private readonly tasksByKey = new Map<string, SimTask>();
  private readonly updates: StatusUpdateQueue;
  private readonly link: MasterLink;

  constructor(readonly index: number, private readonly g: Group, id: string, hostname: string, attributes: Attribute[], public agentToken = '') {
    this.id = id;
    this.hostname = hostname;
    this.attributes = attributes;
    this.link = new MasterLink({
      follower: new LeaderFollower(g.masters, { backoff: g.backoff }),
      open: (master) => ({ call: g.client(master, index).Connect() }),
      registration: () => ({ info: this.info(), tasks: this.knownTasks(), agentToken: this.agentToken }),
      pingIntervalMs: g.pingIntervalMs,
      registerTimeoutMs: REGISTER_TIMEOUT_MS,
      silenceTimer: false,
      onRegistered: (r, master) => this.onRegistered(r, master),
      onMessage: (m) => this.onMessage(m),
      onDisconnected: (why, master, wasRegistered) => g.lost(this, master, why, wasRegistered),
    });
    this.updates = new StatusUpdateQueue((s) => this.sendStatus(s), g.statusRetryMs);
  }

  /** True while a stream is registered with a master. */
  get connected(): boolean {
    return this.link.registered;
  }

  /** The address of the master this agent talks to (or tries). */
  get master(): string {
    return this.link.master;
  }

  get taskCount(): number {
    return this.tasksByKey.size;
  }

  tasks(): SimulatedTaskView[] {
    return [...this.tasksByKey.values()].map((t) => ({ frameworkId: t.frameworkId, taskId: t.task.taskId, state: t.latest.state as TaskState }));
  }

  /** Unacknowledged status updates, oldest first. */
  pendingUpdates(): TaskStatus[] {
    return this.updates.pending();
  }

  // ---------------------------------------------------------------- connection

  /** @internal */
  connect(): void {
    this.link.start();
  }

  /** @internal The group's silence check (master-link.ts). */
  checkSilence(now: number): void {
    this.link.checkSilence(now);
  }

  /** @internal The group's retry tick. */
  retryUpdates(): void {
    if (this.link.registered) this.updates.retry();
  }

  /** @internal */
  stop(): void {
    this.link.stop();
    for (const t of this.tasksByKey.values()) clearTimeout(t.timer);
  }

  private info() {
    return {
      id: this.id, hostname: this.hostname, port: 0, resources: toProto(this.g.resources), attributes: this.attributes,
      version: VERSION, isolation: ['simulated'],
    };
  }

  private knownTasks(): AgentTask[] {
    return [...this.tasksByKey.values()].map((t) => ({ frameworkId: t.frameworkId, task: t.task, status: { ...t.latest, agentId: this.id } }));
  }

  private sendStatus(status: TaskStatus): boolean {
    return this.link.write({ statusUpdate: { status: { ...status, agentId: this.id } } });
  }

  // ---------------------------------------------------------------- master messages

  private onMessage(m: MasterMessage__Output): void {
    try {
      switch (m.message) {
        case 'runTasks': return this.onRunTasks(m.runTasks!.framework, m.runTasks!.tasks);
        case 'killTask': return this.onKillTask(m.killTask!.frameworkId, m.killTask!.taskId, m.killTask!.reason);
        case 'acknowledge': return this.onAcknowledge(m.acknowledge!.taskId, m.acknowledge!.uuid);
        case 'shutdownFramework': return this.onShutdownFramework(m.shutdownFramework!.frameworkId);
        case 'frameworkMessage': return;
        case 'shutdown': return this.onShutdown(m.shutdown!.reason);
        default: this.g.log.warn(`simulated agent ${this.index}: ignoring unknown message from master: ${m.message ?? 'empty'}`);
      }
    } catch (err) {
      this.g.log.error(`simulated agent ${this.index}: failed to handle ${m.message} from master: ${errorMessage(err)}`);
    }
  }

  private onRegistered(r: Registered, master: string): void {
    if (r.agentId !== this.id || r.agentToken) {
      this.id = r.agentId;
      if (r.agentToken) this.agentToken = r.agentToken;
      this.g.idChanged();
    }
    this.masterId = r.masterId;
    this.registeredAt = Date.now();
    this.registrations++;
    this.g.log.debug(`simulated agent ${this.index} registered with master ${master} as ${this.id}`);
    this.updates.resendAll();
  }

  private onRunTasks(framework: FrameworkInfo__Output | null, tasks: TaskInfo__Output[]): void {
    const frameworkId = framework?.id ?? '';
    for (const task of tasks) this.launch(frameworkId, task);
  }

  private launch(frameworkId: string, task: TaskInfo__Output): void {
    const key = taskKey(frameworkId, task.taskId);
    if (this.tasksByKey.has(key)) return; // a resent run_tasks must not start the task twice
    const t: SimTask = {
      key, frameworkId, task,
      latest: { taskId: task.taskId, frameworkId, agentId: this.id, state: 'TASK_STAGING', source: 'SOURCE_AGENT', uuid: '', timestamp: Date.now() / 1000 },
    };
    this.tasksByKey.set(key, t);
    const problems = taskProblems(frameworkId, task);
    if (problems.length) return this.update(t, 'TASK_ERROR', Reason.TASK_INVALID, problems.join('; '), 'SOURCE_AGENT');
    this.update(t, 'TASK_STARTING', Reason.SANDBOX_READY, 'simulated sandbox');
    if (this.g.startDelayMs > 0) t.timer = setTimeout(() => this.run(t), this.g.startDelayMs);
    else this.run(t);
  }

  private run(t: SimTask): void {
    t.timer = undefined;
    this.update(t, 'TASK_RUNNING', Reason.COMMAND_STARTED, 'simulated command started');
    const labels = t.task.labels ?? {};
    let duration = this.g.taskDurationMs;
    if (labels['sim.duration'] !== undefined) {
      try {
        duration = parseDuration(labels['sim.duration']) * 1000;
      } catch {
        /* keep the group's duration */
      }
    }
    if (duration > 0) t.timer = setTimeout(() => this.finish(t, Number(labels['sim.exit-code'] ?? 0) || 0), duration);
  }

  private finish(t: SimTask, exitCode: number): void {
    t.timer = undefined;
    this.update(t, exitCode === 0 ? 'TASK_FINISHED' : 'TASK_FAILED', Reason.COMMAND_EXITED, `command exited with status ${exitCode}`, 'SOURCE_EXECUTOR', exitCode);
  }

  private onKillTask(frameworkId: string, taskId: string, why = ''): void {
    const t = this.tasksByKey.get(taskKey(frameworkId, taskId));
    if (!t) {
      // As the real agent: a task it does not know is LOST, and that update too waits for its acknowledgement.
      this.updates.add(`lost\u0000${frameworkId}\u0000${taskId}\u0000${newUuid()}`,
        this.status(frameworkId, taskId, 'TASK_LOST', Reason.TASK_UNKNOWN, `task ${taskId} is not known on agent ${this.id}`, 'SOURCE_AGENT'));
      return;
    }
    if (isTerminal(t.latest.state as string)) {
      this.sendStatus(t.latest);
      return;
    }
    this.kill(t, Reason.TASK_KILLED, why);
  }

  private kill(t: SimTask, reason: string, why = ''): void {
    if (isTerminal(t.latest.state as string)) return;
    clearTimeout(t.timer);
    t.timer = undefined;
    this.update(t, 'TASK_KILLED', reason, why ? `${capStatusMessage(why)}; killed (simulated)` : 'killed (simulated)');
  }

  private onAcknowledge(taskId: string, uuid: string): void {
    const key = this.updates.acknowledge(taskId, uuid);
    if (key === undefined) return;
    const t = this.tasksByKey.get(key);
    if (t && isTerminal(t.latest.state as string) && t.latest.uuid === uuid) this.forget(t);
  }

  private onShutdownFramework(frameworkId: string): void {
    for (const t of [...this.tasksByKey.values()]) if (t.frameworkId === frameworkId) this.kill(t, Reason.FRAMEWORK_REMOVED);
  }

  /** The master removed this agent: drop every task without a word, forget the id, register anew. */
  private onShutdown(reason: string): void {
    this.g.log.warn(`simulated agent ${this.index} (${this.id}) shut down by the master${reason ? `: ${reason}` : ''}; registering anew`);
    for (const t of this.tasksByKey.values()) clearTimeout(t.timer);
    this.tasksByKey.clear();
    this.updates.clear();
    this.id = newId('agent');
    this.agentToken = '';
    this.g.idChanged();
    this.link.start(); // drops the old stream first

  }

  // ---------------------------------------------------------------- tasks

  private status(frameworkId: string, taskId: string, state: TaskState, reason: string, message: string, source: 'SOURCE_AGENT' | 'SOURCE_EXECUTOR', exitCode?: number): TaskStatus {
    const s: TaskStatus = {
      taskId, frameworkId, agentId: this.id, state, message, reason, source,
      uuid: newUuid(), timestamp: Date.now() / 1000,
    };
    if (exitCode !== undefined) s.exitCode = exitCode;
    return s;
  }

  private update(t: SimTask, state: TaskState, reason: string, message: string, source: 'SOURCE_AGENT' | 'SOURCE_EXECUTOR' = 'SOURCE_EXECUTOR', exitCode?: number): void {
    const s = this.status(t.frameworkId, t.task.taskId, state, reason, message, source, exitCode);
    t.latest = s;
    this.updates.add(t.key, s);
  }

  private forget(t: SimTask): void {
    if (this.tasksByKey.get(t.key) !== t) return;
    clearTimeout(t.timer);
    this.tasksByKey.delete(t.key);
    this.updates.drop(t.key);
  }
}

/** Task ids are unique within a framework; NUL appears in no valid id. */
function taskKey(frameworkId: string, taskId: string): string {
  return `${frameworkId}\u0000${taskId}`;
}

const STATE_FILE = 'simulated-agents.json';

/** Each agent's id and the token issued with it, by index. */
interface SavedIds {
  ids: Record<string, string>;
  tokens: Record<string, string>;
}

async function loadIds(stateDir: string | undefined, log: Logger): Promise<SavedIds> {
  const none = { ids: {}, tokens: {} };
  if (!stateDir) return none;
  const map = (v: unknown): Record<string, string> => (v && typeof v === 'object' ? (v as Record<string, string>) : {});
  try {
    const saved = JSON.parse(await readFile(join(stateDir, STATE_FILE), 'utf8')) as { ids?: unknown; tokens?: unknown };
    return { ids: map(saved.ids), tokens: map(saved.tokens) };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') log.warn(`ignoring unreadable ${STATE_FILE}: ${errorMessage(err)}`);
    return none;
  }
}

/**
 * Starts `count` simulated agents connecting to `masters` and resolves at
 * once (registration goes on in the background: see `waitRegistered`).
 * Throws only for bad options or an unusable `stateDir`.
 */
export async function startSimulatedAgents(opts: SimulatedAgentsOptions): Promise<SimulatedAgents> {
  if (!opts.masters.length) throw new Error('at least one master address is required');
  if (!(Number.isInteger(opts.count) && opts.count >= 1)) throw new Error(`count must be a whole number ≥ 1, got ${opts.count}`);
  const log = opts.logger ?? createLogger('agent-sim');
  const first = opts.firstIndex ?? 0;
  const prefix = opts.hostnamePrefix ?? 'sim';
  const connections = Math.max(1, Math.min(opts.connections ?? opts.count, opts.count));
  if (opts.stateDir) await mkdir(opts.stateDir, { recursive: true });
  const savedIds = await loadIds(opts.stateDir, log);

  const clients = new Map<string, AgentGatewayClient>();
  const Gateway = mezzProto().AgentGateway;
  let saving: Promise<void> | undefined;
  let saveAgain = false;
  const save = (): void => {
    if (!opts.stateDir) return;
    if (saving) {
      saveAgain = true;
      return;
    }
    const ids: Record<string, string> = {};
    const tokens: Record<string, string> = {};
    for (const a of agents) {
      if (a.id) ids[String(a.index)] = a.id;
      if (a.agentToken) tokens[String(a.index)] = a.agentToken;
    }
    saving = writeJsonAtomic(join(opts.stateDir, STATE_FILE), { ids, tokens })
      .catch((err) => log.error(`cannot save simulated agents' ids: ${errorMessage(err)}`))
      .then(() => {
        saving = undefined;
        if (saveAgain) {
          saveAgain = false;
          save();
        }
      });
  };

  // Disconnections come in waves (a master dies: every agent at once); report each wave once.
  let wave: { count: number; registered: number; master: string; why: string; timer: NodeJS.Timeout } | undefined;
  const g: Group = {
    masters: [...opts.masters],
    resources: makeResources({ ...SIMULATED_RESOURCES, ...opts.resources }),
    taskDurationMs: opts.taskDurationMs ?? 5000,
    startDelayMs: opts.startDelayMs ?? 0,
    pingIntervalMs: opts.pingIntervalMs ?? 1000,
    statusRetryMs: opts.statusRetryMs ?? 2000,
    backoff: { initialMs: opts.backoff?.initialMs ?? 100, maxMs: opts.backoff?.maxMs ?? 2000 },
    log,
    client(master, index) {
      const slot = index % connections;
      const key = `${master}#${slot}`;
      let c = clients.get(key);
      if (!c) {
        c = makeClient(Gateway, master, opts.security, {
          'grpc.initial_reconnect_backoff_ms': g.backoff.initialMs,
          'grpc.max_reconnect_backoff_ms': g.backoff.maxMs,
          // A pool of its own per channel: one connection each, and no scan of a
          // global pool that grows with every channel (quadratic in the agents).
          'grpc.use_local_subchannel_pool': 1,
          // The agent resends what is not acknowledged itself; grpc-js's own retry layer would only copy every message.
          'grpc.enable_retries': 0,
        });
        clients.set(key, c);
      }
      return c;
    },
    idChanged: save,
    lost(agent, master, why, wasRegistered) {
      log.debug(`simulated agent ${agent.index}: ${wasRegistered ? 'connection to' : 'cannot register with'} master ${master}: ${why}`);
      if (wave) {
        wave.count++;
        if (wasRegistered) wave.registered++;
        return;
      }
      wave = {
        count: 1, registered: wasRegistered ? 1 : 0, master, why,
        timer: setTimeout(() => {
          const w = wave!;
          wave = undefined;
          log.warn(`${w.count} simulated agent connection(s) ended (${w.registered} registered), first to ${w.master}: ${w.why}; reconnecting`);
        }, 1000),
      };
      wave.timer.unref();
    },
  };

  let stopped = false;
  const agents: SimulatedAgent[] = [];
  for (let n = 0; n < opts.count; n++) {
    const index = first + n;
    const extra = typeof opts.attributes === 'function' ? opts.attributes(index) : opts.attributes ?? [];
    const attributes: Attribute[] = [{ name: 'sim', text: 'true' }, { name: 'index', text: String(index) }, ...extra.filter((a) => a.name !== 'sim' && a.name !== 'index')];
    // Like the real agent, each picks its id before it first registers, so a retried registration is the same agent.
    const saved = savedIds.ids[String(index)];
    agents.push(new SimulatedAgent(index, g, saved ?? newId('agent'), `${prefix}-${index}`, attributes, saved ? savedIds.tokens[String(index)] ?? '' : ''));
  }

  const silence = setInterval(() => {
    const now = Date.now();
    for (const a of agents) a.checkSilence(now);
  }, Math.max(50, Math.floor(g.pingIntervalMs / 2)));
  silence.unref();
  const retry = setInterval(() => {
    for (const a of agents) a.retryUpdates();
  }, g.statusRetryMs);
  retry.unref();

  // Connect in slices, one turn of the event loop each, so that thousands of
  // registrations do not stall the process (and its pings) in one burst.
  const SLICE = 200;
  let started = 0;
  const startSlice = (): void => {
    if (stopped) return;
    for (const end = Math.min(agents.length, started + SLICE); started < end; started++) agents[started]!.connect();
    if (started < agents.length) setImmediate(startSlice);
  };
  startSlice();

  const registered = (masterId?: string): number => {
    let n = 0;
    for (const a of agents) if (a.connected && (!masterId || a.masterId === masterId)) n++;
    return n;
  };

  return {
    agents,
    registered,
    taskCount: () => agents.reduce((n, a) => n + a.taskCount, 0),
    async waitRegistered(w = {}) {
      const want = w.count ?? agents.length;
      const deadline = Date.now() + (w.timeoutMs ?? 60_000);
      while (registered(w.masterId) < want) {
        if (Date.now() > deadline) {
          throw new Error(`only ${registered(w.masterId)} of ${want} simulated agents registered${w.masterId ? ` with master ${w.masterId}` : ''} within ${w.timeoutMs ?? 60_000} ms`);
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(silence);
      clearInterval(retry);
      if (wave) clearTimeout(wave.timer);
      for (const a of agents) a.stop();
      for (const c of clients.values()) c.close();
      await saving;
    },
  };
}
