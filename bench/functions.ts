/**
 * The function runner end to end, driven through OpenWhisk's /api/v1 over
 * HTTP as a client would: a real master, one real agent, a real
 * `mezz-functions` (`bin/mezz-functions.mjs`) whose workers are tasks on that
 * agent — and beside them, in the same run, a plain Node HTTP server doing a
 * no-op function's work (`noop-server.mjs`), called from the same client the
 * same way (node:http, one keep-alive agent).
 *
 *   warm overhead:  POST …/actions/noop?blocking=true&result=true, sequential after a warm-up,
 *                   each beside a direct call ─▶ p50 (p99) of the invocations − the same of the direct calls
 *   cold, pool:     stems up ─▶ PUT a function of a new name ─▶ one blocking invoke ─▶ the activation's
 *                   waitTime + initTime (its start latency), and the client's time − a direct call just before
 *   cold, nothing:  the same with limits.memory 512 (stems are kept at 256 MB only): a worker task
 *                   is launched through offers
 *   throughput:     a no-op of concurrency 50 (one worker), CLIENTS calls in flight for a while ─▶
 *                   invocations/s as a share of the direct server's with as many in flight
 *
 *   node --import tsx bench/functions.ts [--quick]
 */
import http, { type IncomingHttpHeaders } from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { functionsProgram } from '../frameworks/functions/flags';
import { BenchCluster, ownCpuSeconds, until, type BenchProc } from './cluster';
import { call, expectStatus } from './http';
import { formatTable, ofGoal, type BenchRow } from './report';
import { percentile } from './scheduler-wire';

const WARM_GOAL = '≤ 2 ms';
const POOL_GOAL = '≤ 50 ms';
const NOTHING_GOAL = '≤ 400 ms';
/** Stems kept per kind (nodejs, command): the pool the cold starts from the pool take from. */
const STEMS = 2;
/** Calls in flight in the throughput figure, to both servers; also the function's concurrency (one worker serves them all). */
const CLIENTS = 50;
/** Ports the agent offers; a block found free on this host (see freePorts). */
const PORTS = 200;
/** `--worker-cpus` for mezz-functions (each worker's CPU share, a CFS quota where the agent has cgroups); unset: its default. */
const workerCpus = process.env.MEZZ_BENCH_FN_WORKER_CPUS;
/** Said in the notes of the figures a worker's CPU share bounds. */
const cpusNote = `workers of ${workerCpus ?? `the default ${functionsProgram().options.find((o) => o.long === '--worker-cpus')?.defaultValue}`} CPU`;
const NOOP = 'function main(params) { return {}; }';
const ACTIONS = '/api/v1/namespaces/_/actions';

/**
 * The first port of `count` consecutive ports that nothing on this host
 * listens on, below the ephemeral range. The usual 31000-31999 is shared with
 * every other cluster on the machine: a worker whose port another cluster's
 * worker holds cannot bind, and the other one answers its /health probe.
 */
async function freePorts(count: number): Promise<number> {
  const free = (port: number) => new Promise<boolean>((resolve) => {
    const s = net.createServer().once('error', () => resolve(false)).listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
  for (let attempt = 0; attempt < 20; attempt++) {
    const first = 20_000 + Math.floor(Math.random() * 50) * count;
    let ok = true;
    for (let p = first; ok && p < first + count; p++) ok = await free(p);
    if (ok) return first;
  }
  throw new Error(`no ${count} consecutive free ports found between 20000 and 30000`);
}

/** One keep-alive agent for every timed call, to mezz-functions and to the direct server alike. */
const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });

interface Timed {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  /** Request written → last byte of the answer. */
  ms: number;
}

/** POSTs `{}` to `http://address` + `url` on the kept-alive agent, timed to the last byte of the answer. */
function post(address: string, url: string): Promise<Timed> {
  const [host, port] = address.split(':');
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const req = http.request({ host, port: Number(port), path: url, method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': 2 } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString(), ms: performance.now() - t0 }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end('{}');
  });
}

