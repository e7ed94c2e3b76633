/**
 * Durations: `formatDuration` writes what `parseDuration` reads back
 * exactly, and every duration flag of every binary shows its default in
 * `--help` as a duration that its own parser reads back as that default
 * (the agent once showed `--kill-grace (default: 3000)`, milliseconds,
 * which read back as 50 minutes).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Command, Option } from 'commander';
import fc from 'fast-check';
import { agentProgram } from '../../agent/flags';
import { buildProgram } from '../../cli/program';
import { formatDuration, parseDuration } from '../../lib/duration';
import { masterProgram } from '../../master/flags';
import { servicesProgram } from '../../frameworks/services/flags';
import { batchProgram } from '../../frameworks/batch/flags';

describe('formatDuration', () => {
  const cases = [
    { name: 'zero', input: 0, want: '0s' },
    { name: 'whole seconds', input: 3, want: '3s' },
    { name: 'seconds that are not whole minutes', input: 90, want: '90s' },
    { name: 'whole minutes', input: 600, want: '10m' },
    { name: 'whole hours', input: 3600, want: '1h' },
    { name: 'a week, in days', input: 604800, want: '7d' },
    { name: 'half a second', input: 0.5, want: '500ms' },
    { name: 'a second and a half', input: 1.5, want: '1500ms' },
    { name: '1.1 s (not a double times 0.001)', input: 1.1, want: '1100ms' },
    { name: 'one millisecond', input: 0.001, want: '1ms' },
    { name: 'half a millisecond', input: 0.0005, want: '0.0005s' },
  ];
  for (const c of cases) {
    test(`${c.name}: ${c.input} → ${c.want}, read back as ${c.input}`, () => {
      assert.equal(formatDuration(c.input), c.want);
      assert.equal(parseDuration(c.want), c.input);
    });
  }

  test('refuses what no duration can say', () => {
    for (const bad of [-1, Number.NaN, Number.POSITIVE_INFINITY]) assert.throws(() => formatDuration(bad), RangeError);
    assert.throws(() => formatDuration(1e-7), /under 1 µs/);
  });

  test('property: whole milliseconds up to ten years are written with a whole number and read back exactly', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 10 * 365 * 86400 * 1000 }), (ms) => {
      const text = formatDuration(ms / 1000);
      assert.match(text, /^\d+(ms|s|m|h|d)$/);
      assert.equal(parseDuration(text), ms / 1000);
    }));
  });

  test('property: any duration from 1 µs to 30 years reads back exactly', () => {
    fc.assert(fc.property(fc.double({ min: 1e-6, max: 30 * 365 * 86400, noNaN: true }), (seconds) => {
      assert.equal(parseDuration(formatDuration(seconds)), seconds);
    }));
  });
});

/** Each option's entry in `cmd`'s help, its wrapped lines joined. */
function helpEntries(cmd: Command): string[] {
  const entries: string[] = [];
  for (const line of cmd.helpInformation().split('\n')) {
    if (/^ {2}-/.test(line)) entries.push(line.trim());
    else if (/^ {4,}\S/.test(line) && entries.length) entries[entries.length - 1] += ` ${line.trim()}`;
  }
  return entries;
}

function* commandsOf(cmd: Command): Iterable<Command> {
  yield cmd;
  for (const sub of cmd.commands) yield* commandsOf(sub);
}

describe('every duration flag shows its default as a duration its parser reads back as that default', () => {
  const binaries: { name: string; program: Command; flags: string[] }[] = [
    {
      name: 'mezz-master', program: masterProgram(),
      flags: ['--agent-ping-timeout', '--agent-ping-interval', '--agent-removal-timeout', '--agent-reregister-timeout', '--heartbeat-interval', '--offer-timeout', '--task-launch-timeout', '--allocation-interval'],
    },
    {
      name: 'mezz-agent (with --simulate)', program: agentProgram(),
      flags: ['--kill-grace', '--ping-interval', '--status-retry', '--fetcher-timeout', '--sandbox-gc-delay', '--disk-check-interval', '--task-duration'],
    },
    { name: 'mezz-services', program: servicesProgram(), flags: ['--drain-timeout', '--reconcile-interval'] },
    { name: 'mezz-batch', program: batchProgram(), flags: ['--retry-delay', '--gang-timeout', '--reconcile-interval'] },
    // --wait and --deadline: on each command that starts a deployment (app deploy, scale, restart, rollback); --idle and --time-limit: mezz fn deploy.
    { name: 'mezz (all commands, up included)', program: buildProgram(), flags: ['--timeout', '--wait', '--deadline', '--idle', '--time-limit'] },
  ];
  for (const b of binaries) {
    test(b.name, () => {
      const seen: string[] = [];
      for (const cmd of commandsOf(b.program)) {
        const entries = helpEntries(cmd);
        for (const option of cmd.options.filter((o: Option) => o.flags.includes('<duration>'))) {
          seen.push(option.long!);
          assert.ok(option.parseArg, `${option.long} is not parsed as a duration by commander`);
          // A flag without a default (its absence means something else) has nothing to show or misread.
          if (option.defaultValue === undefined && !option.defaultValueDescription) continue;
          const entry = entries.find((e) => e.startsWith(option.flags));
          const shown = /\(default: ([^)]*)\)/.exec(entry ?? '')?.[1];
          assert.ok(shown, `${option.long} shows no default in its help: ${entry}`);
          // Copying the default from the help gives the default the program uses.
          assert.equal(option.parseArg(shown, undefined), option.defaultValue, `${option.long} shows ${shown}, which reads as another value`);
          assert.match(shown, /^\d+(\.\d+)?(ms|s|m|h|d)$/, `${option.long} shows its default without a unit`);
        }
      }
      assert.deepEqual([...new Set(seen)].sort(), [...b.flags].sort());
    });
  }
});
