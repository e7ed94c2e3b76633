/**
 * The agent: registers this host's resources with the leading master over
 * one bidirectional stream (AgentGateway.Connect), runs the tasks the master
 * sends through an executor, reports their status updates at least once,
 * and serves their sandboxes (AgentFiles) on its own port.
 *
 * One Agent object owns: the files server, the master link (master-link.ts:
 * leader following, reconnect, ping, watchdog; shared with the simulated
 * agents), the task table, the status update queue and the executor.
 * Tasks outlive the agent: stop() closes the connection and the server and
 * leaves every task running.
 */
import * as grpc from '@grpc/grpc-js';
import { EventEmitter } from 'node:events';
import { rm } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { errorMessage } from '../lib/errors';
import { type ClientSecurity, makeClient, serverCredentials } from '../lib/auth';
import { bindServer, FILES_SERVER_OPTIONS } from '../lib/grpc';
import { newId, newUuid } from '../lib/ids';
import { DEFAULT_FOLLOW_BACKOFF, LeaderFollower } from '../lib/leader-follower';
import { createLogger, type Logger } from '../lib/log';
import {
  isTerminal, mezzProto,
  type AgentInfo, type AgentTask, type Attribute, type CheckStatusInfo, type FrameworkInfo__Output,
  type MasterMessage__Output, type TaskInfo__Output, type TaskState, type TaskStatus,
} from '../lib/proto';
import { format as formatResources, fromProto, portList, toProto, type Resources } from '../lib/resources';
import { taskHealthChecks } from '../lib/health-check-spec';
import { resolveCheck } from '../lib/check-spec';
import { VERSION } from '../lib/version';
import { UnknownTaskError } from './errors';
import { createExecutor } from './executor/executor-cgroups';
import { DEFAULT_PIDS_MAX, type IsolationMode } from './executor/isolator';
import type { Executor, Limitation, TaskExit } from './executor/executor';
import { taskEnvironment } from './executor/environment';
import { fetchUris } from './fetcher';
import { TaskHealthChecks, taskChecks } from './health-check-task';
import { probeFor, type ProbeContext } from './health-check';
import { TaskCheck } from './task-check';
import { cleanupTasks, killGroup, killUntracked, liveGroupsOf, readRecoveredTasks, type RecoverMode, type RecoveredTask } from './recovery';
import { filesHandlers } from './files-service';
import type { GpuInfo } from './gpu-detect';
import { detectResources } from './resources-detect';
import { appendToSandbox, describeFsError, Sandboxes } from './sandbox';
import { DEFAULT_GC_DISK_HEADROOM, DEFAULT_SANDBOX_GC_DELAY_MS, SandboxGc } from './sandbox-gc';
import { DEFAULT_LOG_MAX_BYTES, DEFAULT_LOG_MAX_FILES, LogRotator } from './log-rotation';
import { DEFAULT_DISK_CHECK_INTERVAL_MS, DiskWatch } from './disk-watch';
import { DEFAULT_LAUNCH_SLOTS, LaunchSlots } from './launch-slots';
import { MasterLink, type AgentStream, type Disconnection, type Registered } from './master-link';
import { StatusUpdateQueue } from './status-updates';
import { StatusJournal } from './status-updates-journal';
import { capStatusMessage } from '../lib/limits';
import { outcomeOf, Reason, type Outcome } from './task-status';
import { taskProblems } from './task-validate';
import { prepareWorkDir, loadIdentity, saveIdentity } from './work-dir';
import { cachedLookup, checkSetpriv, chooseTaskUser, ownUser, type TaskUser, type UserPolicy } from './users';

export interface AgentOptions {
  /** Master addresses, `host:port`; the agent tries them in turn and follows the leader a standby names (lib/leader-follower.ts). */
  masters: string[];
  /** Port of the files server; 0 binds any free port. Default 5051. */
  port?: number;
  /** Address the files server binds. Default 0.0.0.0. */
  bindHost?: string;
  /** Default `/tmp/mezz/agent-<bound port>`. */
  workDir?: string;
  /** `--resources` overrides, key by key, of the detected resources. */
  resources?: Partial<Resources>;
  attributes?: Attribute[];
  /** Hostname reported to the master. Default os.hostname(). */
  hostname?: string;
  /** SIGTERM → SIGKILL grace for tasks that set no kill_grace_seconds. Default 3000. */
  killGraceMs?: number;
  /** Ping interval until the master sets one at registration. Default 1000. */
  pingIntervalMs?: number;
  /** The agent's own credential (its token) and TLS material, for the master link and the files server. Default: none, plaintext. */
  security?: ClientSecurity;
  /** Unacknowledged updates are resent after this long. Default 2000. */
  statusRetryMs?: number;
  /** Reconnect backoff, each delay jittered to 50–100 %: from initialMs, doubling up to maxMs. Default 100 → 3000. */
  backoff?: { initialMs?: number; maxMs?: number };
  /** Environment for finding nvidia-smi and for tasks' HOME and PATH. Default process.env. */
  env?: NodeJS.ProcessEnv;
  /**
   * After a restart: `reconnect` (default) re-attaches to the tasks the
   * checkpoints name, `cleanup` kills them and starts with none.
   */
  recover?: RecoverMode;
  /** Fetching a task's URIs: per-URI time limit (default 300000 ms) and largest file (default 1 GiB). */
  fetcher?: { timeoutMs?: number; maxBytes?: number };
  /**
   * `auto`: cgroups where the host allows; `cgroups`: start() fails without
   * them; `none` (the default here, so that embedding code and unit tests
   * touch no cgroups): process groups only. mezz-agent's flag defaults to auto.
   */
  isolation?: IsolationMode;
  /** pids.max of each task's cgroup. Default 4096. */
  pidsMax?: number;
  /** Finished sandboxes are removed this long after their task ended. Default 1 h. */
  sandboxGcDelayMs?: number;
  /** Below this free fraction of the work dir's disk, finished sandboxes go early, oldest first; 0: never. Default 0.1. */
  gcDiskHeadroom?: number;
  /** Tasks' stdout and stderr are rotated past this size; 0: never. Default 10 MiB. */
  logMaxBytes?: number;
  /** Rotated copies kept per log (stdout.1 …). Default 2. */
  logMaxFiles?: number;
  /** Launches prepared at once (sandbox to spawn); the rest of a burst waits its turn. Default 8. */
  launchSlots?: number;
  /** How often running tasks' sandboxes are measured against their `disk`; 0: never. Default 5000. */
  diskCheckIntervalMs?: number;
  /**
   * Which user tasks run as (agent/users.ts). Default: no switching, every
   * task as the agent's own user (so that embedding code and unit tests need
   * no root); mezz-agent's flags switch to `nobody` by default when root.
   */
  users?: UserPolicy;
  /** Replaces the executor (tests); by default the process-group executor, in cgroups per `isolation`. */
  executor?: (ctx: { workDir: string; logger: Logger }) => Executor;
  logger?: Logger;
}