/** A call that must answer 200 `{}`: anything else stops the bench, naming what came back. */
async function noopCall(address: string, url: string): Promise<Timed> {
  const r = await post(address, url);
  if (r.status !== 200 || r.text !== '{}') throw new Error(`POST ${url}: ${r.status} ${r.text.slice(0, 300)}`);
  return r;
}

const invokeUrl = (name: string) => `${ACTIONS}/${name}?blocking=true&result=true`;

/** Deploys a no-op Node.js action; `limits` and `annotations` as OpenWhisk's document has them. */
async function deploy(base: string, name: string, limits: Record<string, number> = {}): Promise<void> {
  await expectStatus(base, 'PUT', `${ACTIONS}/${name}`, 200, { exec: { kind: 'nodejs:default', code: NOOP }, limits });
}

/** mezz-functions' workers by state, read from /metrics (`mezz_functions_workers{state="…"}`; updated on each change of workers and every second). */
async function workers(base: string): Promise<Record<string, number>> {
  const r = await fetch(`${base}/metrics`);
  if (r.status !== 200) throw new Error(`GET /metrics: ${r.status}`);
  const out: Record<string, number> = {};
  for (const m of (await r.text()).matchAll(/^mezz_functions_workers\{state="([a-z]+)"\} (\d+)/gm)) out[m[1]!] = Number(m[2]);
  return out;
}

/** Waits until the Node.js stems are up and no other worker exists: the machine quiet, the pool full. */
async function poolAtRest(base: string): Promise<void> {
  await until(`${STEMS} stems up and no other worker`, async () => {
    const w = await workers(base);
    return w.stem === STEMS && !w.launching && !w.initialising && !w.ready && !w.draining;
  }, 60_000, 50);
}

interface Pairs {
  fn: number[];
  direct: number[];
}

/** `n` sequential invocations of `name`, each beside a direct call (alternating which goes first), after `warmup` of each. */
async function warmLatency(fnAddress: string, directAddress: string, name: string, warmup: number, n: number): Promise<Pairs> {
  const out: Pairs = { fn: [], direct: [] };
  for (let i = 0; i < warmup + n; i++) {
    const first = i % 2 === 0;
    const d1 = first ? await noopCall(directAddress, '/') : undefined;
    const f = await noopCall(fnAddress, invokeUrl(name));
    const d = d1 ?? await noopCall(directAddress, '/');
    if (i < warmup) continue;
    out.fn.push(f.ms);
    out.direct.push(d.ms);
  }
  return out;
}

/** Calls per second with `clients` calls in flight for `ms`. */
async function rate(address: string, url: string, clients: number, ms: number): Promise<number> {
  let done = 0;
  const t0 = performance.now();
  const end = t0 + ms;
  const client = async () => {
    while (performance.now() < end) {
      await noopCall(address, url);
      done++;
    }
  };
  await Promise.all(Array.from({ length: clients }, client));
  return done / ((performance.now() - t0) / 1000);
}

interface ColdSample {
  /** The activation's waitTime + initTime: accepted → its code starts to run. */
  start: number;
  wait: number;
  init: number;
  /** The client's blocking invoke − a direct call just before it. */
  client: number;
  cold: string;
}

/**
 * `n` cold starts, each of a function of a new name (no worker has its
 * code), deployed with `limits`, invoked once blocking, then deleted; each
 * begins with the pool at rest (every stem up, no other worker).
 */
