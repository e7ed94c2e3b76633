/**
 * The `mezz-functions` command line: the foundation's flags (name
 * `functions`, port 3233, OpenWhisk's) and the function runner's own.
 * Apart from main.ts so that tests read the flags without starting the process.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { addFrameworkFlags, type FrameworkFlags } from '../foundation/index';

export interface FunctionsFlags extends FrameworkFlags {
  stems: number;
  queueLimit: number;
  workerCpus: number;
  activationsKept: number;
}

function wholeNumber(min: number, max: number): (text: string) => number {
  return (text) => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}, got ${JSON.stringify(text)}`);
    return n;
  };
}

function cpus(text: string): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n < 0.01 || n > 64) throw new InvalidArgumentError(`expected CPUs from 0.01 to 64, got ${JSON.stringify(text)}`);
  return n;
}

export function functionsProgram(): Command {
  return addFrameworkFlags(new Command('mezz-functions'), { name: 'functions', port: 3233 })
    .addOption(new Option('--stems <n>', 'generic pre-started workers kept per kind (nodejs, command) at 256 MB, specialised on a function\'s first call').default(2).argParser(wholeNumber(0, 100)))
    .addOption(new Option('--queue-limit <n>', 'invocations held per function version while its workers are busy or starting; beyond it 429 with Retry-After').default(1000).argParser(wholeNumber(1, 1_000_000)))
    .addOption(new Option('--worker-cpus <cpus>', 'CPUs each worker task asks of its agent: a hard quota where the agent has cgroups, so it sets how fast a worker starts (Node needs ~60 ms of CPU) and serves').default(0.25).argParser(cpus))
    .addOption(new Option('--activations-kept <n>', 'finished activations kept (in memory and in the store), the newest').default(2000).argParser(wholeNumber(1, 1_000_000)));
}
