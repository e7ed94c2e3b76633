/**
 * Runs every bench, prints one table, and writes the rows to
 * bench/results/<timestamp>.json. Progress goes to stderr.
 *
 *   node --import tsx bench/run.ts [--quick]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchAllocator } from './allocator';
import { formatTable, meets } from './report';
import type { BenchRow } from './report';

const benches: { name: string; run: (opts: { quick?: boolean }) => Promise<BenchRow[]> }[] = [{ name: 'allocator', run: benchAllocator }];

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const started = new Date();
  const rows: BenchRow[] = [];
  for (const bench of benches) {
    process.stderr.write(`== ${bench.name}${quick ? ' (quick)' : ''}\n`);
    rows.push(...(await bench.run({ quick })));
  }
  console.log(formatTable(rows));

  const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'results');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${started.toISOString().replace(/[:.]/g, '-')}.json`);
  const machine = { node: process.version, platform: `${os.platform()} ${os.arch()}`, cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? 'unknown' };
  writeFileSync(file, `${JSON.stringify({ started: started.toISOString(), quick, machine, rows }, null, 2)}\n`);
  process.stderr.write(`wrote ${path.relative(process.cwd(), file)}\n`);
  const missed = rows.filter((r) => !meets(r));
  if (missed.length > 0) process.stderr.write(`${missed.length} figure(s) missed their goal: ${missed.map((r) => r.name).join('; ')}\n`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
