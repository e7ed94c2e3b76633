/**
 * Master heap per agent and per task: a real master process with 10,000
 * simulated agents connected over real gRPC (a stream and a connection
 * each) and 100,000 running tasks, its heap read after a full GC.
 *
 *   H0: master alone ── start agents ──▶ H1: + 10,000 agents
 *       ── one framework launches 100,000 tasks, then suppresses and declines
 *          what is left ──▶ H2: + 100,000 tasks (no offers outstanding)
 *   per agent = (H1 − H0) / agents      per task = (H2 − H1) / tasks
 *
 * The heap is read inside the master by a preloaded probe (heap-probe.mjs,
 * `node --expose-gc --import`): on SIGUSR2 it runs gc() and prints
 * process.memoryUsage(). The master itself carries no switch for it. A real
 * process, rather than a Master with fake streams, so that what each agent
 * costs includes its gRPC stream and HTTP/2 session, as in production.
 *
 *   node --import tsx bench/heap-master.ts [--quick]
 */
import { BenchCluster, HEAP_PROBE, op, until, type BenchProc } from './cluster';
import { launchFleet } from './launch-simulated';
import { formatTable, type BenchRow } from './report';

interface Heap {
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
  rss: number;
}

/** Asks the probe in `master` for its heap after a full GC. */
async function heapOf(master: BenchProc): Promise<Heap> {
  const seen = master.lines('mezz-heap ').length;
  master.child.kill('SIGUSR2');
  const line = await until('the master to print its heap', () => master.lines('mezz-heap ')[seen], 30_000);
  return JSON.parse(line.slice('mezz-heap '.length)) as Heap;
}

/** The median heap of three readings a little apart, so a stray allocation does not decide the figure. */
async function settledHeap(master: BenchProc): Promise<Heap> {
  const readings: Heap[] = [];
  for (let i = 0; i < 3; i++) {
    await new Promise((r) => setTimeout(r, 500));
    readings.push(await heapOf(master));
  }
  return readings.sort((a, b) => a.heapUsed - b.heapUsed)[1]!;
}

const kb = (bytes: number) => bytes / 1024;

export async function benchMasterHeap(opts: { quick?: boolean } = {}): Promise<BenchRow[]> {
  const quick = opts.quick ?? false;
  const agents = quick ? 1000 : 10_000;
  const tasks = quick ? 10_000 : 100_000;
  const frameworks = 10;
  const c = new BenchCluster();
  try {
    // Pings every 5 s (10,000 agents pinging every second would keep a core busy for nothing measured here).
    const master = await c.master({
      nodeArgs: ['--expose-gc', '--import', HEAP_PROBE],
      args: ['--agent-ping-interval', '5', '--agent-ping-timeout', '60'],
    });
    const h0 = await settledHeap(master);
    await c.simulatedAgents(master.address, agents, ['--task-duration', '0', '--status-retry', '10s', '--ping-interval', '5s']);
    const operator = c.operator(master.address);
    await until(`${agents} agents ACTIVE`, async () => (await op<{ agentsActive: number }>(operator, 'getState')).agentsActive === agents, 120_000, 200);
    const h1 = await settledHeap(master);
    const run = await launchFleet(master.address, frameworks, tasks / frameworks, 'heap');
    // launchFleet closes its frameworks' streams; their offers are rescinded and nothing is outstanding.
    await until('no offers outstanding', async () => {
      const s = await op<{ offered?: { cpus: number } }>(operator, 'getState');
      return !s.offered?.cpus;
    }, 60_000, 200);
    const h2 = await settledHeap(master);
    const perAgent = (h1.heapUsed - h0.heapUsed) / agents;
    const perTask = (h2.heapUsed - h1.heapUsed) / tasks;
    const fmt = (h: Heap) => `${(h.heapUsed / 2 ** 20).toFixed(0)} MB`;
    return [
      {
        name: `master heap per agent (${agents.toLocaleString('en-US')} simulated agents over gRPC)`, value: kb(perAgent), unit: 'KB', goal: '≤ 20 KB',
        note: `heap after GC: ${fmt(h0)} alone, ${fmt(h1)} with the agents; rss ${(h1.rss / 2 ** 20).toFixed(0)} MB, external ${(h1.external / 2 ** 20).toFixed(0)} MB`,
      },
      {
        name: `master heap per task (${tasks.toLocaleString('en-US')} running tasks)`, value: kb(perTask), unit: 'KB', goal: '≤ 2 KB',
        note: `heap after GC: ${fmt(h2)} with the tasks; launched at ${run.rate.toFixed(0)} tasks/s by ${frameworks} frameworks, which then disconnected`,
      },
    ];
  } finally {
    await c.teardown();
  }
}

const isMain = process.argv[1]?.endsWith('bench/heap-master.ts');
if (isMain) {
  benchMasterHeap({ quick: process.argv.includes('--quick') }).then((rows) => console.log(formatTable(rows)), (err) => {
    console.error(err);
    process.exit(1);
  });
}