async function coldStarts(fn: BenchProc, directAddress: string, prefix: string, limits: Record<string, number>, n: number): Promise<ColdSample[]> {
  const base = `http://${fn.address}`;
  const out: ColdSample[] = [];
  for (let i = 0; i < n; i++) {
    await poolAtRest(base);
    const name = `${prefix}-${i}`;
    await deploy(base, name, limits);
    const direct = await noopCall(directAddress, '/');
    const r = await noopCall(fn.address, invokeUrl(name));
    const id = String(r.headers['x-openwhisk-activation-id']);
    const a = (await expectStatus(base, 'GET', `/api/v1/namespaces/_/activations/${id}`, 200)).body;
    const note = (key: string) => Number(a.annotations.find((x: { key: string }) => x.key === key)?.value ?? NaN);
    const wait = note('waitTime');
    const init = note('initTime');
    out.push({ start: wait + init, wait, init, client: r.ms - direct.ms, cold: a.cold });
    await expectStatus(base, 'DELETE', `${ACTIONS}/${name}`, 200);
    process.stderr.write(`functions: ${prefix} ${i + 1}/${n}: ${a.cold}, wait ${wait} ms + init ${init} ms, client ${r.ms.toFixed(1)} ms (direct ${direct.ms.toFixed(1)} ms)\n`);
  }
  return out;
}

const f1 = (x: number) => x.toFixed(1);
const p = percentile;

/** The rows of one kind of cold start: the activation's start latency, then the client's view. */
function coldRows(what: string, samples: ColdSample[], want: string, goal: string): BenchRow[] {
  const start = samples.map((s) => s.start);
  const client = samples.map((s) => s.client);
  const other = samples.filter((s) => s.cold !== want).map((s) => s.cold);
  const off = other.length ? `; ${other.length} of ${samples.length} were not cold from ${want}: ${other.join(', ')}` : '';
  return [
    {
      name: `functions: cold start ${what} p50 (the activation's waitTime + initTime), ${samples.length} new functions`,
      value: p(start, 50), unit: 'ms', goal,
      note: `${ofGoal(p(start, 50), goal)}; p99 ${f1(p(start, 99))} ms; waitTime p50 ${f1(p(samples.map((s) => s.wait), 50))} ms, initTime p50 ${f1(p(samples.map((s) => s.init), 50))} ms; ${cpusNote}${off}`,
    },
    {
      name: `functions: cold start ${what} p50, client-observed (blocking invoke − a direct call just before)`,
      value: p(client, 50), unit: 'ms', goal,
      note: `${ofGoal(p(client, 50), goal)}; p99 ${f1(p(client, 99))} ms`,
    },
  ];
}

