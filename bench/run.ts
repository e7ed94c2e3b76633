/**
 * Runs every bench, prints one table, and writes the rows to
 * bench/results/<timestamp>.json. Progress goes to stderr.
 *
 *   node --import tsx bench/run.ts [--quick] [--only=NAME[,NAME…]]
 *
 * `--only` runs the benches whose name contains one of the words, e.g.
 * `--only=heap,failover`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchAllocator } from './allocator';
import { benchBatch } from './batch';
import { benchFailover } from './failover';
import { benchFunctions } from './functions';
import { benchMasterHeap } from './heap-master';
import { benchReofferLatency } from './latency-reoffer';
import { benchLaunchReal } from './launch-real';
import { benchLaunchSimulated } from './launch-simulated';
import { formatTable, meets } from './report';
import { benchServices } from './services';
import type { BenchRow } from './report';

const benches: { name: string; run: (opts: { quick?: boolean }) => Promise<BenchRow[]> }[] = [
  { name: 'allocator', run: benchAllocator },
  { name: 're-offer latency', run: benchReofferLatency },
  { name: 'launch, real processes', run: benchLaunchReal },
  { name: 'launch, simulated agents', run: benchLaunchSimulated },
  { name: 'master heap', run: benchMasterHeap },
  { name: 'failover', run: benchFailover },
  { name: 'services framework', run: benchServices },
  { name: 'batch framework', run: benchBatch },
  { name: 'functions framework', run: benchFunctions },
];

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const started = new Date();
  const loadAtStart = os.loadavg();
  const rows: BenchRow[] = [];
  const only = process.argv.find((a) => a.startsWith('--only='))?.slice('--only='.length).split(',');
  for (const bench of benches) {
    if (only && !only.some((o) => bench.name.includes(o))) continue;
    process.stderr.write(`== ${bench.name}${quick ? ' (quick)' : ''}\n`);
    const t0 = Date.now();
    try {
      rows.push(...(await bench.run({ quick })));
    } catch (err) {
      // One broken bench must not hide the others' figures.
      process.stderr.write(`${bench.name} failed: ${(err as Error).stack ?? String(err)}\n`);
      rows.push({ name: `${bench.name}: FAILED`, value: NaN, unit: '', goal: '≤ 0', note: (err as Error).message.split('\n')[0]!.slice(0, 200) });
    }
    process.stderr.write(`== ${bench.name}: ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
  }
  console.log(formatTable(rows));

  const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'results');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${started.toISOString().replace(/[:.]/g, '-')}.json`);
  const machine = {
    node: process.version, platform: `${os.platform()} ${os.arch()}`, cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? 'unknown',
    // Other work on the machine skews every timing: the load before and after the run is kept beside the figures.
    loadAverageAtStart: loadAtStart, loadAverageAtEnd: os.loadavg(),
  };
  console.log(`load average (1, 5, 15 min): ${loadAtStart.map((x) => x.toFixed(2)).join(' ')} at the start, ${os.loadavg().map((x) => x.toFixed(2)).join(' ')} at the end; ${os.cpus().length} cpus`);
  writeFileSync(file, `${JSON.stringify({ started: started.toISOString(), quick, machine, rows }, null, 2)}\n`);
  process.stderr.write(`wrote ${path.relative(process.cwd(), file)}\n`);
  const missed = rows.filter((r) => !meets(r));
  if (missed.length > 0) process.stderr.write(`${missed.length} figure(s) missed their goal: ${missed.map((r) => r.name).join('; ')}\n`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
