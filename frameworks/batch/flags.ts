/**
 * The `mezz-batch` command line: the foundation's flags (name `batch`, port
 * 9000, Metronome's) and the batch scheduler's. Apart from main.ts so that
 * tests read the flags without starting the process.
 */
import { Command } from 'commander';
import { durationOption } from '../../lib/duration-option';
import { addFrameworkFlags, type FrameworkFlags } from '../foundation/index';

export interface BatchFlags extends FrameworkFlags {
  retryDelay: number;
  gangTimeout: number;
  reconcileInterval: number;
}

export function batchProgram(): Command {
  return addFrameworkFlags(new Command('mezz-batch'), { name: 'batch', port: 9000 })
    .addOption(durationOption('--retry-delay <duration>', 'the delay before a failed task\'s first retry; each next one doubles, up to 6 minutes', { unit: 'ms', default: 10_000, positive: true }))
    .addOption(durationOption('--gang-timeout <duration>', 'how long a gang run holds offers while waiting for room for all its tasks, before giving them back and backing off', { unit: 'ms', default: 60_000, positive: true }))
    .addOption(durationOption('--reconcile-interval <duration>', 'how often the leader asks the master for the state of every live task (a lost status update is then corrected)', { unit: 'ms', default: 600_000, positive: true }));
}