/** A task as the agent tracks it, for operators and tests. */
export interface AgentTaskView {
  frameworkId: string;
  taskId: string;
  state: TaskState;
  pid?: number;
  sandbox?: string;
}

interface TaskRecord {
  key: string;
  frameworkId: string;
  task: TaskInfo__Output;
  framework?: FrameworkInfo__Output;
  /** The latest status (STAGING with no uuid until the first real update). */
  latest: TaskStatus;
  /** preparing: sandbox and spawn under way; running: a process exists; done: it ended. */
  phase: 'preparing' | 'running' | 'done';
  sandbox?: string;
  pid?: number;
  /** Reason of the agent's kill, once one is requested. */
  killReason?: string;
  /** Killed by a `shutdown`: ends without status updates (the master removed this agent). */
  silent?: boolean;
  /** An exit that arrived before RUNNING was recorded. */
  pendingExit?: TaskExit;
  /** Aborts the fetch of the task's URIs (a kill during the fetch). */
  fetching?: AbortController;
  /** The user the task runs as (its HOME, USER, LOGNAME); absent: the agent's own. */
  user?: TaskUser;
  /** Set when the agent switches to `user`: the command, fetches and health checks start as it. */
  runAs?: TaskUser;
  /** The task's health checks, while it runs. */
  health?: TaskHealthChecks;
  /** Last health reported (stamped on later updates). */
  healthy?: boolean;
  /** The task's generalized check, while it runs. */
  check?: TaskCheck;
  /** Last check result reported (stamped on later updates). */
  checkStatus?: CheckStatusInfo;
  /** Why the agent killed the task, for the KILLED message (e.g. its health check). */
  killMessage?: string;
  /** A limit the task passed (its disk): the agent killed it, and it ends FAILED with the limitation's reason. */
  limitation?: Limitation;
  /** Resolves when the task's process is gone (or never started). */
  ended: Promise<void>;
  markEnded: () => void;
}

/** Sandboxes of forgotten tasks kept in memory for quick reads (older ones are found on disk). */
const RECENT_SANDBOXES = 1000;

/**
 * Events: `registered` (agentId), `disconnected` (reason),
 * `status` (TaskStatus, each new update as it is made).
 */
export class Agent extends EventEmitter {
  private readonly log: Logger;
  private readonly killGraceMs: number;
  private readonly env: NodeJS.ProcessEnv;
  private readonly users: UserPolicy;
  /** getent, its answers kept a few seconds: a burst of one user's tasks costs one lookup. */
  private readonly lookupUser = cachedLookup();

  private server?: grpc.Server;
  private boundPort = 0;
  private dir = '';
  private id = '';
  /** The secret the master issued with `id`; '' until a master has issued one. */
  private agentToken = '';
  /** The token the files service accepts: the registering master's; '' (nothing accepted) until registered. */
  private filesToken = '';
  private detected?: Resources;
  private gpuList: GpuInfo[] = [];
  private executor?: Executor;
  private sandboxes?: Sandboxes;
  private readonly updates: StatusUpdateQueue;
  /** Where updates are made durable before they are sent; open from start() on. */
  private journal?: StatusJournal;
  private gc?: SandboxGc;
  private diskWatch?: DiskWatch;
  private logRotator?: LogRotator;

  private readonly tasksByKey = new Map<string, TaskRecord>();
  /** Launches between their sandbox and their spawn at once: a burst must not hold the event loop past a ping. */
  private readonly launchSlots: LaunchSlots;
  private readonly recentSandboxes = new Map<string, string>();

  /** The stream to the leading master (master-link.ts). */
  private readonly link: MasterLink;
  private retryTimer?: NodeJS.Timeout;
  private stopped = false;
  /** Consecutive attempts that ended before registration; only the first is logged loudly. */
  private failedAttempts = 0;

  constructor(private readonly opts: AgentOptions) {
    super();
    if (!opts.masters.length) throw new Error('at least one master address is required');
    this.log = opts.logger ?? createLogger('agent');
    this.killGraceMs = opts.killGraceMs ?? 3000;
    this.link = new MasterLink({
      follower: new LeaderFollower(opts.masters, { backoff: opts.backoff }),
      open: (master) => this.openStream(master),
      registration: () => this.registration(),
      pingIntervalMs: opts.pingIntervalMs ?? 1000,
      onRegistered: (r, master) => this.onRegistered(r, master),
      onMessage: (m) => this.onMessage(m),
      onDisconnected: (why, master, wasRegistered, how) => this.onDisconnected(why, master, wasRegistered, how),
    });
    this.env = opts.env ?? process.env;
    this.users = opts.users ?? { switchUser: false, defaultUser: ownUser().name };
    this.launchSlots = new LaunchSlots(opts.launchSlots ?? DEFAULT_LAUNCH_SLOTS);
    this.updates = new StatusUpdateQueue((s) => this.sendStatus(s), opts.statusRetryMs ?? 2000, Date.now, (key, s) => this.persistStatus(key, s));
  }

