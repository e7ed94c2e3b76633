/**
 * The services framework at scale, driven through its Marathon API as a
 * client would: a real master, simulated agents (`mezz-agent --simulate`)
 * and a real `mezz-services` process with its embedded store in a temporary
 * `--data-dir`.
 *
 *   launch: POST /v2/apps {instances: 1,000} ─▶ mezz-services stores it, revives, reconciles
 *           ─▶ launches on 100 agents ─▶ … ─▶ GET /v2/apps?id=… says tasksRunning 1,000
 *           beside the raw wire's launch of 1,000 tasks on the same agents (one framework in
 *           this process, first ACCEPT → last RUNNING): the cluster's own limit
 *   list:   1,000 apps of one running instance each; GET /v2/apps, p50 and p99 of sequential
 *           requests after a warm-up, each followed by a GET /v2/info (same server, same
 *           hooks, a tiny body): the server's own floor, under the same load
 *
 * The launch is watched by polling the app's row of the list (`?id=`): its
 * counts without its 1,000 embedded tasks, which GET /v2/apps/{id} would
 * serialize on every poll.
 *
 *   node --import tsx bench/services.ts [--quick]
 */
import http from 'node:http';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { BenchCluster, ownCpuSeconds, until, type BenchProc } from './cluster';
import { launchFleet, type Measured } from './launch-simulated';
import { formatTable, ofGoal, type BenchRow } from './report';
import { percentile } from './scheduler-wire';
import { call, expectStatus } from './http';

/** How often the launch is polled: the figure's resolution. */
const POLL_MS = 10;
/** POSTs in flight at once while the list bench defines its apps. */
const DEFINE_PARALLEL = 4;
const LAUNCH_GOAL = '≤ 2 s';
const LIST_GOAL = '≤ 50 ms';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** With MEZZ_BENCH_PROFILE: a measured window on the monotonic clock in µs, the clock of CPU profiles, to read them for that window only. */
function printProfileWindow(tag: string, from: number, to: number): void {
  if (!process.env.MEZZ_BENCH_PROFILE) return;
  const nowUs = Number(process.hrtime.bigint() / 1000n) - performance.now() * 1000;
  process.stderr.write(`${tag}: profile window ${Math.round(nowUs + from * 1000)} ${Math.round(nowUs + to * 1000)}\n`);
}

/** A small app of `instances` tasks that run until killed (simulated agents run nothing). */
const benchApp = (id: string, instances: number, cpus: number, mem: number) => ({ id, cmd: 'sleep 3600', cpus, mem, instances });

/** `mezz-services` on the cluster's master; resolves once it leads (writes are accepted). */
async function startServices(c: BenchCluster, master: string): Promise<{ proc: BenchProc; base: string }> {
  const proc = await c.spawn('services', 'mezz-services.mjs', [
    '--master', master, '--host', '127.0.0.1', '--port', '0', '--data-dir', path.join(c.dir, 'services'),
  ]);
  const base = `http://${proc.address}`;
  await until('mezz-services to lead', async () => (await call(base, 'GET', '/v2/info')).body?.elected === true, 60_000, 50);
  return { proc, base };
}

export interface ServicesLaunch {
  /** POST sent → the poll that saw every instance RUNNING. */
  seconds: number;
  /** POST sent → its 201. */
  answeredMs: number;
  /** POST sent → the poll that saw every instance staged or running (all launched). */
  launchedMs: number;
  /** CPU µs per task of each measured process, as launchFleet's. */
  cpu: string;
}

