/**
 * Launch throughput at scale: 10 frameworks launch tasks onto 1,000
 * simulated agents (one `mezz-agent --simulate` process, real gRPC, a
 * stream and a connection per agent) through a real master. The figure is
 * tasks per second from the first ACCEPT to the last TASK_RUNNING
 * acknowledged (every update is acknowledged the moment it arrives).
 *
 *   10 frameworks (this process) ─ACCEPT→ master ─run_tasks→ simulated agents
 *        ↑ ack ─────────── UPDATE(STARTING, RUNNING) ───────────┘
 *
 * Tasks keep running (task duration 0), so every launch is a new task on
 * free resources. Each framework fills each offer it gets (40 tasks of 0.1
 * cpu fit an agent of 4) and sends it back with no filter, so its leftovers
 * are offered again on the next allocation.
 *
 *   node --import tsx bench/launch-simulated.ts [--quick]
 */
import { performance } from 'node:perf_hooks';
import { BenchCluster, ownCpuSeconds, until } from './cluster';
import { formatTable, type BenchRow } from './report';
import { fits, WireScheduler, wireTask } from './scheduler-wire';

const SHAPE = { cpus: 0.1, mem: 32 };

export interface LaunchRun {
  tasks: number;
  seconds: number;
  rate: number;
  /** Status updates received per task (2 without resends: STARTING, RUNNING). */
  updatesPerTask: number;
  /** CPU µs per task of each measured process over the launch, e.g. `master 180, agents 150, frameworks 90`. */
  cpu: string;
}

/** A process whose CPU time a launch reports. */
export interface Measured {
  name: string;
  cpuSeconds(): number;
}

/**
 * Launches `perFramework` tasks from each of `frameworks` frameworks on
 * whatever offers come, and resolves once every task is RUNNING. Offers
 * not needed are declined for an hour.
 */
export async function launchFleet(master: string, frameworks: number, perFramework: number, tag: string, measured: Measured[] = []): Promise<LaunchRun> {
  const fws: WireScheduler[] = [];
  let first = 0;
  let last = 0;
  let runningCount = 0;
  let updates = 0;
  let cpuAtFirst: number[] = [];
  const start = () => {
    first = performance.now();
    cpuAtFirst = measured.map((m) => m.cpuSeconds());
  };
  let refused = '';
  for (let f = 0; f < frameworks; f++) {
    const fw = new WireScheduler(master);
    let next = 0;
    const running = new Set<string>();
    fw.handlers = {
      offers: (offers) => {
        const unused: string[] = [];
        for (const o of offers) {
          const k = Math.min(fits(o, SHAPE), perFramework - next);
          if (k <= 0) {
            unused.push(o.id);
            continue;
          }
          const tasks = Array.from({ length: k }, () => wireTask(`${tag}-${f}-${next++}`, 'sleep 3600', SHAPE));
          if (!first) start();
          fw.launch(o.id, tasks, 0);
        }
        fw.decline(unused, 3600);
        if (next >= perFramework && unused.length) fw.send({ suppress: { roles: [] } });
      },
      update: (s) => {
        updates++;
        if (s.state === 'TASK_RUNNING' && s.uuid && !running.has(s.taskId)) {
          running.add(s.taskId);
          runningCount++;
          last = performance.now();
        } else if (s.state !== 'TASK_STARTING' && s.state !== 'TASK_RUNNING') {
          refused ||= `${s.taskId}: ${s.state} ${s.message}`;
        }
      },
      error: (m) => (refused ||= m),
    };
    fws.push(fw);
  }
  await Promise.all(fws.map((fw, f) => fw.subscribe({ name: `${tag}-${f}` })));
  const total = frameworks * perFramework;
  try {
    await until(`${total} tasks RUNNING`, () => {
      if (refused) throw new Error(`a launch went wrong: ${refused}`);
      return runningCount >= total;
    }, 600_000);
  } finally {
    for (const fw of fws) fw.close();
  }
  const cpu = measured.map((m, i) => `${m.name} ${Math.round(((m.cpuSeconds() - cpuAtFirst[i]!) * 1e6) / total)}`).join(', ');
  const seconds = (last - first) / 1000;
  if (process.env.MEZZ_BENCH_PROFILE) {
    // The launch window on the monotonic clock in µs, the clock of CPU profiles: to read theirs for this window only.
    const nowUs = Number(process.hrtime.bigint() / 1000n) - performance.now() * 1000;
    process.stderr.write(`${tag}: profile window ${Math.round(nowUs + first * 1000)} ${Math.round(nowUs + last * 1000)}\n`);
  }
  return { tasks: total, seconds, rate: total / seconds, updatesPerTask: updates / total, cpu };
}

export async function benchLaunchSimulated(opts: { quick?: boolean } = {}): Promise<BenchRow[]> {
  const quick = opts.quick ?? false;
  const agents = 1000;
  const frameworks = 10;
  const perFramework = quick ? 500 : 2000;
  const c = new BenchCluster();
  try {
    const master = await c.master({ args: ['--agent-ping-interval', '5', '--agent-ping-timeout', '30'] });
    const sim = await c.simulatedAgents(master.address, agents, ['--task-duration', '0', '--status-retry', '10s']);
    const run = await launchFleet(master.address, frameworks, perFramework, 'sim', [
      { name: 'master', cpuSeconds: master.cpuSeconds }, { name: 'agents', cpuSeconds: sim.cpuSeconds }, { name: 'frameworks', cpuSeconds: ownCpuSeconds },
    ]);
    return [{
      name: `launch throughput, ${agents.toLocaleString('en-US')} simulated agents × ${frameworks} frameworks (ACCEPT → RUNNING acknowledged)`,
      value: run.rate, unit: 'tasks/s', goal: '≥ 2,000 tasks/s',
      note: `${run.tasks.toLocaleString('en-US')} tasks in ${run.seconds.toFixed(2)} s; CPU µs per task: ${run.cpu}; ${run.updatesPerTask.toFixed(2)} updates per task`,
    }];
  } finally {
    await c.teardown();
  }
}

const isMain = process.argv[1]?.endsWith('bench/launch-simulated.ts');
if (isMain) {
  benchLaunchSimulated({ quick: process.argv.includes('--quick') }).then((rows) => console.log(formatTable(rows)), (err) => {
    console.error(err);
    process.exit(1);
  });
}