  /** The files server's bound port (0 before start). */
  get port(): number { return this.boundPort; }
  get workDir(): string { return this.dir; }
  /** The id the master assigned; empty until the first registration. */
  get agentId(): string { return this.id; }
  /** Total resources offered to the master (detected, then overridden). */
  get resources(): Resources | undefined { return this.detected; }
  get gpus(): readonly GpuInfo[] { return this.gpuList; }
  /** True while a stream is registered with a master. */
  get connected(): boolean { return this.link.registered; }

  /** Every task the agent tracks: running ones and ended ones whose final update is unacknowledged. */
  tasks(): AgentTaskView[] {
    return [...this.tasksByKey.values()].map((r) => ({
      frameworkId: r.frameworkId, taskId: r.task.taskId, state: r.latest.state as TaskState, pid: r.pid, sandbox: r.sandbox,
    }));
  }

  /** Unacknowledged status updates, oldest first. */
  pendingUpdates(): TaskStatus[] {
    return this.updates.pending();
  }

  /**
   * Binds the files server, prepares the work directory, detects resources,
   * loads the saved agent id, and starts connecting to the masters (in the
   * background: start() does not wait for a master). Throws when the port
   * cannot be bound or the work directory cannot be made.
   */
  async start(): Promise<void> {
    const server = new grpc.Server(FILES_SERVER_OPTIONS);
    server.addService(mezzProto().AgentFiles.service, filesHandlers(this, () => this.filesToken));
    this.boundPort = await bindServer(server, this.opts.bindHost ?? '0.0.0.0', this.opts.port ?? 5051, serverCredentials(this.opts.security?.tls));
    this.server = server;
    try {
      this.dir = this.opts.workDir ?? `/tmp/mezz/agent-${this.boundPort}`;
      if (this.users.switchUser) await checkSetpriv();
      await prepareWorkDir(this.dir);
      this.sandboxes = new Sandboxes(this.dir);
      this.executor = this.opts.executor?.({ workDir: this.dir, logger: this.log }) ?? await createExecutor({
        workDir: this.dir, logger: this.log, isolation: this.opts.isolation ?? 'none', pidsMax: this.opts.pidsMax ?? DEFAULT_PIDS_MAX,
      });
      this.executor.onExit((key, exit) => this.onTaskExit(key, exit));
      const found = await detectResources({
        workDir: this.dir, overrides: this.opts.resources, env: this.env, logger: this.log,
      });
      this.detected = found.resources;
      this.gpuList = found.gpus;
      // The agent picks its id before it first registers and keeps it: a registration whose
      // answer is lost and is sent again then names the same agent, not a second one.
      ({ id: this.id, token: this.agentToken } = await loadIdentity(this.dir, this.log));
      if (!this.id) {
        this.id = newId('agent');
        await this.saveIdentity();
      }
      this.journal = await StatusJournal.open(this.dir, { onWarning: (m) => this.log.warn(m) });
      await this.recover();
    } catch (err) {
      await this.journal?.close();
      this.journal = undefined;
      server.forceShutdown();
      this.server = undefined;
      throw err;
    }
    this.log.info(`agent ${this.id || '(new)'} on port ${this.boundPort}, work dir ${this.dir}, resources ${formatResources(this.detected)}`);
    this.retryTimer = setInterval(() => { if (this.link.registered) this.updates.retry(); }, this.opts.statusRetryMs ?? 2000);
    this.retryTimer.unref();
    this.startSandboxHygiene();
    this.link.start();
  }

  /** Sandbox GC and log rotation, over the sandboxes of the tasks tracked now. */
  private startSandboxHygiene(): void {
    const tracked = () => [...this.tasksByKey.values()].flatMap((r) => (r.sandbox ? [r.sandbox] : []));
    this.gc = new SandboxGc({
      workDir: this.dir, delayMs: this.opts.sandboxGcDelayMs ?? DEFAULT_SANDBOX_GC_DELAY_MS,
      diskHeadroom: this.opts.gcDiskHeadroom ?? DEFAULT_GC_DISK_HEADROOM, inUse: tracked, logger: this.log,
    });
    this.gc.start();
    // Only running tasks' logs grow: those of tasks still being launched, or ended, are not looked at every second.
    const running = () => [...this.tasksByKey.values()].flatMap((r) => (r.phase === 'running' && r.sandbox ? [r.sandbox] : []));
    this.logRotator = new LogRotator({
      maxBytes: this.opts.logMaxBytes ?? DEFAULT_LOG_MAX_BYTES, maxFiles: this.opts.logMaxFiles ?? DEFAULT_LOG_MAX_FILES,
      sandboxes: running, logger: this.log,
    });
    this.logRotator.start();
    this.diskWatch = new DiskWatch({
      intervalMs: this.opts.diskCheckIntervalMs ?? DEFAULT_DISK_CHECK_INTERVAL_MS, logger: this.log,
      tasks: () => [...this.tasksByKey.values()].flatMap((r) => {
        const limitMb = taskDiskMb(r.task);
        return r.phase === 'running' && !r.killReason && r.sandbox && limitMb > 0 ? [{ key: r.key, sandbox: r.sandbox, limitMb }] : [];
      }),
      onOver: (key, used, limitMb) => {
        const rec = this.tasksByKey.get(key);
        if (!rec || rec.phase !== 'running' || rec.killReason) return;
        const message = `task exceeded its disk limit of ${limitMb} MB: its sandbox holds ${(used / 1024 / 1024).toFixed(1)} MB`;
        this.log.warn(`task ${rec.task.taskId} of framework ${rec.frameworkId}: ${message}; killing it`);
        rec.limitation = { resource: 'disk', reason: Reason.CONTAINER_LIMITATION_DISK, message };
        rec.killMessage = message;
        this.kill(rec, Reason.CONTAINER_LIMITATION_DISK);
      },
    });
    this.diskWatch.start();
  }

