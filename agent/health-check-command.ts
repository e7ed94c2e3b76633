/**
 * COMMAND health check: the command runs in the task's sandbox, as the
 * task's user, with the task's environment (plus the check's own variables), in a process group
 * of its own so that a timeout kills all of it; exit status 0 is healthy.
 * The tail of its output goes into the status message of a failure.
 */
import { spawn } from 'node:child_process';
import type { CommandInfo__Output } from '../lib/proto';
import { commandArgv } from './executor/index';
import type { Probe } from './health-check-probe';
import { asUser, type RunAs } from './users';

/** Bytes of a failing check's output kept for its message. */
const OUTPUT_TAIL = 512;

function killGroup(pid: number | undefined): void {
  if (!pid) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

export function commandProbe(command: CommandInfo__Output, opts: { cwd: string; env: Record<string, string>; user?: RunAs }): Probe {
  const argv = asUser(opts.user, commandArgv(command));
  const what = `command ${JSON.stringify(command.value)}`;
  return (signal) => new Promise((resolve) => {
    let out = '';
    const child = spawn(argv[0]!, argv.slice(1), { cwd: opts.cwd, env: opts.env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const keep = (d: Buffer) => { out = (out + d.toString()).slice(-OUTPUT_TAIL); };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    const onAbort = () => killGroup(child.pid);
    signal.addEventListener('abort', onAbort, { once: true });
    let settled = false;
    const settle = (r: Awaited<ReturnType<Probe>>) => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      child.stdout!.destroy();
      child.stderr!.destroy();
      resolve(r);
    };
    child.once('error', (err) => settle({ ok: false, reason: `${what} could not start: ${err.message}` }));
    child.once('exit', (code, sig) => {
      // What the check left behind in its group goes with it; then its output is
      // read to the end, waiting no longer than a moment for pipes held elsewhere.
      killGroup(child.pid);
      const finish = () => {
        if (code === 0) return settle({ ok: true, detail: `${what} exited with status 0`, exitCode: 0 });
        const how = signal.aborted ? (signal.reason as Error)?.message ?? 'aborted' : sig ? `was terminated by ${sig}` : `exited with status ${code}`;
        const tail = out.trim().split('\n').slice(-2).join(' / ');
        settle({ ok: false, reason: `${what} ${how}${tail ? `: ${tail}` : ''}`, ...(code !== null && !signal.aborted ? { exitCode: code } : {}) });
      };
      const t = setTimeout(finish, 100);
      child.once('close', () => { clearTimeout(t); finish(); });
    });
  });
}
