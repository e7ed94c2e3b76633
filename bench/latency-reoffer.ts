/**
 * Re-offer latency: how soon resources freed by one framework's task appear
 * in an OFFERS event at another framework, beside a plain gRPC round trip
 * measured in the same run.
 *
 *   real master ◀── simulated agents (N, each room for exactly one task)
 *        ▲
 *   framework A: a task on every agent, then SUPPRESS
 *   framework B: nothing; declines every offer it gets (refuse 1 h)
 *
 *   sample: A kills its task on agent X ─▶ agent: KILLED ─▶ master frees X
 *           ─▶ UPDATE(KILLED) to A   and   ─▶ allocation ─▶ OFFERS(X) to B
 *   figure: B's OFFERS(X) − A's UPDATE(KILLED). The master sends both the
 *           moment it has processed the terminal update (UPDATE first), over
 *           the same loopback into this process, so the hops cancel and the
 *           difference is the master's free-to-offer time. Kill → OFFERS is
 *           reported beside it.
 *   round:  when every agent was freed once, A revives and refills them all,
 *           suppresses again, and B revives (drops its filters).
 *
 *   node --import tsx bench/latency-reoffer.ts [--quick]
 */
import { performance } from 'node:perf_hooks';
import { BenchCluster, op, until } from './cluster';
import { formatTable, type BenchRow } from './report';
import { percentile, WireScheduler, wireTask } from './scheduler-wire';

const SHAPE = { cpus: 1, mem: 128 };

interface Sample {
  kill: number;
  update?: number;
  offer?: number;
}

export async function benchReofferLatency(opts: { quick?: boolean } = {}): Promise<BenchRow[]> {
  const quick = opts.quick ?? false;
  const agentsN = quick ? 40 : 100;
  const samplesN = quick ? 200 : 1000;
  const rttN = quick ? 500 : 2000;
  const c = new BenchCluster();
  try {
    const master = await c.master();
    await c.simulatedAgents(master.address, agentsN, ['--resources', 'cpus:1;mem:128;disk:0;ports:[]', '--task-duration', '0']);

    // A plain round trip on the same master, same process, same moment.
    const operator = c.operator(master.address);
    for (let i = 0; i < 100; i++) await op(operator, 'getVersion');
    const rtts: number[] = [];
    for (let i = 0; i < rttN; i++) {
      const t0 = performance.now();
      await op(operator, 'getVersion');
      rtts.push(performance.now() - t0);
    }

    const a = new WireScheduler(master.address);
    const b = new WireScheduler(master.address);
    let round = 0;
    const running = new Set<string>();
    const taskOn = new Map<string, string>(); // agentId → A's task on it
    let current: { agentId: string; taskId: string; s: Sample; done: () => void } | undefined;

    a.handlers = {
      offers: (offers) => {
        for (const o of offers) {
          const id = `a-${round}-${o.agentId}`;
          taskOn.set(o.agentId, id);
          a.launch(o.id, [wireTask(id, 'sleep 3600', SHAPE)], 3600);
        }
      },
      update: (s) => {
        if (s.state === 'TASK_RUNNING') running.add(s.taskId);
        if (current && s.taskId === current.taskId && s.state === 'TASK_KILLED') {
          current.s.update ??= performance.now();
          if (current.s.offer !== undefined) current.done();
        }
      },
    };
    b.handlers = {
      offers: (offers) => {
        const now = performance.now();
        for (const o of offers) if (current && o.agentId === current.agentId) current.s.offer ??= now;
        b.decline(offers.map((o) => o.id), 3600);
        if (current?.s.offer !== undefined && current.s.update !== undefined) current.done();
      },
    };
    await a.subscribe({ name: 'reoffer-a' });
    await until(`A's tasks RUNNING on all ${agentsN} agents`, () => running.size === agentsN, 60_000);
    a.send({ suppress: { roles: [] } });
    await b.subscribe({ name: 'reoffer-b' });
    await new Promise((r) => setTimeout(r, 200));

    const samples: Sample[] = [];
    while (samples.length < samplesN) {
      for (const [agentId, taskId] of [...taskOn]) {
        if (samples.length >= samplesN) break;
        const s: Sample = { kill: performance.now() };
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`no re-offer of agent ${agentId} within 10 s (update ${s.update !== undefined})`)), 10_000);
          current = { agentId, taskId, s, done: () => { clearTimeout(timer); resolve(); } };
          s.kill = performance.now();
          a.send({ kill: { taskId, agentId } });
        });
        current = undefined;
        samples.push(s);
      }
      if (samples.length >= samplesN) break;
      // Refill: A takes every agent again, then B forgets its filters.
      round++;
      running.clear();
      taskOn.clear();
      a.send({ revive: { roles: [] } });
      await until(`A's tasks RUNNING again on all ${agentsN} agents`, () => running.size === agentsN, 60_000);
      a.send({ suppress: { roles: [] } });
      b.send({ revive: { roles: [] } });
      await new Promise((r) => setTimeout(r, 100));
    }
    a.close();
    b.close();

    const freed = samples.map((s) => s.offer! - s.update!);
    const fromKill = samples.map((s) => s.offer! - s.kill);
    const note = `${samples.length} samples over ${agentsN} simulated agents, ${round + 1} round(s)`;
    const rttNote = `gRPC unary round trip in the same run: p50 ${percentile(rtts, 50).toFixed(2)} ms, p99 ${percentile(rtts, 99).toFixed(2)} ms`;
    return [
      { name: 're-offer latency p50 (resources freed → OFFERS at another framework)', value: percentile(freed, 50), unit: 'ms', note },
      { name: 're-offer latency p99 (resources freed → OFFERS at another framework)', value: percentile(freed, 99), unit: 'ms', goal: '≤ 20 ms', note: rttNote },
      { name: 'kill sent → OFFERS at another framework, p50 / p99', value: percentile(fromKill, 50), unit: 'ms', note: `p99 ${percentile(fromKill, 99).toFixed(2)} ms: framework → master → agent → master → framework, plus the allocation` },
      { name: 'gRPC unary round trip (Operator.GetVersion) p50', value: percentile(rtts, 50), unit: 'ms', note: `${rttN} sequential calls; p99 ${percentile(rtts, 99).toFixed(2)} ms` },
    ];
  } finally {
    await c.teardown();
  }
}

const isMain = process.argv[1]?.endsWith('bench/latency-reoffer.ts');
if (isMain) {
  benchReofferLatency({ quick: process.argv.includes('--quick') }).then((rows) => console.log(formatTable(rows)), (err) => {
    console.error(err);
    process.exit(1);
  });
}