  /**
   * Closes the master stream and the files server. Tasks keep running (they
   * are detached; a restarted agent can find them through their checkpoints).
   */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.retryTimer);
    this.link.stop();
    this.executor?.close();
    this.gc?.stop();
    this.logRotator?.stop();
    this.diskWatch?.stop();
    for (const r of this.tasksByKey.values()) {
      r.health?.stop();
      r.check?.stop();
    }
    await this.updates.settled();
    await this.journal?.close();
    const server = this.server;
    this.server = undefined;
    if (server) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => { server.forceShutdown(); resolve(); }, 1000);
        server.tryShutdown(() => { clearTimeout(t); resolve(); });
      });
    }
  }

  /** Sandbox lookup for the files service: tracked tasks, then recently forgotten ones, then the disk. */
  async findSandbox(taskId: string, frameworkId?: string): Promise<string | undefined> {
    for (const r of this.tasksByKey.values()) {
      if (r.task.taskId === taskId && (!frameworkId || r.frameworkId === frameworkId) && r.sandbox) return r.sandbox;
    }
    const recent = this.recentSandboxes.get(frameworkId ? taskKey(frameworkId, taskId) : taskId);
    if (recent) return recent;
    return this.sandboxes?.find(taskId, frameworkId);
  }

  // ---------------------------------------------------------------- connection

  /** The link's stream factory: a fresh channel per attempt, its own reconnects kept within our backoff. */
  private openStream(master: string): { call: AgentStream; close: () => void } {
    const client = makeClient(mezzProto().AgentGateway, master, this.opts.security, {
      'grpc.initial_reconnect_backoff_ms': this.opts.backoff?.initialMs ?? DEFAULT_FOLLOW_BACKOFF.initialMs,
      'grpc.max_reconnect_backoff_ms': this.opts.backoff?.maxMs ?? DEFAULT_FOLLOW_BACKOFF.maxMs,
    });
    this.log.debug(`connecting to master ${master}`);
    return { call: client.Connect(), close: () => client.close() };
  }

  private registration(): { info: AgentInfo; tasks: AgentTask[]; agentToken: string } {
    const info: AgentInfo = {
      id: this.id,
      hostname: this.opts.hostname ?? os.hostname(),
      port: this.boundPort,
      resources: toProto(this.detected!),
      attributes: this.opts.attributes ?? [],
      version: VERSION,
      isolation: [...this.executor!.isolation],
    };
    const tasks = [...this.tasksByKey.values()].map((r) => ({
      frameworkId: r.frameworkId, task: r.task, status: { ...r.latest, agentId: this.id },
    }));
    return { info, tasks, agentToken: this.agentToken };
  }

  /** Every failure is worth a line, but not every one of a long run at warn: the 1st, 2nd, 4th, 8th … */
  private onDisconnected(why: string, master: string, wasRegistered: boolean, how: Disconnection): void {
    if (wasRegistered) this.failedAttempts = 0;
    const n = ++this.failedAttempts;
    const level = how.refused ? 'error' : (n & (n - 1)) === 0 ? 'warn' : 'debug';
    const where = how.next.redirected ? `the leader at ${how.next.address}` : `master ${how.next.address}`;
    this.log[level](`${wasRegistered ? 'connection to' : 'cannot register with'} master ${master}: ${why}`
      + (wasRegistered ? '' : ` (${n} failed attempt${n > 1 ? 's' : ''} in a row)`) + `; trying ${where} in ${how.next.delayMs} ms`);
    this.emit('disconnected', why);
  }

  private sendStatus(status: TaskStatus): boolean {
    // Stamped at send time: a master may have (re)assigned the id since the update was made.
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
        case 'frameworkMessage': return void this.onFrameworkMessage(m.frameworkMessage!);
        case 'shutdown': return void this.onShutdown(m.shutdown!.reason);
        default: this.log.warn(`ignoring unknown message from master: ${m.message ?? 'empty'}`);
      }
    } catch (err) {
      // A bad message must not take the agent down.
      this.log.error(`failed to handle ${m.message} from master: ${errorMessage(err)}`);
    }
  }

  private onRegistered(r: Registered, master: string): void {
    this.filesToken = r.filesToken;
    if (r.agentId !== this.id || r.agentToken) {
      if (this.id && r.agentId !== this.id) this.log.warn(`master assigned id ${r.agentId}; was ${this.id}`);
      this.id = r.agentId;
      if (r.agentToken) this.agentToken = r.agentToken;
      void this.saveIdentity();
    }
    this.failedAttempts = 0;
    this.log.info(`registered with master ${master}${r.masterId ? ` (${r.masterId})` : ''} as ${this.id}`);
    this.emit('registered', this.id);
    this.updates.resendAll();
  }

  private onRunTasks(framework: FrameworkInfo__Output | null, tasks: TaskInfo__Output[]): void {
    const frameworkId = framework?.id ?? '';
    for (const task of tasks) {
      void this.launch(frameworkId, framework ?? undefined, task).catch((err) => {
        this.log.error(`launching task ${task.taskId} failed unexpectedly: ${errorMessage(err)}`);
      });
    }
  }

  /** `why`: the master's own reason for the kill (e.g. a sibling of a task group failed), carried as the message. */
  private onKillTask(frameworkId: string, taskId: string, why = ''): void {
    const rec = this.tasksByKey.get(taskKey(frameworkId, taskId));
    if (!rec) {
      this.log.info(`kill for unknown task ${taskId} of framework ${frameworkId}: answering TASK_LOST`);
      // Not a tracked task: the update still waits for its acknowledgement in the queue.
      this.updates.add(`lost\u0000${frameworkId}\u0000${taskId}\u0000${newUuid()}`, this.status(frameworkId, taskId, {
        state: 'TASK_LOST', reason: Reason.TASK_UNKNOWN,
        message: new UnknownTaskError(taskId, this.id).message,
      }, 'SOURCE_AGENT'));
      return;
    }
    if (isTerminal(rec.latest.state as string)) {
      this.sendStatus(rec.latest);
      return;
    }
    if (why) rec.killMessage ??= capStatusMessage(why);
    this.kill(rec, Reason.TASK_KILLED);
  }

  private onAcknowledge(taskId: string, uuid: string): void {
    const key = this.updates.acknowledge(taskId, uuid);
    if (key === undefined) {
      this.log.debug(`acknowledgement of unknown update ${uuid} for task ${taskId}`);
      return;
    }
    const rec = this.tasksByKey.get(key);
    if (!rec) return;
    this.journal!.acknowledge(rec.frameworkId, taskId, uuid);
    if (isTerminal(rec.latest.state as string) && rec.latest.uuid === uuid) this.forget(rec);
  }

  private onShutdownFramework(frameworkId: string): void {
    const recs = [...this.tasksByKey.values()].filter((r) => r.frameworkId === frameworkId);
    this.log.info(`shutting down framework ${frameworkId}: killing ${recs.length} task(s)`);
    for (const r of recs) this.kill(r, Reason.FRAMEWORK_REMOVED);
  }

  private async onFrameworkMessage(m: { frameworkId: string; taskId: string; data: Buffer }): Promise<void> {
    const sandbox = this.tasksByKey.get(taskKey(m.frameworkId, m.taskId))?.sandbox;
    if (!sandbox) {
      this.log.warn(`framework message for task ${m.taskId} of ${m.frameworkId}, which has no sandbox here: dropped`);
      return;
    }
    // Appends one at a time, so messages land in the order the master sent them.
    const line = Buffer.from(m.data).toString('base64') + '\n';
    const owner = this.tasksByKey.get(taskKey(m.frameworkId, m.taskId))?.runAs;
    this.messageWrites = this.messageWrites.then(() => appendToSandbox(join(sandbox, 'messages'), line, owner)).catch((err) => {
      this.log.warn(`cannot deliver framework message to task ${m.taskId}: ${errorMessage(err)}`);
    });
    await this.messageWrites;
  }

  private messageWrites: Promise<void> = Promise.resolve();

  /**
   * The master removed this agent: kill every task without reporting (the
   * master has already given them up), forget the id and register anew once
   * all task processes are gone, so that the new agent's resources are free.
   */
  private async onShutdown(reason: string): Promise<void> {
    this.log.warn(`master shut this agent down${reason ? `: ${reason}` : ''}; killing all tasks and registering anew`);
    // No stream until the reset is done: nothing more from the master can reach it meanwhile.
    this.link.disconnect();
    this.emit('disconnected', `shutdown: ${reason}`);
    const recs = [...this.tasksByKey.values()];
    for (const r of recs) {
      r.silent = true;
      if (r.phase === 'done') this.forget(r);
      else this.kill(r, Reason.TASK_KILLED);
    }
    this.updates.clear();
    await Promise.all(recs.map((r) => r.ended));
    for (const r of recs) this.forget(r);
    // Removed by the master: come back as a new agent, under a new id.
    this.id = newId('agent');
    await this.saveIdentity();
    this.link.start();
  }

  // ---------------------------------------------------------------- tasks

  private status(
    frameworkId: string, taskId: string, o: Outcome, source: 'SOURCE_AGENT' | 'SOURCE_EXECUTOR' = 'SOURCE_EXECUTOR',
  ): TaskStatus {
    const s: TaskStatus = {
      // Messages quote commands, paths and errors: cut, so that no update outgrows what the master keeps.
      taskId, frameworkId, agentId: this.id, state: o.state, message: capStatusMessage(o.message), reason: o.reason, source,
      uuid: newUuid(), timestamp: Date.now() / 1000,
    };
    if (o.exitCode !== undefined) s.exitCode = o.exitCode;
    if (o.healthy !== undefined) s.healthy = o.healthy;
    if (o.checkStatus) s.checkStatus = o.checkStatus;
    return s;
  }

  /** Records and queues a new status of a tracked task. */
  private update(rec: TaskRecord, o: Outcome, source: 'SOURCE_AGENT' | 'SOURCE_EXECUTOR' = 'SOURCE_EXECUTOR'): void {
    if (rec.silent) return;
    const s = this.status(rec.frameworkId, rec.task.taskId, { healthy: rec.healthy, checkStatus: rec.checkStatus, ...o }, source);
    rec.latest = s;
    this.updates.add(rec.key, s);
    this.emit('status', s);
  }

  private async launch(frameworkId: string, framework: FrameworkInfo__Output | undefined, task: TaskInfo__Output): Promise<void> {
    const key = taskKey(frameworkId, task.taskId);
    const existing = this.tasksByKey.get(key);
    if (existing) {
      // A master resending run_tasks (e.g. after a reconnect) must not start the task twice.
      this.log.warn(`task ${task.taskId} of framework ${frameworkId} is already known here (${existing.latest.state}); ignoring the duplicate launch`);
      return;
    }
    let markEnded!: () => void;
    const rec: TaskRecord = {
      key, frameworkId, framework, task, phase: 'preparing',
      latest: { taskId: task.taskId, frameworkId, agentId: this.id, state: 'TASK_STAGING', source: 'SOURCE_AGENT', uuid: '', timestamp: Date.now() / 1000 },
      ended: new Promise<void>((resolve) => { markEnded = resolve; }),
      markEnded: () => markEnded(),
    };
    this.tasksByKey.set(key, rec);

    const problems = taskProblems(frameworkId, task, this.gpuList);
    if (problems.length) {
      this.log.warn(`task ${task.taskId} rejected: ${problems.join('; ')}`);
      rec.phase = 'done';
      rec.markEnded();
      this.update(rec, { state: 'TASK_ERROR', reason: Reason.TASK_INVALID, message: problems.join('; ') }, 'SOURCE_AGENT');
      return;
    }

    const chosen = await chooseTaskUser(this.users, task.command?.user, framework?.user, this.lookupUser);
    if (!chosen.ok) {
      this.log.warn(`task ${task.taskId} of framework ${frameworkId}: ${chosen.reason}`);
      rec.phase = 'done';
      rec.markEnded();
      return this.update(rec, { state: 'TASK_FAILED', reason: Reason.LAUNCH_FAILED, message: chosen.reason });
    }
    rec.user = chosen.user;
    if (chosen.switchUser) rec.runAs = chosen.user;

    let pid: number;
    // A slot bounds the launches between their sandbox and their spawn (launch-slots.ts); none is held while fetching.
    let release = await this.launchSlots.acquire();
    try {
      if (rec.killReason) return this.endUnlaunched(rec);
      try {
        rec.sandbox = await this.sandboxes!.create(frameworkId, task.taskId, rec.runAs);
      } catch (err) {
        return this.launchFailed(rec, `cannot create sandbox: ${describeFsError(err, this.dir)}`);
      }
      if (rec.killReason) return this.endUnlaunched(rec);
      const uris = task.command?.uris ?? [];
      if (uris.length) {
        release();
        rec.fetching = new AbortController();
        const fetched = await fetchUris(uris, {
          sandbox: rec.sandbox, signal: rec.fetching.signal, user: rec.runAs,
          timeoutMs: this.opts.fetcher?.timeoutMs ?? 300_000, maxBytes: this.opts.fetcher?.maxBytes ?? 1024 ** 3,
          maxExtractedBytes: this.maxExtractedBytes(task),
        });
        rec.fetching = undefined;
        release = await this.launchSlots.acquire();
        if (rec.killReason) return this.endUnlaunched(rec);
        if (!fetched.ok) {
          const message = `cannot fetch ${fetched.uri}: ${fetched.reason}`;
          this.log.warn(`task ${task.taskId}: ${message}`);
          rec.phase = 'done';
          rec.markEnded();
          return this.update(rec, { state: 'TASK_FAILED', reason: Reason.FETCHER_FAILED, message });
        }
      }
      this.update(rec, { state: 'TASK_STARTING', reason: Reason.SANDBOX_READY, message: `sandbox ${rec.sandbox}${uris.length ? `; fetched ${uris.length} URI(s)` : ''}` });

      try {
        const environment = taskEnvironment({ task, frameworkId, agentId: this.id, sandbox: rec.sandbox, base: this.env, gpus: this.gpuList, user: rec.user });
        ({ pid } = await this.executor!.launch({ key, frameworkId, agentId: this.id, task, sandbox: rec.sandbox, environment, user: rec.runAs }));
      } catch (err) {
        return this.launchFailed(rec, describeFsError(err, this.dir));
      }
    } finally {
      release();
    }
    rec.pid = pid;
    rec.phase = 'running';
    this.log.info(`task ${task.taskId} of framework ${frameworkId} running as pid ${pid}`);
    this.update(rec, { state: 'TASK_RUNNING', reason: Reason.COMMAND_STARTED, message: `command started (pid ${pid})` });
    this.startChecks(rec, Date.now());
    if (rec.pendingExit) {
      const exit = rec.pendingExit;
      rec.pendingExit = undefined;
      this.onTaskExit(key, exit);
    } else if (rec.killReason) {
      const reason = rec.killReason;
      rec.killReason = undefined;
      this.kill(rec, reason);
    }
  }

  /**
   * Most bytes a task's archives may extract to: its `disk` when it has one
   * (more would be killed at once), at most four times the largest download.
   */
  private maxExtractedBytes(task: TaskInfo__Output): number {
    const cap = 4 * (this.opts.fetcher?.maxBytes ?? 1024 ** 3);
    const diskMb = taskDiskMb(task);
    return diskMb > 0 ? Math.min(cap, diskMb * 1024 * 1024) : cap;
  }

  private launchFailed(rec: TaskRecord, message: string): void {
    this.log.warn(`task ${rec.task.taskId} failed to launch: ${message}`);
    rec.phase = 'done';
    rec.markEnded();
    if (rec.silent) return;
    this.update(rec, { state: 'TASK_FAILED', reason: Reason.LAUNCH_FAILED, message });
  }

  /** A kill that arrived while the sandbox was being made: the command never starts. */
  private endUnlaunched(rec: TaskRecord): void {
    rec.phase = 'done';
    rec.markEnded();
    const why = rec.killMessage ? `${rec.killMessage}; ` : '';
    this.update(rec, { state: 'TASK_KILLED', reason: rec.killReason!, message: `${why}killed before the command started` });
  }

  private kill(rec: TaskRecord, reason: string): void {
    if (rec.phase === 'done') return;
    if (rec.phase === 'preparing') {
      // Acted on as soon as the launch reaches a point where it can stop.
      rec.killReason ??= reason;
      rec.fetching?.abort();
      return;
    }
    if (rec.killReason) return;
    rec.killReason = reason;
    rec.health?.stop();
    rec.check?.stop();
    const graceMs = rec.task.killGraceSeconds > 0 ? rec.task.killGraceSeconds * 1000 : this.killGraceMs;
    const why = rec.killMessage ? `${rec.killMessage}; ` : '';
    this.update(rec, { state: 'TASK_KILLING', reason, message: `${why}SIGTERM sent to the task's processes; SIGKILL after ${graceMs} ms` });
    this.executor!.kill(rec.key, graceMs);
  }

  private onTaskExit(key: string, exit: TaskExit): void {
    const rec = this.tasksByKey.get(key);
    if (!rec) return;
    if (rec.phase === 'preparing') {
      rec.pendingExit = exit;
      return;
    }
    if (rec.phase === 'done') return;
    rec.phase = 'done';
    rec.markEnded();
    rec.health?.stop();
    rec.check?.stop();
    const outcome = rec.limitation ? outcomeOf({ ...exit, limitation: rec.limitation }) : outcomeOf(exit, rec.killReason);
    if (rec.killMessage && !rec.limitation) outcome.message = `${rec.killMessage}; ${outcome.message}`;
    this.log.info(`task ${rec.task.taskId} of framework ${rec.frameworkId}: ${outcome.state} (${outcome.message})`);
    if (rec.silent) return;
    this.update(rec, outcome);
  }

  /** Stops tracking a task whose final update was acknowledged; its sandbox stays readable. */
  private forget(rec: TaskRecord): void {
    if (this.tasksByKey.get(rec.key) !== rec) return;
    this.tasksByKey.delete(rec.key);
    rec.health?.stop();
    rec.check?.stop();
    this.updates.drop(rec.key);
    this.journal!.forget(rec.frameworkId, rec.task.taskId);
    void this.executor!.release(rec.key);
    if (rec.sandbox) {
      for (const k of [rec.key, rec.task.taskId]) {
        this.recentSandboxes.delete(k);
        this.recentSandboxes.set(k, rec.sandbox);
      }
      while (this.recentSandboxes.size > 2 * RECENT_SANDBOXES) {
        this.recentSandboxes.delete(this.recentSandboxes.keys().next().value!);
      }
    }
  }

  // ---------------------------------------------------------------- health checks and the check

  /** Starts the task's health checks and its check, those it has; `startedAt` (ms) is when its command started. */
  private startChecks(rec: TaskRecord, startedAt: number): void {
    if (!rec.sandbox) return;
    let ports: number[] = [];
    try {
      ports = portList(fromProto(rec.task.resources ?? []).ports);
    } catch {
      // Refused at validation; nothing to check against.
    }
    const environment = taskEnvironment({
      task: rec.task, frameworkId: rec.frameworkId, agentId: this.id, sandbox: rec.sandbox, base: this.env, gpus: this.gpuList, user: rec.user,
    });
    const ctx: ProbeContext = { sandbox: rec.sandbox, environment, user: rec.runAs };
    this.startHealthCheck(rec, startedAt, ports, ctx);
    this.startCheck(rec, startedAt, ports, ctx);
  }

  private startHealthCheck(rec: TaskRecord, startedAt: number, ports: number[], ctx: ProbeContext): void {
    const specs = taskHealthChecks(rec.task);
    if (!specs.length || rec.health) return;
    const checks = taskChecks(specs, ports, ctx);
    if (!checks) return; // refused at validation, before the launch
    const checker = new TaskHealthChecks({
      checks,
      startedAt,
      healthy: rec.healthy,
      log: this.log,
      onChange: (healthy, message) => {
        if (rec.phase !== 'running' || rec.killReason) return;
        this.log.info(`task ${rec.task.taskId} of framework ${rec.frameworkId}: ${message}`);
        rec.healthy = healthy;
        this.update(rec, { state: 'TASK_RUNNING', reason: Reason.HEALTH_CHECK, message, healthy });
      },
      onKill: (message) => {
        if (rec.phase !== 'running' || rec.killReason) return;
        this.log.warn(`task ${rec.task.taskId} of framework ${rec.frameworkId}: ${message}; killing it`);
        rec.healthy = false;
        rec.killMessage = message;
        this.kill(rec, Reason.HEALTH_CHECK);
      },
    });
    rec.health = checker;
    checker.start();
  }

  /** Runs the task's check (task-check.ts): its result changes go out as TASK_RUNNING updates; it never kills. */
  private startCheck(rec: TaskRecord, startedAt: number, ports: number[], ctx: ProbeContext): void {
    if (!rec.task.check || rec.check) return;
    const r = resolveCheck(rec.task.check, ports);
    if (!r.ok) return; // refused at validation, before the launch
    const check = new TaskCheck({
      check: r.check,
      probe: probeFor(r.check, ctx),
      startedAt,
      last: rec.checkStatus,
      log: this.log,
      onChange: (checkStatus) => {
        if (rec.phase !== 'running' || rec.killReason) return;
        rec.checkStatus = checkStatus;
        this.update(rec, { state: 'TASK_RUNNING', reason: Reason.CHECK, message: `check: ${checkStatus.message}`, checkStatus });
      },
    });
    rec.check = check;
    check.start();
  }

  // ---------------------------------------------------------------- checkpoints and recovery

  /**
   * The status-update queue's persist hook: records the update in the
   * journal, with the task it is about (its TaskInfo and sandbox), and
   * resolves once it is on disk. Updates about tasks this agent never had
   * (TASK_LOST answers to kills) are not recorded.
   */
  private persistStatus(key: string, status: TaskStatus): Promise<void> {
    const rec = this.tasksByKey.get(key);
    if (!rec) return Promise.resolve();
    return this.journal!.record({ frameworkId: rec.frameworkId, task: rec.task, sandbox: rec.sandbox }, status).catch((err) => {
      this.log.error(`cannot record the status update of task ${rec.task.taskId} (${status.state}): ${errorMessage(err)}; ` +
        'it is sent once a write succeeds (retried every status retry interval)');
      throw err;
    });
  }

  /**
   * Before the first registration: finds the tasks an earlier run of this
   * agent left (see recovery.ts). `cleanup` kills them all; `reconnect`
   * re-attaches to the live ones, reports those that ended meanwhile, and
   * queues their unacknowledged updates for the registration.
   */
  private async recover(): Promise<void> {
    if (this.opts.recover === 'cleanup') {
      const { tasks, groups } = await cleanupTasks(this.dir, this.journal!.tasks(), this.log);
      for (const t of tasks) this.journal!.forget(t.frameworkId, t.task.taskId);
      if (tasks.length) this.log.warn(`--recover cleanup: forgot ${tasks.length} checkpointed task(s), killed ${groups} process group(s)`);
      await killUntracked(this.dir, new Set(), this.log);
      return;
    }
    const found = await readRecoveredTasks(this.dir, this.journal!.tasks());
    // Every task process of this work dir is adopted below or killed here: none runs untracked.
    const killUntrackedNow = async () => {
      const adopted = new Set([...this.tasksByKey.values()].flatMap((r) => (r.phase === 'running' && r.pid ? [r.pid] : [])));
      const killed = await killUntracked(this.dir, adopted, this.log);
      if (killed.length) this.log.warn(`killed ${killed.length} task process group(s) that no checkpoint named`);
    };
    if (!found.length) return killUntrackedNow();
    let live = 0;
    const gone: Promise<void>[] = [];
    for (const t of found) {
      const r = await this.recoverTask(t);
      if (r.live) live++;
      else gone.push(r.ended);
    }
    // Tasks that ended while the agent was down are reported in the
    // registration: their exits (read from their sandboxes) are on the way.
    let wait: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(gone), new Promise<void>((resolve) => { wait = setTimeout(resolve, 5000); })]);
    clearTimeout(wait);
    await killUntrackedNow();
    this.log.info(`recovered ${found.length} task(s) from checkpoints: ${live} still running`);
  }

  /** Rebuilds one task's record; `live` when its process still runs, else `ended` resolves once its end is recorded. */
  private async recoverTask(t: RecoveredTask): Promise<{ live: boolean; ended: Promise<void> }> {
    const key = taskKey(t.frameworkId, t.task.taskId);
    let markEnded!: () => void;
    const rec: TaskRecord = {
      key, frameworkId: t.frameworkId, task: t.task, phase: 'done', sandbox: t.sandbox,
      latest: t.latest ?? { taskId: t.task.taskId, frameworkId: t.frameworkId, agentId: this.id, state: 'TASK_STAGING', source: 'SOURCE_AGENT', uuid: '', timestamp: Date.now() / 1000 },
      healthy: t.latest?.healthy,
      checkStatus: t.latest?.checkStatus ?? undefined,
      ended: new Promise<void>((resolve) => { markEnded = resolve; }),
      markEnded: () => markEnded(),
    };
    this.tasksByKey.set(key, rec);
    this.updates.restore(key, t.pending);
    const state = rec.latest.state as string;
    const dropLaunch = () => t.launch && rm(t.launch.path, { force: true }).catch((err) => {
      this.log.warn(`cannot remove checkpoint ${t.launch!.path}: ${errorMessage(err)}`);
    });
    if (isTerminal(state)) {
      // Ended before the restart; only its last updates await acknowledgement.
      await dropLaunch();
      rec.markEnded();
      // All acknowledged: the agent stopped between the acknowledgement and forgetting the task.
      if (!t.pending.length) this.forget(rec);
      return { live: false, ended: rec.ended };
    }
    const c = t.launch?.checkpoint;
    if (!c || !this.executor!.reattach) {
      // The command never started (or cannot be watched): what was started of it goes.
      for (const g of await liveGroupsOf(t)) killGroup(g);
      await dropLaunch();
      rec.markEnded();
      // Launch checkpoints are not fsynced: one the journal outlived was lost with a host crash, and the task with it.
      const started = state === 'TASK_RUNNING' || state === 'TASK_KILLING';
      this.update(rec, {
        state: 'TASK_FAILED', reason: c || started ? Reason.EXECUTOR_TERMINATED : Reason.LAUNCH_FAILED,
        message: c ? 'the agent restarted and this executor cannot re-attach to tasks'
          : started ? 'the agent restarted without the task\'s launch checkpoint (lost in a host crash?); its processes cannot be found'
            : 'the agent restarted before the task\'s command started',
      });
      return { live: false, ended: rec.ended };
    }
    rec.phase = 'running';
    rec.pid = c.pid;
    rec.sandbox = c.sandbox;
    // Its health checks run as the user it was started as.
    rec.user = rec.runAs = c.user;
    if (state === 'TASK_KILLING') rec.killReason = rec.latest.reason || Reason.TASK_KILLED;
    let alive: boolean;
    try {
      alive = await this.executor!.reattach({
        key, frameworkId: t.frameworkId, taskId: t.task.taskId, pid: c.pid, sandbox: c.sandbox, startTime: c.startTime, checkpointPath: t.launch!.path,
      });
    } catch (err) {
      // Unwatchable: better ended and reported than left running unseen.
      this.log.error(`cannot re-attach to task ${t.task.taskId} (pid ${c.pid}): ${errorMessage(err)}; killing it`);
      for (const g of await liveGroupsOf(t)) killGroup(g);
      await dropLaunch();
      rec.phase = 'done';
      rec.markEnded();
      this.update(rec, { state: 'TASK_FAILED', reason: Reason.EXECUTOR_TERMINATED, message: `the restarted agent could not re-attach to the task: ${errorMessage(err)}` });
      return { live: false, ended: rec.ended };
    }
    // A gone task's exit comes through onExit, with the status its wrapper recorded.
    if (!alive) return { live: false, ended: rec.ended };
    this.log.info(`task ${t.task.taskId} of framework ${t.frameworkId} still runs as pid ${c.pid}: re-attached`);
    if (rec.killReason) {
      // The kill was under way: finish it (its SIGKILL timer died with the old agent).
      const graceMs = rec.task.killGraceSeconds > 0 ? rec.task.killGraceSeconds * 1000 : this.killGraceMs;
      this.executor!.kill(key, graceMs);
      return { live: true, ended: rec.ended };
    }
    if (state !== 'TASK_RUNNING') {
      this.update(rec, { state: 'TASK_RUNNING', reason: Reason.AGENT_RECOVERED, message: `command running (pid ${c.pid}), found after an agent restart` });
    }
    this.startChecks(rec, c.launchedAt * 1000);
    return { live: true, ended: rec.ended };
  }

  // ---------------------------------------------------------------- agent id

  private saveIdentity(): Promise<void> {
    return saveIdentity(this.dir, { id: this.id, token: this.agentToken }, this.log);
  }
}

/** The task's `disk` in MB (0: none asked, not limited). */
function taskDiskMb(task: TaskInfo__Output): number {
  try {
    return fromProto(task.resources ?? []).disk ?? 0;
  } catch {
    return 0;
  }
}

/** Task ids are unique within a framework; NUL appears in no valid id. */
function taskKey(frameworkId: string, taskId: string): string {
  return `${frameworkId}\u0000${taskId}`;
}
