/**
 * End-to-end launch throughput with real processes: one framework launches
 * N tasks running `true` on one real agent, from the first ACCEPT to the
 * last TASK_FINISHED, beside the rate at which this machine spawns `true`
 * with child_process (measured in the same run, just before). The figure is
 * their ratio.
 *
 *   framework ─ACCEPT→ master ─run_tasks→ agent: sandbox, wrapper, `true`
 *             ←UPDATE(STARTING, RUNNING, FINISHED)── master ←─ agent
 *
 *   node --import tsx bench/launch-real.ts [--quick]
 */
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { BenchCluster, childCpuSecondsOf, ownCpuSeconds, until } from './cluster';
import { formatTable, type BenchRow } from './report';
import { fits, WireScheduler, wireTask } from './scheduler-wire';

const SHAPE = { cpus: 0.1, mem: 16 };
const TERMINAL = new Set(['TASK_FINISHED', 'TASK_FAILED', 'TASK_KILLED', 'TASK_ERROR', 'TASK_LOST', 'TASK_DROPPED']);

/** Spawns `true` n times, at most `parallel` at once; resolves with completed spawns per second. */
export async function spawnRate(n: number, parallel: number): Promise<number> {
  const t0 = performance.now();
  let started = 0;
  let done = 0;
  await new Promise<void>((resolve, reject) => {
    const next = (): void => {
      if (done === n) return resolve();
      while (started < n && started - done < parallel) {
        started++;
        const child = spawn('true', [], { stdio: 'ignore' });
        child.on('error', reject);
        child.on('exit', () => {
          done++;
          next();
        });
      }
    };
    next();
  });
  return n / ((performance.now() - t0) / 1000);
}

export async function benchLaunchReal(opts: { quick?: boolean } = {}): Promise<BenchRow[]> {
  const quick = opts.quick ?? false;
  const n = quick ? 150 : 500;
  const c = new BenchCluster();
  try {
    // The machine's own rate first, while nothing else of ours runs.
    await spawnRate(50, 4);
    const sequential = await spawnRate(n, 1);
    const parallel = await spawnRate(n, 8);
    const raw = Math.max(sequential, parallel);

    const master = await c.master();
    const agent = await c.agent(master.address, { resources: 'cpus:64;mem:65536;disk:10000;ports:[31000-31010]', env: { MEZZ_LOG_LEVEL: 'info' } });
    const fw = new WireScheduler(master.address);
    // CPU of each process over the launch; the agent's reaped children are its tasks' wrappers and commands.
    const measured = [
      { name: 'agent', cpuSeconds: agent.cpuSeconds }, { name: 'tasks', cpuSeconds: () => childCpuSecondsOf(agent.child.pid!) },
      { name: 'master', cpuSeconds: master.cpuSeconds }, { name: 'framework', cpuSeconds: ownCpuSeconds },
    ];
    let cpuAtFirst: number[] = [];
    let cpuAtLast: number[] = [];
    let next = 0;
    let first = 0;
    let last = 0;
    const outcome = new Map<string, string>();
    fw.handlers = {
      offers: (offers) => {
        for (const o of offers) {
          const k = Math.min(fits(o, SHAPE), n - next);
          if (k <= 0) {
            fw.decline([o.id], 3600);
            continue;
          }
          const tasks = Array.from({ length: k }, () => wireTask(`t-${next++}`, 'true', SHAPE));
          if (!first) {
            first = performance.now();
            cpuAtFirst = measured.map((m) => m.cpuSeconds());
          }
          fw.launch(o.id, tasks, 0);
        }
      },
      update: (s) => {
        if (TERMINAL.has(s.state) && !outcome.has(s.taskId)) {
          outcome.set(s.taskId, s.state);
          last = performance.now();
          if (outcome.size === n) cpuAtLast = measured.map((m) => m.cpuSeconds());
        }
      },
    };
    await fw.subscribe({ name: 'launch-real' });
    await until(`${n} tasks to end (${agent.name})`, () => outcome.size >= n, 300_000);
    fw.close();
    if (process.env.MEZZ_BENCH_PROFILE) {
      // The launch window on the monotonic clock in µs, the clock of CPU profiles.
      const nowUs = Number(process.hrtime.bigint() / 1000n) - performance.now() * 1000;
      process.stderr.write(`launch-real: profile window ${Math.round(nowUs + first * 1000)} ${Math.round(nowUs + last * 1000)}\n`);
    }
    const failed = [...outcome.values()].filter((s) => s !== 'TASK_FINISHED').length;
    if (failed) throw new Error(`${failed} of ${n} tasks did not finish: ${[...new Set(outcome.values())].join(', ')}`);
    const rate = n / ((last - first) / 1000);
    const cpu = measured.map((m, i) => `${m.name} ${Math.round(((cpuAtLast[i]! - cpuAtFirst[i]!) * 1e6) / n)}`).join(', ');
    return [
      {
        name: 'launch throughput, real processes on one agent (ACCEPT → FINISHED of `true`)', value: rate, unit: 'tasks/s',
        note: `${n} tasks in ${((last - first) / 1000).toFixed(2)} s; CPU µs per task: ${cpu}`,
      },
      {
        name: 'raw spawn rate of `true` with child_process, same run', value: raw, unit: 'spawns/s',
        note: `one at a time ${sequential.toFixed(0)}/s, 8 at a time ${parallel.toFixed(0)}/s; the faster is the limit`,
      },
      { name: 'real-process launch throughput / raw spawn rate', value: (100 * rate) / raw, unit: '%', goal: '≥ 70 %' },
    ];
  } finally {
    await c.teardown();
  }
}

const isMain = process.argv[1]?.endsWith('bench/launch-real.ts');
if (isMain) {
  benchLaunchReal({ quick: process.argv.includes('--quick') }).then((rows) => console.log(formatTable(rows)), (err) => {
    console.error(err);
    process.exit(1);
  });
}
