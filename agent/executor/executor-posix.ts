/**
 * The process-group executor: each task runs under `mezz-task-wrapper.sh`,
 * spawned detached so that it leads a new process group and survives the
 * agent. Isolation is the group: kill signals go to every process in it
 * (`kill(-pgid)`), which reaches a task's whole process tree unless a
 * process leaves the group on purpose (setsid), which cgroups will close.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { closeSync, constants as FS, fstatSync, openSync, readSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { errorMessage } from '../../lib/errors';
import type { Logger } from '../../lib/log';
import type { CommandInfo__Output } from '../../lib/proto';
import { LaunchError } from '../errors';
import { removeCheckpoint, writeCheckpoint } from './checkpoint';
import { RUN_AS_VAR } from './environment';
import type { ExitListener, Executor, Launched, LaunchSpec, ReattachSpec, TaskExit } from './executor';
import { isTaskWrapper, readProcStat } from './proc-fs';

/** How often a re-attached task (not our child: no exit event) is looked for in /proc. */
const REATTACH_POLL_MS = 250;

export const WRAPPER_PATH = fileURLToPath(new URL('./mezz-task-wrapper.sh', import.meta.url));
const SHELL = '/bin/sh';

export interface PosixExecutorOptions {
  /** Checkpoints go under `<workDir>/meta/`. */
  workDir: string;
  logger: Logger;
}

interface Running {
  key: string;
  pid: number;
  sandbox: string;
  /** Absent for a task re-attached after an agent restart: it is polled instead. */
  child?: ChildProcess;
  killing: boolean;
  killTimer?: NodeJS.Timeout;
  /** Settles when launch() is done, so that an exit is never reported before its launch. */
  launched: Promise<void>;
  /** A re-attached task's pid now names another process: its group number is not ours to signal. */
  foreign?: boolean;
  /** Its launch failed (no checkpoint): the wrapper ends without starting the command, unreported. */
  abandoned?: boolean;
}

/** argv of a task's command: `/bin/sh -c VALUE` for shell commands, else VALUE and its arguments. */
export function commandArgv(command: CommandInfo__Output): string[] {
  const args = command.arguments ?? [];
  if (command.shell || args.length === 0) return [SHELL, '-c', command.value];
  return [command.value, ...args];
}

/** Parses the wrapper's `exit_status` line: `exit 3` or `signal TERM`. */
export function parseExitStatus(text: string): TaskExit | undefined {
  const m = /^(exit|signal) (\S+)\s*$/.exec(text);
  if (!m) return undefined;
  if (m[1] === 'exit') {
    const code = Number(m[2]);
    return Number.isInteger(code) ? { kind: 'exited', code } : undefined;
  }
  const sig = m[2]!.toUpperCase();
  return { kind: 'signaled', signal: sig.startsWith('SIG') ? sig : `SIG${sig}` };
}

/** Longer than any line the wrapper writes; more is not read. */
const EXIT_STATUS_MAX = 64;

/**
 * What the wrapper recorded in `exit_status`, if anything. Read
 * synchronously: a few bytes the wrapper wrote moments ago, from the page
 * cache, cost less than the four thread-pool round trips of an async read.
 * The sandbox is the task's: a symlink, a FIFO or a huge file planted there
 * is not followed, waited on or read whole (none is a record).
 */
