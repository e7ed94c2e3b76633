/**
 * Master failover: two masters on one etcd (`--etcd URL --lease-ttl 2`),
 * 1,000 simulated agents connected over real gRPC (in this process, a
 * stream and a connection each, every agent running two tasks). The leader
 * is killed with SIGKILL; the figure is the time from the kill until every
 * agent has re-registered with the new leader.
 *
 *   kill -9 leader ─▶ agents' streams fail ─▶ the standby answers "not the
 *   leader" until its campaign wins (the dead leader's lease must lapse:
 *   about the TTL) ─▶ it loads the registry and leads ─▶ agents re-register
 *   with their tasks
 *
 * Each trial restarts the killed master as a standby for the next one.
 * Skipped, with the reason, when etcd is not installed.
 *
 *   node --import tsx bench/failover.ts [--quick]
 */
import { performance } from 'node:perf_hooks';
import { startSimulatedAgents, type SimulatedAgents } from '../agent/simulated';
import { etcdInstalled, startEtcd, type EtcdProcess } from '../lib/etcd-process';
import type { LeaderInfo__Output } from '../lib/proto/generated/mezzanine/v1/LeaderInfo';
import { BenchCluster, op, until, type BenchProc } from './cluster';
import { launchFleet } from './launch-simulated';
import { formatTable, type BenchRow } from './report';
import { percentile } from './scheduler-wire';

const quiet = { debug() {}, info() {}, warn() {}, error() {} } as never;
const NAME = 'master failover, kill -9 of the leader → all agents re-registered with the new leader';

export async function benchFailover(opts: { quick?: boolean } = {}): Promise<BenchRow[]> {
  const quick = opts.quick ?? false;
  const agents = 1000;
  const trials = quick ? 1 : 3;
  const ttl = 2;
  if (!etcdInstalled()) {
    return [{ name: NAME, value: NaN, unit: 's', goal: '≤ 3 s', skipped: 'skipped: etcd is not installed (apt-get install etcd-server, or set ETCD_BIN)' }];
  }
  const c = new BenchCluster();
  let etcd: EtcdProcess | undefined;
  let sim: SimulatedAgents | undefined;
  // A thousand agents failing over make thousands of failed gRPC calls, each with errors whose stacks
  // were source-mapped: 8 % of this process's CPU (the agents'), a cost of simulating; off while it runs.
  const sourceMaps = process.sourceMapsEnabled;
  process.setSourceMapsEnabled(false);
  try {
    etcd = await startEtcd({ dataDir: `${c.dir}/etcd` });
    // A restarted master takes its old port (the last --port wins), where the agents look for it.
    const masterArgs = (name: string, port = 0) => ({
      name, args: [
        '--etcd', etcd!.endpoint, '--lease-ttl', String(ttl), '--agent-reregister-timeout', '60', '--agent-ping-interval', '2', '--agent-ping-timeout', '20',
        '--port', String(port),
      ],
    });
    const masters: BenchProc[] = [await c.master(masterArgs('m0')), await c.master(masterArgs('m1'))];
    // The leader once every master names the same one and it says it leads.
    const leaderOf = async (): Promise<BenchProc> => until('the masters to agree on a leader', async () => {
      const infos = await Promise.all(masters.map((m) => op<LeaderInfo__Output>(c.operator(m.address), 'getLeader', {}, 2000).catch(() => undefined)));
      const named = new Set(infos.map((i) => i?.leader));
      const [only] = named;
      const leading = masters.find((m, i) => m.address === only && infos[i]?.isLeader);
      return named.size === 1 ? leading : undefined;
    }, 60_000, 100);
    let leader = await leaderOf();
    sim = await startSimulatedAgents({
      masters: masters.map((m) => m.address), count: agents, taskDurationMs: 0, statusRetryMs: 10_000, pingIntervalMs: 2000, logger: quiet,
    });
    // The first registration of a thousand agents is a storm (a registry write each) in which leadership
    // may change hands; start from a leader that has kept every agent for a while.
    const settled = async (): Promise<BenchProc> => {
      for (;;) {
        await sim!.waitRegistered({ timeoutMs: 120_000 });
        const before = await leaderOf();
        const id = sim!.agents[0]!.masterId;
        await new Promise((r) => setTimeout(r, 2000));
        if ((await leaderOf()) === before && sim!.registered(id) === agents) return before;
      }
    };
    leader = await settled();
    for (let attempt = 1; ; attempt++) {
      try {
        await launchFleet(leader.address, 10, (2 * agents) / 10, `failover-${attempt}`);
        break;
      } catch (err) {
        if (attempt === 3) throw err;
        leader = await settled();
      }
    }
    leader = await settled();

    const totals: number[] = [];
    const firsts: number[] = [];
    const medians: string[] = [];
    for (let t = 0; t < trials; t++) {
      const oldMaster = sim.agents[0]!.masterId;
      const killedAt = Date.now();
      process.stderr.write(`failover: killing ${leader.name} at ${new Date(killedAt).toISOString()}\n`);
      const t0 = performance.now();
      await leader.kill9();
      const s = sim;
      await until(`all ${agents} agents to re-register with a new leader`, () => s.agents.every((a) => a.connected && a.masterId !== oldMaster), 60_000, 10);
      const after = s.agents.map((a) => (a.registeredAt - killedAt) / 1000);
      if (process.env.MEZZ_BENCH_PROFILE) {
        // The failover window on the monotonic clock in µs, the clock of CPU profiles.
        const nowUs = Number(process.hrtime.bigint() / 1000n) - performance.now() * 1000;
        process.stderr.write(`failover: profile window ${Math.round(nowUs + t0 * 1000)} ${Math.round(nowUs + performance.now() * 1000)}\n`);
      }
      totals.push(Math.max(...after));
      firsts.push(Math.min(...after));
      medians.push(percentile(after, 50).toFixed(2));
      process.stderr.write(`failover: trial ${t + 1}: all re-registered ${Math.max(...after).toFixed(2)} s after the kill (first ${Math.min(...after).toFixed(2)} s; ${((performance.now() - t0) / 1000).toFixed(2)} s observed)\n`);
      if (process.env.MEZZ_BENCH_LOG_LEVEL) {
        for (const m of masters) process.stderr.write(`--- ${m.name}\n${m.output().split('\n').filter((l) => !/registered from/.test(l)).slice(-40).join('\n')}\n`);
      }
      // The killed master comes back as a standby for the next trial.
      const i = masters.indexOf(leader);
      masters[i] = await c.master(masterArgs(`m${i}-${t + 1}`, leader.port));
      if (t + 1 < trials) leader = await settled();
    }
    const median = percentile(totals, 50);
    return [{
      name: NAME, value: median, unit: 's', goal: '≤ 3 s',
      note: `${agents.toLocaleString('en-US')} simulated agents with ${(2 * agents).toLocaleString('en-US')} tasks, lease TTL ${ttl} s; median of ${trials} trial(s): ${totals.map((x) => x.toFixed(2)).join(', ')} s; first agent back after ${firsts.map((x) => x.toFixed(2)).join(', ')} s, half of them after ${medians.join(', ')} s`,
    }];
  } finally {
    process.setSourceMapsEnabled(sourceMaps);
    await sim?.stop();
    await c.teardown();
    await etcd?.stop();
  }
}

const isMain = process.argv[1]?.endsWith('bench/failover.ts');
if (isMain) {
  benchFailover({ quick: process.argv.includes('--quick') }).then((rows) => console.log(formatTable(rows)), (err) => {
    console.error(err);
    process.exit(1);
  });
}