/** POSTs one app of `instances` and polls its counts until all are RUNNING, printing progress each second. */
export async function launchApp(base: string, id: string, instances: number, measured: Measured[]): Promise<ServicesLaunch> {
  const cpuAtStart = measured.map((m) => m.cpuSeconds());
  const t0 = performance.now();
  await expectStatus(base, 'POST', '/v2/apps', 201, benchApp(id, instances, 0.1, 32));
  const answeredMs = performance.now() - t0;
  let launchedMs = NaN;
  let shown = t0;
  for (;;) {
    const app = (await expectStatus(base, 'GET', `/v2/apps?id=${encodeURIComponent(id)}`, 200)).body.apps.find((a: { id: string }) => a.id === id);
    const now = performance.now();
    if (!app) throw new Error(`${id} is not in GET /v2/apps after its POST`);
    if (Number.isNaN(launchedMs) && app.tasksStaged + app.tasksRunning >= instances) launchedMs = now - t0;
    if (app.tasksRunning >= instances) {
      const cpu = measured.map((m, i) => `${m.name} ${Math.round(((m.cpuSeconds() - cpuAtStart[i]!) * 1e6) / instances)}`).join(', ');
      printProfileWindow('services launch', t0, now);
      return { seconds: (now - t0) / 1000, answeredMs, launchedMs, cpu };
    }
    if (now - shown >= 1000) {
      shown = now;
      process.stderr.write(`services launch: ${app.tasksRunning}/${instances} running, ${app.tasksStaged} staged after ${((now - t0) / 1000).toFixed(1)} s\n`);
    }
    if (now - t0 > 300_000) throw new Error(`after 300 s only ${app.tasksRunning} of ${instances} instances of ${id} are running`);
    await sleep(POLL_MS);
  }
}

/** Deletes an app and waits until none of its tasks is left. */
async function deleteApp(base: string, id: string): Promise<void> {
  await expectStatus(base, 'DELETE', `/v2/apps${id}`, 200);
  await until(`the tasks of ${id} to end`, async () => (await expectStatus(base, 'GET', '/v2/tasks', 200)).body.tasks.length === 0, 120_000, 200);
}

/** Defines `count` apps of one instance each, a few POSTs at a time, then waits until every instance runs. */
async function defineApps(base: string, count: number): Promise<void> {
  let next = 0;
  const t0 = performance.now();
  const worker = async () => {
    while (next < count) {
      const i = next++;
      await expectStatus(base, 'POST', '/v2/apps', 201, benchApp(`/bench/list/app-${String(i).padStart(4, '0')}`, 1, 0.01, 8));
      if ((i + 1) % 200 === 0) process.stderr.write(`services list: ${i + 1}/${count} apps defined after ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
    }
  };
  await Promise.all(Array.from({ length: DEFINE_PARALLEL }, worker));
  let shown = performance.now();
  await until(`the ${count} apps' instances to run`, async () => {
    const tasks: { state: string }[] = (await expectStatus(base, 'GET', '/v2/tasks', 200)).body.tasks;
    const running = tasks.filter((t) => t.state === 'TASK_RUNNING').length;
    if (performance.now() - shown >= 2000) {
      shown = performance.now();
      process.stderr.write(`services list: ${running}/${count} instances running\n`);
    }
    return running >= count;
  }, 300_000, 250);
}

/**
 * One GET on a kept-alive connection, timed from the request to the last
 * byte of the answer; the body is counted, not parsed, so that the figure is
 * the server's and not this client's JSON parser's.
 */
function timedGet(agent: http.Agent, url: string): Promise<{ ms: number; bytes: number }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    http.get(url, { agent }, (res) => {
      let bytes = 0;
      res.on('data', (d: Buffer) => (bytes += d.length));
      res.on('end', () => (res.statusCode === 200 ? resolve({ ms: performance.now() - t0, bytes }) : reject(new Error(`GET ${url}: ${res.statusCode}`))));
      res.on('error', reject);
    }).on('error', reject);
  });
}

export interface ListLatency {
  list: number[];
  floor: number[];
  bytes: number;
  /** CPU ms of the server per list request and the info request after it: unlike the latencies, hardly moved by other work on the machine. */
  cpuMsPerPair: number;
}

/** `n` GET /v2/apps, each followed by a GET /v2/info, after `warmup` of each; milliseconds. */
export async function listLatency(base: string, n: number, warmup: number, server: Measured): Promise<ListLatency> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const timed = (url: string) => timedGet(agent, `${base}${url}`);
  let bytes = 0;
  for (let i = 0; i < warmup; i++) {
    bytes = (await timed('/v2/apps')).bytes;
    await timed('/v2/info');
  }
  const list: number[] = [];
  const floor: number[] = [];
  const t0 = performance.now();
  const cpu0 = server.cpuSeconds();
  // Alternately, so that both see the same load (the scheduler's ticks, other work on the machine).
  for (let i = 0; i < n; i++) {
    list.push((await timed('/v2/apps')).ms);
    floor.push((await timed('/v2/info')).ms);
    if ((i + 1) % 100 === 0) process.stderr.write(`services list: ${i + 1}/${n} requests timed\n`);
  }
  const cpuMsPerPair = ((server.cpuSeconds() - cpu0) * 1000) / n;
  printProfileWindow('services list', t0, performance.now());
  agent.destroy();
  return { list, floor, bytes, cpuMsPerPair };
}

