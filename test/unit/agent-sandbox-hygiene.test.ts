/**
 * Sandbox hygiene: finished sandboxes are removed after the GC delay, and
 * early, oldest first, while the disk is short of space; sandboxes in use
 * never; tasks' logs are size-capped by copy-and-truncate rotation.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, open, readFile, rm, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LogRotator, rotateIfLarge } from '../../agent/log-rotation';
import { MIN_AGE_MS, planGc, SandboxGc } from '../../agent/sandbox-gc';
import { tempDir, testLogger } from '../fixtures/agent-harness';

let root: string;
before(async () => { root = await tempDir('mezz-hygiene-test-'); });
after(() => rm(root, { recursive: true, force: true }));

const MIN = 60_000;
const NOW = 1_700_000_000_000;

describe('planGc', () => {
  const cases = [
    {
      name: 'past the delay: expired, oldest first; the rest by age',
      entries: [{ dir: 'b', finishedAt: NOW - 90 * MIN }, { dir: 'a', finishedAt: NOW - 120 * MIN }, { dir: 'c', finishedAt: NOW - 10 * MIN }, { dir: 'd', finishedAt: NOW - 30 * MIN }],
      want: { expired: ['a', 'b'], byAge: ['d', 'c'] },
    },
    {
      name: `younger than ${MIN_AGE_MS} ms: never, not even for space`,
      entries: [{ dir: 'fresh', finishedAt: NOW - 1000 }, { dir: 'old', finishedAt: NOW - 2 * MIN }],
      want: { expired: [], byAge: ['old'] },
    },
    { name: 'nothing', entries: [], want: { expired: [], byAge: [] } },
  ];
  for (const c of cases) it(c.name, () => assert.deepEqual(planGc(c.entries, { now: NOW, delayMs: 60 * MIN }), c.want));
});

describe('SandboxGc', () => {
  let workDir: string;
  /** Makes <work>/sandboxes/<fw>/<name> with stdout and exit_status, last written `ago` ms before NOW. */
  async function sandbox(fw: string, name: string, ago: number): Promise<string> {
    const dir = join(workDir, 'sandboxes', fw, name);
    await mkdir(dir, { recursive: true });
    const t = (NOW - ago) / 1000;
    for (const f of ['stdout', 'exit_status']) {
      await writeFile(join(dir, f), 'x');
      await utimes(join(dir, f), t, t);
    }
    await utimes(dir, t, t);
    return dir;
  }

  it('removes expired sandboxes, then the oldest while space is short, never those in use', async () => {
    workDir = join(root, 'gc');
    const expired = await sandbox('fw-1', 'a-00000001', 120 * MIN);
    const inUse = await sandbox('fw-1', 'b-00000002', 120 * MIN);
    const checkpointed = await sandbox('fw-1', 'c-00000003', 120 * MIN);
    const e1 = await sandbox('fw-2', 'e1-00000004', 50 * MIN);
    const e2 = await sandbox('fw-2', 'e2-00000005', 40 * MIN);
    const e3 = await sandbox('fw-2', 'e3-00000006', 10 * MIN);
    const young = await sandbox('fw-2', 'y-00000007', 1000);
    // A launch checkpoint names `checkpointed`: a task an earlier run of the agent started.
    await mkdir(join(workDir, 'meta', 'tasks', 'fw-1'), { recursive: true });
    await writeFile(join(workDir, 'meta', 'tasks', 'fw-1', 'c.json'), JSON.stringify({ version: 1, sandbox: checkpointed, task: { taskId: 'c' } }));

    // 2% free, and each removal frees 3%: 2 → 5 (expired a) → 8 (e1) → 11% (e2) ≥ the 10% headroom.
    let free = 0.02;
    const gc = new SandboxGc({
      workDir, delayMs: 60 * MIN, diskHeadroom: 0.1, inUse: () => [inUse], logger: testLogger(),
      now: () => NOW, freeFraction: async () => free,
    });
    const realRm = gc['remove'].bind(gc);
    gc['remove'] = async (dir: string) => { free += 0.03; return realRm(dir); };
    const r = await gc.collect();
    assert.deepEqual(r.removed, [expired, e1, e2]);
    for (const d of [inUse, checkpointed, e3, young]) assert.ok(existsSync(d), `${d} must stay`);

    // Enough space now: only age counts, and nothing else is past the delay.
    assert.deepEqual((await gc.collect()).removed, []);
  });

  it('takes the framework directory with its last sandbox', async () => {
    workDir = join(root, 'gc-fw');
    const only = await sandbox('fw-solo', 'x-00000001', 120 * MIN);
    const gc = new SandboxGc({ workDir, delayMs: 60 * MIN, diskHeadroom: 0, inUse: () => [], logger: testLogger(), now: () => NOW });
    assert.deepEqual((await gc.collect()).removed, [only]);
    assert.ok(!existsSync(join(workDir, 'sandboxes', 'fw-solo')));
  });
});