function readExitStatus(sandbox: string): TaskExit | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(join(sandbox, 'exit_status'), FS.O_RDONLY | FS.O_NOFOLLOW | FS.O_NONBLOCK);
    if (!fstatSync(fd).isFile()) return undefined;
    const buf = Buffer.alloc(EXIT_STATUS_MAX);
    return parseExitStatus(buf.subarray(0, readSync(fd, buf, 0, buf.length, 0)).toString('utf8'));
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * Opens the task's `stdout` or `stderr` for appending, as the agent (root)
 * in a sandbox that fetched archives may have filled: a symlink is refused
 * (O_NOFOLLOW), as is a FIFO (no waiting on it) or a hard link (it would be
 * another file's). The file is the task user's, readable by it alone.
 */
async function openLog(path: string, user: LaunchSpec['user']): Promise<FileHandle> {
  const fh = await open(path, FS.O_WRONLY | FS.O_APPEND | FS.O_CREAT | FS.O_NOFOLLOW | FS.O_NONBLOCK, 0o600);
  try {
    const st = await fh.stat();
    if (!st.isFile() || st.nlink !== 1) throw new Error(`${path} is not a plain file of the sandbox (a FIFO, a device or a hard link)`);
    await fh.chmod(0o600);
    if (user) await fh.chown(user.uid, user.gid);
    return fh;
  } catch (e) {
    await fh.close();
    throw e;
  }
}

/** Sends `signal` to every process of group `pgid`; false when the group is empty. */
function signalGroup(pgid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch (err) {
    // EPERM: a member exists that we may not signal (it changed its uid); it still counts.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export class PosixExecutor implements Executor {
  readonly isolation = ['posix/process-group'] as const;
  private readonly running = new Map<string, Running>();
  private readonly checkpoints = new Map<string, string>();
  private readonly listeners = new Set<ExitListener>();
  private readonly lingering = new Set<NodeJS.Timeout>();
  private closed = false;
  private readonly log: Logger;

  constructor(private readonly opts: PosixExecutorOptions) {
    this.log = opts.logger;
  }

  async launch(spec: LaunchSpec): Promise<Launched> {
    if (this.running.has(spec.key)) throw new LaunchError(`task ${spec.task.taskId} is already running`);
    const command = spec.task.command;
    if (!command?.value) throw new LaunchError(`task ${spec.task.taskId} has no command`);

    let launchDone!: () => void;
    const launched = new Promise<void>((resolve) => { launchDone = resolve; });
    let proc: Running;
    const fds: FileHandle[] = [];
    try {
      for (const name of ['stdout', 'stderr']) fds.push(await openLog(join(spec.sandbox, name), spec.user));
      const child = spawn(SHELL, [WRAPPER_PATH, spec.sandbox, ...commandArgv(command)], {
        cwd: spec.sandbox,
        // The wrapper starts the command as this user (`UID:GID`; empty: stays the agent's).
        env: { ...spec.environment, [RUN_AS_VAR]: spec.user ? `${spec.user.uid}:${spec.user.gid}` : '' },
        detached: true,
        // fd 3: the launch gate. The wrapper starts the command only once it reads `go` there,
        // which the agent writes after the launch checkpoint: no command runs that a restarted
        // agent could not find. An agent that dies first closes the gate, and the wrapper exits.
        stdio: ['ignore', fds[0]!.fd, fds[1]!.fd, 'pipe'],
      });
      if (child.pid === undefined) {
        const [e] = (await once(child, 'error')) as [Error];
        throw e;
      }
      // Listen before anything else is awaited: a short command may already be gone.
      proc = { key: spec.key, pid: child.pid, sandbox: spec.sandbox, child, killing: false, launched };
      const p = proc;
      child.once('exit', (code, signal) => void this.exited(p, signal ? { kind: 'executor-terminated', signal } : { kind: 'exited', code: code ?? 0 }));
      child.on('error', (e) => this.log.warn(`task ${spec.task.taskId}: ${e.message}`));
      // A wrapper gone before it read the gate makes the write fail (EPIPE): its exit says the rest.
      (child.stdio[3] as Writable | null)?.on('error', () => undefined);
      // The agent must be free to exit while tasks run on.
      child.unref();
      this.running.set(spec.key, proc);
    } catch (e) {
      throw new LaunchError(`cannot start task ${spec.task.taskId}: ${errorMessage(e)}`, { cause: e });
    } finally {
      await Promise.all(fds.map((fd) => fd.close()));
    }
    const pid = proc.pid;
    const gate = proc.child!.stdio[3] as Writable;

    try {
      const startTime = readProcStat(pid)?.startTime;
      const path = await writeCheckpoint(this.opts.workDir, {
        version: 1, frameworkId: spec.frameworkId, agentId: spec.agentId, task: spec.task,
        pid, pgid: pid, sandbox: spec.sandbox, launchedAt: Date.now() / 1000, startTime,
        ...(spec.cgroups ? { cgroups: spec.cgroups } : {}),
        ...(spec.user ? { user: spec.user } : {}),
      });
      this.checkpoints.set(spec.key, path);
      gate.end('go\n');
    } catch (e) {
      // Without its checkpoint a restarted agent could not find the task: it must not start.
      // Closing the gate ends the wrapper before the command; its exit is not reported (the launch failed).
      proc.abandoned = true;
      gate.destroy();
      throw new LaunchError(`cannot write the task's launch checkpoint, so its command did not start: ${errorMessage(e)}`, { cause: e });
    } finally {
      launchDone();
    }
    return { pid };
  }

  kill(key: string, graceMs: number): boolean {
    const proc = this.running.get(key);
    if (!proc) return false;
    if (proc.killing) return true;
    proc.killing = true;
    signalGroup(proc.pid, 'SIGTERM');
    const pgid = proc.pid;
    proc.killTimer = setTimeout(() => {
      this.lingering.delete(proc.killTimer!);
      if (signalGroup(pgid, 0)) {
        this.log.info(`task group ${pgid} outlived its ${graceMs} ms grace: SIGKILL`);
        signalGroup(pgid, 'SIGKILL');
      }
    }, graceMs);
    this.lingering.add(proc.killTimer);
    return true;
  }

  onExit(listener: ExitListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async release(key: string): Promise<void> {
    const path = this.checkpoints.get(key);
    this.checkpoints.delete(key);
    if (path) await removeCheckpoint(path).catch((e) => this.log.warn(`cannot remove checkpoint ${path}: ${errorMessage(e)}`));
  }

  async reattach(spec: ReattachSpec): Promise<boolean> {
    if (this.running.has(spec.key)) throw new LaunchError(`task ${spec.taskId} is already running`);
    const proc: Running = { key: spec.key, pid: spec.pid, sandbox: spec.sandbox, killing: false, launched: Promise.resolve() };
    this.running.set(spec.key, proc);
    this.checkpoints.set(spec.key, spec.checkpointPath);
    const gone = { kind: 'vanished' } as const;
    const alive = await isTaskWrapper(spec.pid, spec.sandbox, spec.startTime);
    if (!alive) {
      // A live process under that pid is another one (the pid was reused, which
      // the kernel does only once our group is empty): leave its group alone.
      const st = readProcStat(spec.pid);
      proc.foreign = !!st && st.state !== 'Z';
      setImmediate(() => void this.exited(proc, gone));
      return false;
    }
    // Not our child: no exit event. Its pid is polled (and checked against its
    // start time, so that a reused pid is not mistaken for it).
    const poll = async () => {
      this.lingering.delete(timer);
      const st = readProcStat(spec.pid);
      const live = !!st && st.state !== 'Z';
      if (live && (spec.startTime === undefined || st.startTime === spec.startTime)) {
        if (this.closed) return;
        timer = setTimeout(() => void poll(), REATTACH_POLL_MS);
        this.lingering.add(timer);
        return;
      }
      proc.foreign = live;
      void this.exited(proc, gone);
    };
    let timer = setTimeout(() => void poll(), REATTACH_POLL_MS);
    this.lingering.add(timer);
    return true;
  }

  close(): void {
    this.closed = true;
    for (const t of this.lingering) clearTimeout(t);
    this.lingering.clear();
    this.listeners.clear();
  }

  /** `fallback`: how the task ended when its wrapper recorded nothing. */
  private async exited(proc: Running, fallback: TaskExit): Promise<void> {
    // Closed: the agent is gone as far as its tasks are concerned (a restarted one takes over).
    if (this.closed) return;
    await proc.launched;
    this.running.delete(proc.key);
    const exit: TaskExit = readExitStatus(proc.sandbox) ?? fallback;

    if (proc.foreign || !signalGroup(proc.pid, 0)) {
      // Nothing left (of ours): no SIGKILL escalation needed.
      if (proc.killTimer) { clearTimeout(proc.killTimer); this.lingering.delete(proc.killTimer); }
    } else if (!proc.killing) {
      // The task's main process ended but some of its children did not: the
      // task is over, so they go too, as a container would be destroyed.
      this.log.info(`task group ${proc.pid}: main process ended, killing what is left of the group`);
      signalGroup(proc.pid, 'SIGKILL');
    }
    // When killing, the pending timer SIGKILLs survivors at the end of the grace.
    if (proc.abandoned) return;

    for (const l of this.listeners) {
      try {
        l(proc.key, exit);
      } catch (e) {
        this.log.error(`exit listener failed: ${errorMessage(e)}`);
      }
    }
  }
}
