/**
 * The README's ten-minute tour, sections 1-4 and 6-9, run as written against
 * `mezz up` with authentication on: each command is read from README.md and
 * run by bash in a directory laid out as the tour assumes (the repository's
 * examples beside the cluster's `.mezz`), with no token, flag or variable
 * added but MEZZ_MASTER (the test's cluster listens on a port of the OS's
 * choosing, not 5050; commands that name 127.0.0.1:5050 get that port).
 * `npx` resolves as it does in the repository: `mezz` to bin/mezz.mjs, `tsx`
 * to the dependency. Placeholders (`<run>`, `<task>`, `<agent pid>`) are
 * filled in as a reader would, from earlier output. Section 5 (shares over
 * minutes) is left to the allocation tests; sections 7, 8 and 9 (the services,
 * batch and functions frameworks) run before 6, which leaves an agent frozen for 40 s.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Cluster, ROOT, waitFor } from '../harness';
import { cleanEnv, mezzIn, mezzUp } from '../fixtures/mezz-up';

/** The shell commands of each numbered section of the README's tour. */
export function tourCommands(readme: string): Map<number, string[]> {
  const start = readme.indexOf('## A ten-minute tour');
  assert.ok(start >= 0, 'README.md has "## A ten-minute tour"');
  const end = readme.indexOf('\n## ', start + 1);
  const tour = readme.slice(start, end < 0 ? undefined : end);
  const sections = new Map<number, string[]>();
  for (const part of tour.split(/^\*\*(?=\d+\. )/m).slice(1)) {
    const n = Number(/^(\d+)\./.exec(part)![1]);
    const blocks = [...part.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!);
    sections.set(n, blocks.flatMap((b) => b.split('\n')).map((l) => l.trim()).filter(Boolean));
  }
  return sections;
}

interface Ran {
  command: string;
  status: number | null;
  stdout: string;
  stderr: string;
}