export async function benchFunctions(opts: { quick?: boolean } = {}): Promise<BenchRow[]> {
  const quick = opts.quick ?? false;
  const warmN = quick ? 300 : 2000;
  const coldN = quick ? 5 : 20;
  const tputMs = quick ? 2000 : 5000;
  const c = new BenchCluster();
  try {
    const master = await c.master();
    const ports = await freePorts(PORTS);
    await c.agent(master.address, { resources: `cpus:16;mem:32768;disk:10000;ports:[${ports}-${ports + PORTS - 1}]`, args: ['--hostname', '127.0.0.1'] });
    const direct = await c.spawn('direct', '../bench/noop-server.mjs', []);
    const fn = await c.spawn('functions', 'mezz-functions.mjs', [
      '--master', master.address, '--host', '127.0.0.1', '--port', '0', '--data-dir', path.join(c.dir, 'functions'), '--stems', String(STEMS),
      ...(workerCpus ? ['--worker-cpus', workerCpus] : []),
    ]);
    const base = `http://${fn.address}`;
    await until('mezz-functions to lead', async () => (await call(base, 'GET', ACTIONS)).status === 200, 60_000, 50);
    // Stems are kept for the kinds some function uses: one never-called Node.js function keeps them for the whole run.
    await deploy(base, 'anchor');
    await poolAtRest(base);

    process.stderr.write(`functions: warm overhead, ${warmN} calls after 100\n`);
    await deploy(base, 'noop');
    const warm = await warmLatency(fn.address, direct.address, 'noop', 100, warmN);
    await expectStatus(base, 'DELETE', `${ACTIONS}/noop`, 200);

    process.stderr.write(`functions: throughput, ${CLIENTS} in flight, ${tputMs} ms each\n`);
    await deploy(base, 'tput', { concurrency: CLIENTS });
    await rate(direct.address, '/', CLIENTS, 500);
    await rate(fn.address, invokeUrl('tput'), CLIENTS, 1000);
    // Each twice, alternating, the faster of each kept: both sides then saw the same machine.
    const directRates: number[] = [];
    const fnRates: number[] = [];
    let fnCpu = 0;
    let clientCpu = 0;
    let fnCalls = 0;
    for (let round = 0; round < 2; round++) {
      directRates.push(await rate(direct.address, '/', CLIENTS, tputMs));
      const [cpu0, own0] = [fn.cpuSeconds(), ownCpuSeconds()];
      const r = await rate(fn.address, invokeUrl('tput'), CLIENTS, tputMs);
      fnRates.push(r);
      fnCpu += fn.cpuSeconds() - cpu0;
      clientCpu += ownCpuSeconds() - own0;
      fnCalls += (r * tputMs) / 1000;
    }
    const tputWorkers = (await workers(base)).ready ?? 0; // the noop's worker is gone: these are the throughput function's
    await expectStatus(base, 'DELETE', `${ACTIONS}/tput`, 200);

    process.stderr.write(`functions: ${coldN} cold starts from the pool (--stems ${STEMS})\n`);
    const pool = await coldStarts(fn, direct.address, 'cold-pool', {}, coldN);
    process.stderr.write(`functions: ${coldN} cold starts from nothing (memory 512 MB: no stems of that size)\n`);
    const nothing = await coldStarts(fn, direct.address, 'cold-none', { memory: 512 }, coldN);

    const overhead50 = p(warm.fn, 50) - p(warm.direct, 50);
    const overhead99 = p(warm.fn, 99) - p(warm.direct, 99);
    const best = (xs: number[]) => Math.max(...xs);
    const share = (100 * best(fnRates)) / best(directRates);
    return [
      {
        name: `functions: warm invocation overhead p50 (blocking no-op − direct call), ${warmN} sequential`,
        value: overhead50, unit: 'ms', goal: WARM_GOAL,
        note: `${ofGoal(overhead50, WARM_GOAL)}; invoke p50 ${p(warm.fn, 50).toFixed(2)} ms, direct p50 ${p(warm.direct, 50).toFixed(2)} ms; ` +
          `p99: invoke ${p(warm.fn, 99).toFixed(2)} ms, direct ${p(warm.direct, 99).toFixed(2)} ms, difference ${overhead99.toFixed(2)} ms`,
      },
      {
        name: `functions: warm invocation overhead p99 (same calls)`,
        value: overhead99, unit: 'ms',
      },
      ...coldRows(`from the pool (--stems ${STEMS})`, pool, 'pool', POOL_GOAL),
      ...coldRows('from nothing (memory 512 MB, no stem)', nothing, 'none', NOTHING_GOAL),
      {
        name: `functions: warm throughput of a no-op, ${CLIENTS} in flight, as a share of the direct server's`,
        value: share, unit: '%',
        note: `${f1(best(fnRates))} invocations/s on ${tputWorkers} worker(s) of concurrency ${CLIENTS} against ${f1(best(directRates))} calls/s direct (the faster of 2 runs of ${tputMs / 1000} s each); ` +
          `${cpusNote}; CPU µs per invocation: mezz-functions ${Math.round((fnCpu * 1e6) / fnCalls)}, the client ${Math.round((clientCpu * 1e6) / fnCalls)}; no goal set`,
      },
    ];
  } finally {
    agent.destroy();
    await c.teardown();
  }
}

const isMain = process.argv[1]?.endsWith('bench/functions.ts');
if (isMain) {
  benchFunctions({ quick: process.argv.includes('--quick') }).then((rows) => console.log(formatTable(rows)), (err) => {
    console.error(err);
    process.exit(1);
  });
}