export async function benchServices(opts: { quick?: boolean } = {}): Promise<BenchRow[]> {
  const quick = opts.quick ?? false;
  const agents = quick ? 20 : 100;
  const instances = quick ? 200 : 1000;
  const apps = quick ? 200 : 1000;
  const requests = quick ? 100 : 300;
  const n = (x: number) => x.toLocaleString('en-US');
  const c = new BenchCluster();
  try {
    const master = await c.master({ args: ['--agent-ping-interval', '5', '--agent-ping-timeout', '30'] });
    const sim = await c.simulatedAgents(master.address, agents, ['--task-duration', '0', '--status-retry', '10s']);
    const services = await startServices(c, master.address);
    const measured: Measured[] = [
      { name: 'services', cpuSeconds: services.proc.cpuSeconds }, { name: 'master', cpuSeconds: master.cpuSeconds }, { name: 'agents', cpuSeconds: sim.cpuSeconds },
    ];

    process.stderr.write(`services launch: POST /v2/apps of ${n(instances)} instances on ${agents} agents\n`);
    const launch = await launchApp(services.base, '/bench/launch', instances, measured);
    await deleteApp(services.base, '/bench/launch');
    process.stderr.write(`services launch: the raw wire's ${n(instances)} tasks on the same agents\n`);
    const raw = await launchFleet(master.address, 1, instances, 'raw', [
      { name: 'master', cpuSeconds: master.cpuSeconds }, { name: 'agents', cpuSeconds: sim.cpuSeconds }, { name: 'framework', cpuSeconds: ownCpuSeconds },
    ]);

    process.stderr.write(`services list: defining ${n(apps)} apps of one instance\n`);
    await defineApps(services.base, apps);
    const lat = await listLatency(services.base, requests, 50, measured[0]!);
    const p = (xs: number[], q: number) => percentile(xs, q);
    const listP99 = p(lat.list, 99);
    return [
      {
        name: `services: ${n(instances)} instances on ${agents} simulated agents (POST /v2/apps → all RUNNING)`,
        value: launch.seconds, unit: 's', goal: LAUNCH_GOAL,
        note: `${ofGoal(launch.seconds, LAUNCH_GOAL)}; POST answered in ${launch.answeredMs.toFixed(0)} ms, all staged at ${(launch.launchedMs / 1000).toFixed(2)} s; ` +
          `CPU µs per task: ${launch.cpu}; Marathon 0.15: 14.2 s for 500 on 189 agents (Docker)`,
      },
      {
        name: `raw wire: ${n(instances)} tasks on the same ${agents} agents, one framework (first ACCEPT → last RUNNING), same run`,
        value: raw.seconds, unit: 's',
        note: `CPU µs per task: ${raw.cpu}; ${raw.updatesPerTask.toFixed(2)} updates per task`,
      },
      { name: 'services launch / raw-wire launch', value: launch.seconds / raw.seconds, unit: '×', note: 'the cluster\'s own launch time as the limit' },
      {
        name: `services: GET /v2/apps p99, ${n(apps)} apps of 1 running instance`,
        value: listP99, unit: 'ms', goal: LIST_GOAL,
        note: `${ofGoal(listP99, LIST_GOAL)}; p50 ${p(lat.list, 50).toFixed(1)} ms over ${requests} sequential requests after 50; ${(lat.bytes / 1024).toFixed(0)} KiB each; ` +
          `mezz-services CPU ${lat.cpuMsPerPair.toFixed(1)} ms per list and info request`,
      },
      {
        name: 'services: GET /v2/info p99, same server, alternating with the list',
        value: p(lat.floor, 99), unit: 'ms',
        note: `p50 ${p(lat.floor, 50).toFixed(2)} ms: the HTTP floor (hooks, auth, loopback) under the same load`,
      },
    ];
  } finally {
    await c.teardown();
  }
}

const isMain = process.argv[1]?.endsWith('bench/services.ts');
if (isMain) {
  benchServices({ quick: process.argv.includes('--quick') }).then((rows) => console.log(formatTable(rows)), (err) => {
    console.error(err);
    process.exit(1);
  });
}