describe("the README's tour, as written, against mezz up with authentication on", () => {
  const c = new Cluster();
  const background: ReturnType<typeof spawn>[] = [];
  after(async () => {
    for (const b of background) {
      try { process.kill(-b.pid!, 'SIGKILL'); } catch { /* exited */ }
    }
    await c.teardown();
  });

  test('sections 1-4 and 6-9', { timeout: 300_000 }, async () => {
    const sections = tourCommands(readFileSync(path.join(ROOT, 'README.md'), 'utf8'));
    const dir = path.join(c.dir, 'tour');
    const up = await mezzUp(c, dir);
    symlinkSync(path.join(ROOT, 'examples'), path.join(dir, 'examples'));
    const shims = path.join(c.dir, 'shims');
    mkdirSync(shims);
    writeFileSync(path.join(shims, 'npx'), [
      '#!/bin/sh',
      '# npx as it resolves in the repository: its own bin (mezz), or a dependency\'s',
      'cmd=$1; shift',
      `[ "$cmd" = mezz ] && exec "${process.execPath}" "${path.join(ROOT, 'bin/mezz.mjs')}" "$@"`,
      `exec "${path.join(ROOT, 'node_modules/.bin')}/$cmd" "$@"`,
      '',
    ].join('\n'));
    chmodSync(path.join(shims, 'npx'), 0o755);
    const env = cleanEnv({ MEZZ_MASTER: up.master, PATH: `${shims}:${process.env.PATH}` });
    const filled = new Map<string, string>([['127.0.0.1:5050', up.master]]);
    const fill = (line: string) => {
      let out = line;
      for (const [k, v] of filled) out = out.split(k).join(v);
      assert.doesNotMatch(out, /<[a-z ]+>/, `every placeholder of "${line}" is known`);
      return out;
    };
    const run = (line: string, timeoutMs = 90_000): Ran => {
      const r = spawnSync('bash', ['-c', fill(line)], { cwd: dir, env, encoding: 'utf8', timeout: timeoutMs });
      return { command: line, status: r.status, stdout: r.stdout, stderr: r.stderr };
    };
    const ok = (r: Ran) => {
      assert.equal(r.status, 0, `${r.command}\n${r.stdout}${r.stderr}`);
      return r;
    };
    const startBackground = (line: string) => {
      const p = spawn('bash', ['-c', fill(line.replace(/&$/, ''))], { cwd: dir, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      p.stdout!.on('data', (d: Buffer) => (out += d.toString()));
      p.stderr!.on('data', (d: Buffer) => (out += d.toString()));
      let code: number | null | undefined;
      p.on('exit', (c) => (code = c));
      background.push(p);
      return { output: () => out, code: () => code };
    };
    /** The test's own look at the tasks, with the same token. */
    const tasks = () => JSON.parse(mezzIn(dir, ['tasks', '--json'], { MEZZ_MASTER: up.master }).stdout) as { id: string; state: string; frameworkId: string; agentId: string }[];
    const section = (n: number) => {
      const lines = sections.get(n);
      assert.ok(lines?.length, `the tour has commands in section ${n}`);
      return lines;
    };

    // Authentication is on: from a directory without the token, the same command is refused.
    assert.match(mezzIn(c.dir, ['status'], { MEZZ_MASTER: up.master }).stderr, /UNAUTHENTICATED/);

    // 1. Look at the cluster.
    for (const line of section(1)) {
      const r = ok(run(line));
      if (/mezz status/.test(line)) assert.match(r.stdout, /agents\s+2 active/);
      if (/mezz agents/.test(line)) assert.equal(r.stdout.trim().split('\n').length, 3, `a header and two agents:\n${r.stdout}`);
    }

    // 2. Run a framework: the happy run exits 0, the sad one non-zero with the exit code.
    for (const line of section(2)) {
      const r = run(line);
      if (/--name sad/.test(line)) {
        assert.notEqual(r.status, 0, r.stdout + r.stderr);
        assert.match(r.stderr, /TASK_FAILED.*exit code 3/);
        filled.set('sad-<run>', /(sad-\w+)-\d+ TASK_FAILED/.exec(r.stdout + r.stderr)![1]!);
      } else {
        ok(r);
        assert.match(r.stdout, /all 5 tasks finished/);
        filled.set('hello-<run>', /(hello-\w+)-\d+ TASK_FINISHED/.exec(r.stdout)![1]!);
      }
    }
    filled.set('<task>', `${filled.get('hello-<run>')}-0`);

    // 3. Watch tasks.
    for (const line of section(3)) {
      const r = ok(run(line));
      if (/--json/.test(line)) assert.equal((JSON.parse(r.stdout) as unknown[]).length, 7, 'five hello tasks and two sad ones');
      else if (/--state failed/.test(line)) assert.match(r.stdout, /^sad-\S+\s.*FAILED/m);
      else if (/mezz tasks/.test(line)) assert.match(r.stdout, /^hello-\S+\s/m);
      // mezz frameworks: both hello frameworks tore themselves down on exit, so whatever it lists, it exits 0.
    }

    // 4. Read a task's output.
    for (const line of section(4)) {
      const r = ok(run(line));
      assert.equal(r.stdout, /--stderr/.test(line) ? 'oops\n' : `hello from ${filled.get('<task>')}\n`, line);
    }

    // 7. Run a service: deploy follows the web app until it is healthy, the proxy serves it, an update and a
    // rollback roll through, why names the constraint, and rm removes both apps.
    for (const line of section(7)) {
      // why answers from the framework's latest round: right after a --detach deploy, ask again until it has seen offers.
      const r = /app why/.test(line)
        ? await waitFor(`${line} to name the constraint`, () => { const w = ok(run(line)); return /constraint hostname:UNIQUE/.test(w.stdout) ? w : undefined; }, 60_000)
        : ok(run(line, 180_000));
      const out = r.stdout + r.stderr;
      if (/app deploy examples\/services\/tour\/web\.yaml$/.test(line)) assert.match(out, /\/tour\/web: version \S+ deployed \(deployment \S+ succeeded\)[\s\S]*2\/2 new, 2 healthy/, line);
      else if (/app list/.test(line)) assert.match(r.stdout, /^\/tour\/web\s+2\/2\s/m, line);
      else if (/^curl/.test(line)) assert.equal(r.stdout.trim(), /# hello from (v\d)/.exec(line)![0].slice(2), line);
      else if (/app versions/.test(line)) assert.equal(r.stdout.trim().split('\n').length, 3, `a header and two versions:\n${r.stdout}`);
      else if (/app rollback/.test(line)) assert.match(out, /rolled back|succeeded/, line);
      else if (/app why/.test(line)) assert.match(r.stdout, /1 instance\(s\) waiting[\s\S]*constraint hostname:UNIQUE/, line);
      else if (/^npx mezz deployments/.test(line)) assert.match(r.stdout, /\/tour\/unique\s.*running/, line);
    }
    await waitFor('the tour apps gone', () => tasks().every((t) => !t.id.startsWith('tour_') || !['TASK_RUNNING', 'TASK_STAGING', 'TASK_STARTING'].includes(t.state)), 60_000);

    // 8. Run jobs: a run followed to SUCCESS, one index's log, the DAG drawn and its child run triggered, a schedule's next times.
    for (const line of section(8)) {
      const r = /job runs tour\.report/.test(line)
        ? await waitFor(`${line} to list the triggered run`, () => { const w = ok(run(line)); return /dependency/.test(w.stdout) ? w : undefined; }, 60_000)
        : ok(run(line, 120_000));
      const out = r.stdout + r.stderr;
      if (/job run tour\.hello/.test(line)) assert.match(out, /run \S+ of job tour\.hello succeeded[\s\S]*3\/3/, line);
      else if (/job logs tour\.hello --index 2/.test(line)) assert.match(r.stdout, /^hello from index 2 of run \S+\n/, line);
      else if (/job graph/.test(line)) assert.match(r.stdout, /tour\.extract[\s\S]*└── tour\.report/, line);
      else if (/job run tour\.extract/.test(line)) assert.match(out, /succeeded/, line);
      else if (/job show tour\.tick/.test(line)) assert.equal((r.stdout.match(/\d{4}-\d\d-\d\d \d\d:\d\d:00/g) ?? []).length >= 3, true, `three next run times:\n${r.stdout}`);
    }

    // 9. Run functions: a cold call from the stem pool, a warm one, an async one whose logs are read, the worker
    // stopped after the idle time, and the next call cold again.
    for (const line of section(9)) {
      if (/fn workers hello/.test(line)) {
        assert.match(ok(run(line)).stdout, /^\S+\.worker\.\S+\s+ready\s+0\.0\.1\s/m, `${line}: one worker, ready`);
        await waitFor(`${line} to say it scaled to zero`, () => /no workers for hello: it has scaled to zero/.test(ok(run(line)).stdout), 60_000, 500);
        continue;
      }
      const r = /fn activations hello/.test(line)
        ? await waitFor(`${line} to list the three calls`, () => { const w = ok(run(line)); return w.stdout.trim().split('\n').length === 4 ? w : undefined; }, 30_000)
        : ok(run(line));
      if (/name=Ada/.test(line)) {
        assert.deepEqual(JSON.parse(r.stdout), { payload: 'Hello, Ada!' }, line);
        assert.match(r.stderr, /^activation [0-9a-f]{32} \(cold: pool, \d+ ms\)/m, line);
      } else if (/name=Grace/.test(line)) assert.match(r.stderr, /\(warm, \d+ ms\)/, line);
      else if (/--async/.test(line)) filled.set('<activation>', r.stdout.trim());
      else if (/fn logs/.test(line)) assert.match(r.stdout, /stdout: greeting Lin$/m, line);
      else if (/name=again/.test(line)) assert.match(r.stderr, /\(cold: (pool|none), \d+ ms\)/, `${line}: cold again after scaling to zero`);
    }

    // 6. Break things: kill -9 an agent running the long tasks, which comes back with them; then freeze it.
    const [start, kill9, look, freeze, ...rest] = section(6);
    assert.match(start!, /--name long &$/);
    assert.match(kill9!, /^kill -9 <agent pid>$/);
    assert.match(freeze!, /kill -STOP <agent pid>/);
    assert.deepEqual(rest, []);
    const long = startBackground(start!);
    const running = await waitFor(`four long tasks RUNNING (framework output: ${long.output()})`, () => {
      const t = tasks().filter((x) => x.id.startsWith('long-') && x.state === 'TASK_RUNNING');
      return t.length === 4 ? t : undefined;
    }, 60_000);
    const fwId = running[0]!.frameworkId;
    const victim = ['agent-1', 'agent-2'].find((n) => existsSync(path.join(up.dataDir, n, 'sandboxes', fwId)))!;
    filled.set('<agent pid>', String(up.pidOf(victim)));
    ok(run(kill9!));
    const out = () => up.proc.output();
    await waitFor(`"${victim} exited (signal SIGKILL); restarting in 1s" (output: ${out()})`, () => out().includes(`${victim} exited (signal SIGKILL); restarting in 1s`));
    const back = await waitFor(`"${victim} is back, pid …" (output: ${out()})`, () => new RegExp(`${victim} is back, pid (\\d+)`).exec(out()));
    assert.match(ok(run(look!)).stdout, /long-\S+\s.*RUNNING/);
    await waitFor('the long tasks RUNNING after the agent came back', () => {
      const t = tasks().filter((x) => x.id.startsWith('long-'));
      return t.length === 4 && t.every((x) => x.state === 'TASK_RUNNING');
    }, 30_000);

    filled.set('<agent pid>', back[1]!);
    const frozen = ok(run(freeze!, 120_000));
    assert.match(frozen.stdout, /UNREACHABLE/, `mezz agents shows the frozen agent:\n${frozen.stdout}`);
    assert.match(frozen.stdout, /^long-\S+\s.*LOST/m, `mezz tasks shows its tasks lost:\n${frozen.stdout}`);
    const code = await waitFor(`the long framework to exit (output: ${long.output()})`, () => (long.code() !== undefined ? { code: long.code() } : undefined));
    assert.notEqual(code.code, 0, 'the hello framework exits non-zero');
    assert.match(long.output(), /long-\S+ ended TASK_LOST/);
  });
});