describe('log rotation', () => {
  const policy = { maxBytes: 10, maxFiles: 2 };

  it('copies a large log to .1, shifts older copies, keeps maxFiles, and empties the log', async () => {
    const dir = join(root, 'rot');
    await mkdir(dir);
    const log = join(dir, 'stdout');
    const rounds = ['first-chunk-1\n', 'second-chunk\n', 'third-chunk!\n'];
    for (const text of rounds) {
      await writeFile(log, text, { flag: 'a' });
      assert.equal(await rotateIfLarge(log, policy), true);
      assert.equal((await stat(log)).size, 0);
    }
    assert.equal(await readFile(`${log}.1`, 'utf8'), rounds[2]);
    assert.equal(await readFile(`${log}.2`, 'utf8'), rounds[1]);
    assert.ok(!existsSync(`${log}.3`), 'the oldest copy is dropped');
  });

  it('leaves small logs alone', async () => {
    const dir = join(root, 'small');
    await mkdir(dir);
    await writeFile(join(dir, 'stdout'), 'tiny');
    assert.equal(await rotateIfLarge(join(dir, 'stdout'), policy), false);
    assert.equal(await readFile(join(dir, 'stdout'), 'utf8'), 'tiny');
  });

  it('a task appending (O_APPEND) after a rotation writes at the start, with no hole', async () => {
    const dir = join(root, 'append');
    await mkdir(dir);
    const log = join(dir, 'stdout');
    const fd = await open(log, 'a');
    await fd.write('0123456789abcdef\n');
    assert.equal(await rotateIfLarge(log, policy), true);
    await fd.write('after\n');
    await fd.close();
    assert.equal(await readFile(log, 'utf8'), 'after\n');
    assert.equal(await readFile(`${log}.1`, 'utf8'), '0123456789abcdef\n');
  });

  it('never follows a symlink a task put in place of its log', async () => {
    const dir = join(root, 'link');
    await mkdir(dir);
    const precious = join(root, 'precious');
    await writeFile(precious, 'do not truncate me, I am longer than ten bytes');
    await symlink(precious, join(dir, 'stdout'));
    assert.equal(await rotateIfLarge(join(dir, 'stdout'), policy), false);
    assert.equal(await readFile(precious, 'utf8'), 'do not truncate me, I am longer than ten bytes');
  });

  it('maxFiles 0 drops the old content; maxBytes 0 never rotates', async () => {
    const dir = join(root, 'zero');
    await mkdir(dir);
    const log = join(dir, 'stderr');
    await writeFile(log, 'x'.repeat(100));
    assert.equal(await rotateIfLarge(log, { maxBytes: 0, maxFiles: 2 }), false);
    assert.equal(await rotateIfLarge(log, { maxBytes: 10, maxFiles: 0 }), true);
    assert.equal((await stat(log)).size, 0);
    assert.ok(!existsSync(`${log}.1`));
  });

  it('LogRotator checks stdout and stderr of the sandboxes it is given', async () => {
    const dir = join(root, 'rotator');
    await mkdir(dir);
    await writeFile(join(dir, 'stdout'), 'y'.repeat(50));
    await writeFile(join(dir, 'stderr'), 'short');
    const rotator = new LogRotator({ ...policy, sandboxes: () => [dir], logger: testLogger() });
    assert.deepEqual(await rotator.tick(), [join(dir, 'stdout')]);
  });
});
