/**
 * `mezz logs TASK`: a task's stdout (or stderr) from its sandbox, read
 * through the master in chunks and written to our stdout byte for byte.
 *
 *   read chunk ─▶ write ─▶ … EOF ─┬─ done                       (no --follow)
 *                                 └─ wait 300 ms ─▶ read again ─▶ nothing new? task terminal?
 *                                                                   └─ yes: final read, done
 */
import type { Command } from 'commander';
import { isTerminal } from '../../lib/proto';
import type { OperatorConnection } from '../client';
import { withMaster } from '../context';
import { listAllTasks } from './tasks';

/** Bytes asked for per call. */
const CHUNK = 64 * 1024;
const POLL_MS = 300;

interface LogsOptions {
  stderr?: boolean;
  follow?: boolean;
}

export function registerLogs(program: Command): void {
  program
    .command('logs <task>')
    .description("print a task's stdout (or --stderr) from its sandbox")
    .option('--stderr', 'the task\'s stderr instead of its stdout')
    .option('-f, --follow', 'keep printing as the task writes, until it ends (Ctrl-C stops)')
    .action((taskId: string, opts: LogsOptions, cmd: Command) => withMaster(cmd, (conn) =>
      printTaskLog(conn, taskId, opts.stderr ? 'stderr' : 'stdout', Boolean(opts.follow))));
}

/** Writes a task's stdout or stderr to our stdout, raw; with `follow`, until the task ends (Ctrl-C or a closed pipe stops quietly). `mezz job logs` uses it too. */
export async function printTaskLog(conn: OperatorConnection, taskId: string, stream: 'stdout' | 'stderr', follow: boolean): Promise<void> {
  const stop = stopSignal();
  try {
    await followFile(conn, taskId, stream, follow, stop);
  } finally {
    stop.dispose();
  }
}

/** Ctrl-C (or a closed pipe on stdout) ends a follow quietly. */
interface Stop {
  readonly stopped: boolean;
  /** Resolves after `ms`, or at once when stopped. */
  sleep(ms: number): Promise<void>;
  dispose(): void;
}

function stopSignal(): Stop {
  let stopped = false;
  let wake: (() => void) | undefined;
  const stop = () => {
    stopped = true;
    wake?.();
  };
  const onPipeError = (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') stop(); // `mezz logs -f t | head`: the reader is gone
    else throw err;
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  process.stdout.on('error', onPipeError);
  return {
    get stopped() {
      return stopped;
    },
    sleep: (ms) => new Promise((resolve) => {
      if (stopped) return resolve();
      const timer = setTimeout(resolve, ms);
      wake = () => { clearTimeout(timer); resolve(); };
    }),
    dispose() {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      process.stdout.off('error', onPipeError);
    },
  };
}

async function followFile(conn: OperatorConnection, taskId: string, path: string, follow: boolean, stop: Stop): Promise<void> {
  let offset = 0;

  /** Reads from `offset` to the end of the file as it is now; true when anything was read. */
  const drain = async (): Promise<boolean> => {
    let any = false;
    while (!stop.stopped) {
      const res = await conn.call('readTaskFile', { taskId, path, offset, length: CHUNK });
      if (!res.data.length && Number(res.size) < offset) {
        // The agent rotated the log (copied it to PATH.1 and truncated it): read it from its start.
        offset = 0;
        continue;
      }
      if (!res.data.length) break;
      any = true;
      await write(res.data);
      offset = Number(res.offset) + res.data.length;
      if (offset >= Number(res.size)) break;
    }
    return any;
  };

  await drain();
  while (follow && !stop.stopped) {
    await stop.sleep(POLL_MS);
    if (stop.stopped || (await drain())) continue;
    // Nothing new: has the task ended? Then read once more (it may have
    // written between our last read and its end) and stop.
    if (await taskEnded(conn, taskId)) {
      await drain();
      return;
    }
  }
}

/** True when the task is terminal, or the master no longer lists it. */
async function taskEnded(conn: OperatorConnection, taskId: string): Promise<boolean> {
  const tasks = await listAllTasks(conn);
  const task = tasks.find((t) => t.id === taskId);
  return !task || isTerminal(task.state);
}

/** Resolves once `data` is flushed (or failed: a closed pipe is handled by stopSignal), so memory stays bounded. */
function write(data: Buffer): Promise<void> {
  return new Promise((resolve) => process.stdout.write(data, () => resolve()));
}
