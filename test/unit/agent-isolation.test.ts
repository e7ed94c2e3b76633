/**
 * cgroups isolation without touching the host's cgroups: the detection and
 * both isolators run against fake cgroup trees in temporary directories
 * (plain files stand in for control files), described by fake
 * /proc/self/mountinfo and /proc/self/cgroup texts. The cgroups executor
 * runs real tasks through the real wrapper with a fake isolator, whose
 * `cgroup.procs` is a plain file the wrapper writes its pid to.
 * (test/integration/isolation.test.ts runs the real thing.)
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { IsolationUnavailableError } from '../../agent/errors';
import { agentCgroupKey, parseMountinfo, parseProcCgroup, readPids, removeStaleCgroups } from '../../agent/executor/cgroups';
import { taskEnvironment } from '../../agent/executor/environment';
import type { Limitation, TaskExit } from '../../agent/executor/executor';
import { CgroupsExecutor } from '../../agent/executor/executor-cgroups';
import { PosixExecutor } from '../../agent/executor/executor-posix';
import { memoryLimitation, type Isolator, type TaskCgroups, type TaskLimits } from '../../agent/executor/isolator';
import { cpuQuotaUs, cpuShares } from '../../agent/executor/isolator-cgroups-v1';
import { cpuWeight } from '../../agent/executor/isolator-cgroups-v2';
import { detectIsolator } from '../../agent/executor/isolator-detect';
import { Sandboxes } from '../../agent/sandbox';
import { outcomeOf, Reason } from '../../agent/task-status';
import type { TaskInfo__Output } from '../../lib/proto';
import { killGroups, tempDir, testLogger, waitFor } from '../fixtures/agent-harness';

let root: string;
before(async () => { root = await tempDir('mezz-cgroups-test-'); });
after(() => rm(root, { recursive: true, force: true }));

const MB = 1024 * 1024;
const read = (...p: string[]) => readFile(join(...p), 'utf8');

/** A recording logger: what detectIsolator said, by level. */
function recorder() {
  const lines: string[] = [];
  const log = testLogger();
  const wrap = (level: string) => (msg: string) => { lines.push(`${level}: ${msg}`); };
  return { lines, log: Object.assign(Object.create(log) as typeof log, { info: wrap('info'), warn: wrap('warn'), error: wrap('error') }) };
}

/** mountinfo lines for v1 hierarchies mounted at `<dir>/<name>` carrying `controllers`. */
function v1Mountinfo(dir: string, hierarchies: Record<string, string[]>): string {
  return Object.entries(hierarchies).map(([name, ctrls], i) =>
    `${30 + i} 25 0:${26 + i} / ${join(dir, name)} rw,nosuid,nodev,noexec,relatime shared:${9 + i} - cgroup cgroup rw,${ctrls.join(',')}`).join('\n');
}

describe('parsing /proc', () => {
  it('mountinfo: mount point, root, type and the v1 controllers', () => {
    const text = [
      '25 1 0:23 / /sys/fs/cgroup rw,nosuid,nodev,noexec - tmpfs tmpfs ro,mode=755',
      '30 25 0:26 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid - cgroup cgroup rw,cpu,cpuacct',
      '38 25 0:34 /docker/abc /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory',
      '39 25 0:35 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw,nsdelegate',
      '40 1 0:36 / /mnt/with\\040space rw - ext4 /dev/sda1 rw',
    ].join('\n');
    const m = parseMountinfo(text);
    assert.deepEqual(m.map((e) => [e.mountPoint, e.root, e.fstype]), [
      ['/sys/fs/cgroup', '/', 'tmpfs'], ['/sys/fs/cgroup/cpu,cpuacct', '/', 'cgroup'], ['/sys/fs/cgroup/memory', '/docker/abc', 'cgroup'],
      ['/sys/fs/cgroup/unified', '/', 'cgroup2'], ['/mnt/with space', '/', 'ext4'],
    ]);
    assert.deepEqual(m[1]!.superOptions, ['rw', 'cpu', 'cpuacct']);
  });
  it('/proc/self/cgroup: v1 hierarchies and the unified one', () => {
    assert.deepEqual(parseProcCgroup('4:memory:/process_api/2fc4\n2:cpu,cpuacct:/\n0::/user.slice/x.scope\n'), [
      { id: 4, controllers: ['memory'], path: '/process_api/2fc4' },
      { id: 2, controllers: ['cpu', 'cpuacct'], path: '/' },
      { id: 0, controllers: [], path: '/user.slice/x.scope' },
    ]);
  });
});

describe('removeStaleCgroups', () => {
  it('removes empty cgroups nobody owns; keeps owned, busy and young ones', async () => {
    const parent = join(root, 'stale');
    for (const d of ['orphan', 'owned', 'busy', 'young']) await mkdir(join(parent, d), { recursive: true });
    // A plain file makes rmdir fail, as processes do in a real cgroup.
    await writeFile(join(parent, 'busy', 'cgroup.procs'), '123\n');
    const old = (Date.now() - 120_000) / 1000;
    for (const d of ['orphan', 'owned', 'busy']) await utimes(join(parent, d), old, old);
    const r = await removeStaleCgroups([parent], new Set([join(parent, 'owned')]), 60_000);
    assert.deepEqual(r, { removed: [join(parent, 'orphan')], busy: [join(parent, 'busy')] });
    assert.ok(existsSync(join(parent, 'young')) && existsSync(join(parent, 'owned')));
  });
});

describe('limits', () => {
  // shares: 1024 per cpu, at least 2; quota: cpus × 100 ms period, at least 1 ms; weight: runc's mapping.
  const cases = [
    { cpus: 0.5, shares: 512, quota: 50_000, weight: 20 }, // 1 + round(510·9999/262142 = 19.45) = 20
    { cpus: 1, shares: 1024, quota: 100_000, weight: 40 }, // 1 + round(1022·9999/262142 = 38.98) = 40
    { cpus: 0.001, shares: 2, quota: 1_000, weight: 1 },
    { cpus: 0, shares: 2, quota: undefined, weight: 1 },
  ];
  for (const c of cases) {
    it(`cpus ${c.cpus}: shares ${c.shares}, quota ${c.quota ?? 'none'}, weight ${c.weight}`, () => {
      assert.deepEqual([cpuShares(c.cpus), cpuQuotaUs(c.cpus), cpuWeight(cpuShares(c.cpus))], [c.shares, c.quota, c.weight]);
    });
  }
});

describe('cgroup v1 (fake tree)', () => {
  const workDir = '/srv/agent-1';
  const key = agentCgroupKey(workDir);

  it('makes one directory per hierarchy under mezzanine/<key> and writes the limits', async () => {
    const dir = join(root, 'v1');
    const { log, lines } = recorder();
    const iso = await detectIsolator({
      mode: 'cgroups', workDir, pidsMax: 77, logger: log,
      mountinfo: v1Mountinfo(dir, { 'cpu,cpuacct': ['cpu', 'cpuacct'], memory: ['memory'], pids: ['pids'] }),
    });
    assert.ok(iso);
    assert.deepEqual(iso.isolation, ['cgroups/cpu', 'cgroups/mem', 'cgroups/pids']);
    assert.match(lines.join('\n'), /info: isolation: cgroup v1.*enforcing cgroups\/cpu, cgroups\/mem, cgroups\/pids/);
    const cg = await iso.prepare('web-1a2b3c4d', { cpus: 0.5, memMb: 64 });
    const cpuDir = join(dir, 'cpu,cpuacct', 'mezzanine', key, 'web-1a2b3c4d');
    assert.deepEqual(cg.paths, {
      cpu: cpuDir, cpuacct: cpuDir,
      memory: join(dir, 'memory', 'mezzanine', key, 'web-1a2b3c4d'), pids: join(dir, 'pids', 'mezzanine', key, 'web-1a2b3c4d'),
    });
    // cpu and cpuacct share a hierarchy: one directory, one procs file.
    assert.equal(cg.procsFiles.length, 3);
    assert.equal(await read(cpuDir, 'cpu.cfs_quota_us'), '50000');
    assert.equal(await read(cpuDir, 'cpu.cfs_period_us'), '100000');
    assert.equal(await read(cpuDir, 'cpu.shares'), '512');
    assert.equal(await read(cg.paths.memory!, 'memory.limit_in_bytes'), String(64 * MB));
    assert.equal(await read(cg.paths.pids!, 'pids.max'), '77');

    assert.equal(await cg.limitation(), undefined);
    await writeFile(join(cg.paths.memory!, 'memory.oom_control'), 'oom_kill_disable 0\nunder_oom 0\noom_kill 1\n');
    assert.match((await cg.limitation())!.message, /exceeded its memory limit of 64 MB/);
    await writeFile(join(cpuDir, 'cpuacct.usage'), '2500000000\n');
    assert.equal(await cg.cpuSeconds(), 2.5);
  });

  it('auto: enforces what the host offers and says what is missing', async () => {
    const dir = join(root, 'v1-nopids');
    const { log, lines } = recorder();
    const iso = await detectIsolator({
      mode: 'auto', workDir, pidsMax: 10, logger: log, mountinfo: v1Mountinfo(dir, { cpu: ['cpu'], memory: ['memory'] }),
    });
    assert.deepEqual(iso?.isolation, ['cgroups/cpu', 'cgroups/mem']);
    assert.match(lines.join('\n'), /warn: isolation: .*enforcing cgroups\/cpu, cgroups\/mem only: pids: no cgroup v1 hierarchy has this controller/);
  });

  it('cgroups mode refuses to start without every controller', async () => {
    const dir = join(root, 'v1-nopids-strict');
    await assert.rejects(detectIsolator({
      mode: 'cgroups', workDir, pidsMax: 10, logger: recorder().log, mountinfo: v1Mountinfo(dir, { cpu: ['cpu'], memory: ['memory'] }),
    }), (e: Error) => e instanceof IsolationUnavailableError && /--isolation cgroups: .*pids: no cgroup v1 hierarchy/.test(e.message) && /--isolation auto/.test(e.message));
  });

  it('a hierarchy that cannot be written counts as missing', async () => {
    const file = join(root, 'not-a-dir');
    await writeFile(file, '');
    const { log, lines } = recorder();
    // The "mount point" is a file: making mezzanine/<key> under it fails (ENOTDIR).
    const iso = await detectIsolator({ mode: 'auto', workDir, pidsMax: 10, logger: log, mountinfo: v1Mountinfo(root, { 'not-a-dir': ['cpu', 'memory', 'pids'] }) });
    assert.equal(iso, undefined);
    assert.match(lines.join('\n'), /warn: isolation: cgroups unavailable \(cpu: cannot make .*ENOTDIR.*\); tasks run in process groups only/);
  });
});

describe('no cgroups, or none wanted', () => {
  it('auto on a host without cgroups: process groups, said once', async () => {
    const { log, lines } = recorder();
    assert.equal(await detectIsolator({ mode: 'auto', workDir: '/w', pidsMax: 1, logger: log, mountinfo: '' }), undefined);
    assert.equal(lines.length, 1);
    assert.match(lines[0]!, /warn: isolation: cgroups unavailable \(no cgroup file system is mounted/);
  });
  it('cgroups on a host without cgroups: a clear error', async () => {
    await assert.rejects(detectIsolator({ mode: 'cgroups', workDir: '/w', pidsMax: 1, logger: recorder().log, mountinfo: '' }),
      /--isolation cgroups: this host does not let the agent limit tasks with cgroups: no cgroup file system is mounted/);
  });
  it('none: not even looked for', async () => {
    const { log, lines } = recorder();
    assert.equal(await detectIsolator({ mode: 'none', workDir: '/w', pidsMax: 1, logger: log, mountinfo: 'garbage' }), undefined);
    assert.match(lines[0]!, /info: isolation: process groups only \(--isolation none\)/);
  });
});

describe('cgroup v2 (fake tree)', () => {
  const workDir = '/srv/agent-2';
  const key = agentCgroupKey(workDir);
  const mountinfo = (dir: string) => `40 25 0:35 / ${dir} rw,nosuid - cgroup2 cgroup2 rw,nsdelegate`;

  it('moves the agent into a leaf, enables controllers down to its parent, and limits tasks', async () => {
    const dir = join(root, 'v2');
    const base = join(dir, 'system.slice', 'mezz.service');
    await mkdir(base, { recursive: true });
    await writeFile(join(base, 'cgroup.controllers'), 'cpuset cpu io memory pids\n');
    const { log } = recorder();
    const iso = await detectIsolator({
      mode: 'cgroups', workDir, pidsMax: 99, logger: log, mountinfo: mountinfo(dir), procCgroup: '0::/system.slice/mezz.service\n', pid: 4242,
    });
    assert.deepEqual(iso?.isolation, ['cgroups/cpu', 'cgroups/mem', 'cgroups/pids']);
    const parent = join(base, 'mezzanine', key);
    assert.deepEqual(readPids(join(parent, 'agent', 'cgroup.procs')), [4242]);
    for (const d of [base, join(base, 'mezzanine'), parent]) assert.equal(await read(d, 'cgroup.subtree_control'), '+cpu +memory +pids');

    const cg = await iso!.prepare('job-0001', { cpus: 0.5, memMb: 64 });
    assert.deepEqual(cg.paths, { unified: join(parent, 'job-0001') });
    assert.deepEqual(cg.procsFiles, [join(parent, 'job-0001', 'cgroup.procs')]);
    assert.equal(await read(cg.paths.unified!, 'cpu.max'), '50000 100000');
    assert.equal(await read(cg.paths.unified!, 'cpu.weight'), '20');
    assert.equal(await read(cg.paths.unified!, 'memory.max'), String(64 * MB));
    assert.equal(await read(cg.paths.unified!, 'pids.max'), '99');
    await writeFile(join(cg.paths.unified!, 'memory.events'), 'low 0\nhigh 0\nmax 12\noom 1\noom_kill 1\noom_group_kill 0\n');
    assert.match((await cg.limitation())!.message, /memory limit of 64 MB/);
    await writeFile(join(cg.paths.unified!, 'cpu.stat'), 'usage_usec 1500000\nuser_usec 1000000\n');
    assert.equal(await cg.cpuSeconds(), 1.5);
    // cgroupfs removes a cgroup with its control files; plain files must go first.
    for (const f of ['cpu.max', 'cpu.weight', 'memory.max', 'pids.max', 'memory.events', 'cpu.stat']) await rm(join(cg.paths.unified!, f));
    assert.ok(await cg.destroy());
    assert.ok(!existsSync(cg.paths.unified!));
  });

  it('a restarted agent already in its leaf keeps its place', async () => {
    const dir = join(root, 'v2-restart');
    const base = join(dir, 'svc');
    await mkdir(join(base, 'mezzanine', key, 'agent'), { recursive: true });
    await writeFile(join(base, 'cgroup.controllers'), 'cpu memory pids\n');
    const iso = await detectIsolator({
      mode: 'auto', workDir, pidsMax: 1, logger: recorder().log, mountinfo: mountinfo(dir), procCgroup: `0::/svc/mezzanine/${key}/agent\n`, pid: 7,
    });
    assert.deepEqual(iso?.parents, [join(base, 'mezzanine', key)]);
  });

  it('a cgroup that offers no controller: process groups, and why', async () => {
    const dir = join(root, 'v2-empty');
    await mkdir(join(dir, 'x'), { recursive: true });
    await writeFile(join(dir, 'x', 'cgroup.controllers'), '\n');
    const { log, lines } = recorder();
    assert.equal(await detectIsolator({ mode: 'auto', workDir, pidsMax: 1, logger: log, mountinfo: mountinfo(dir), procCgroup: '0::/x\n', pid: 1 }), undefined);
    assert.match(lines.join('\n'), /cpu: not offered by .*enable it in the parent's cgroup.subtree_control/);
  });
});

describe('CgroupsExecutor (real wrapper, fake isolator)', () => {
  const FW = 'fw-cg';
  let workDir: string;
  let sandboxes: Sandboxes;
  const exits = new Map<string, TaskExit>();
  const pgids = new Set<number>();
  const made: FakeCgroups[] = [];
  let executor: CgroupsExecutor;
  /** What the next task's cgroup will report. */
  let nextLimitation: Limitation | undefined;
  let nextProcsFile: string | undefined;

  /** A "cgroup" that is a directory with a plain cgroup.procs file the wrapper appends its pid to. */
  class FakeCgroups implements TaskCgroups {
    readonly procsFiles: string[];
    destroyed = false;
    constructor(readonly paths: Record<string, string>, procsFile: string, private readonly lim?: Limitation) {
      this.procsFiles = [procsFile];
    }
    async pids() { return readPids(this.procsFiles[0]!).filter((p) => existsSync(`/proc/${p}`)); }
    async signal() { return 0; }
    killAllCalls = 0;
    async killAll() { this.killAllCalls++; return true; }
    async limitation() { return this.lim; }
    async cpuSeconds() { return undefined; }
    async destroy() { this.destroyed = true; return true; }
  }
  const isolator: Isolator = {
    isolation: ['cgroups/mem'], description: 'fake', parents: [],
    async prepare(name: string, limits: TaskLimits) {
      const dir = join(workDir, 'cg', name);
      await mkdir(dir, { recursive: true });
      const cg = new FakeCgroups({ memory: dir }, nextProcsFile ?? join(dir, 'cgroup.procs'), nextLimitation);
      (cg as unknown as { limits: TaskLimits }).limits = limits;
      made.push(cg);
      return cg;
    },
  };

  before(async () => {
    workDir = await tempDir();
    sandboxes = new Sandboxes(workDir);
    executor = new CgroupsExecutor(new PosixExecutor({ workDir, logger: testLogger() }), isolator, { logger: testLogger(), oomPollMs: 20 });
    executor.onExit((key, exit) => exits.set(key, exit));
  });
  after(async () => {
    killGroups(pgids);
    executor.close();
    await rm(workDir, { recursive: true, force: true });
  });

  function taskInfo(taskId: string, cmd: string): TaskInfo__Output {
    return {
      taskId, name: taskId, agentId: 'a', labels: {}, killGraceSeconds: 0, healthCheck: null,
      resources: [{ name: 'cpus', scalar: 0.25, ranges: [], set: [], role: '' }, { name: 'mem', scalar: 48, ranges: [], set: [], role: '' }],
      command: { value: cmd, shell: true, arguments: [], environment: {}, uris: [] },
    } as unknown as TaskInfo__Output;
  }

  async function launch(taskId: string, cmd: string) {
    const task = taskInfo(taskId, cmd);
    const sandbox = await sandboxes.create(FW, taskId);
    const environment = taskEnvironment({ task, frameworkId: FW, agentId: 'a', sandbox, base: process.env });
    const { pid } = await executor.launch({ key: taskId, frameworkId: FW, agentId: 'a', task, sandbox, environment });
    pgids.add(pid);
    return { sandbox, pid };
  }
  const exitOf = (key: string) => waitFor(`task ${key} to exit`, () => exits.get(key));

  it('the wrapper joins the cgroup before the command runs; the command does not see the variable', async () => {
    nextLimitation = undefined;
    const { sandbox, pid } = await launch('joins', 'echo "var=${MEZZ_CGROUP_PROCS-unset}"');
    assert.deepEqual(await exitOf('joins'), { kind: 'exited', code: 0 });
    const cg = made.at(-1)!;
    assert.deepEqual(readPids(cg.procsFiles[0]!), [pid]);
    assert.equal(await read(sandbox, 'stdout'), 'var=unset\n');
    assert.deepEqual((cg as unknown as { limits: TaskLimits }).limits, { cpus: 0.25, memMb: 48 });
    assert.ok(cg.destroyed, 'the cgroup is removed once the task is over');
    const cp = JSON.parse(await read(workDir, 'meta', 'tasks', FW, 'joins.json')) as { cgroups?: Record<string, string> };
    assert.deepEqual(cp.cgroups, cg.paths, 'the checkpoint names the task\'s cgroups');
  });

  it('a task ended by its memory limit carries the limitation: TASK_FAILED, REASON_CONTAINER_LIMITATION_MEMORY', async () => {
    nextLimitation = memoryLimitation(48);
    // 137 = 128 + SIGKILL: what a shell reports for a command the OOM killer ended.
    await launch('oom', 'exit 137');
    const exit = await exitOf('oom');
    assert.deepEqual(exit.limitation, nextLimitation);
    const o = outcomeOf(exit);
    assert.equal(o.state, 'TASK_FAILED');
    assert.equal(o.reason, Reason.CONTAINER_LIMITATION_MEMORY);
    assert.match(o.message, /exceeded its memory limit of 48 MB.*terminated by signal SIGKILL/);
    // A kill the agent asked for wins over the limitation.
    assert.equal(outcomeOf(exit, Reason.TASK_KILLED).state, 'TASK_KILLED');
  });

  it('the OOM watch ends a task that goes on after the OOM killer hit it', async () => {
    nextLimitation = memoryLimitation(48);
    await launch('oom-lingers', 'sleep 30');
    const cg = made.at(-1)!;
    // The watch sees the OOM kill and ends the task through its cgroup (here a fake that kills nothing)…
    await waitFor('the OOM watch to end the task', () => cg.killAllCalls > 0);
    // …so the group kill below stands in for it; the exit carries the limitation.
    executor.kill('oom-lingers', 0);
    const exit = await exitOf('oom-lingers');
    assert.deepEqual(exit.limitation, nextLimitation);
  });

  it('a cgroup the wrapper cannot join fails the task before its command runs', async () => {
    nextLimitation = undefined;
    nextProcsFile = join(workDir, 'no-such-dir', 'cgroup.procs');
    const { sandbox } = await launch('nojoin', 'echo ran');
    nextProcsFile = undefined;
    assert.deepEqual(await exitOf('nojoin'), { kind: 'exited', code: 125 });
    assert.equal(await read(sandbox, 'stdout'), '');
    assert.match(await read(sandbox, 'stderr'), /mezz-task-wrapper: cannot join cgroup .*no-such-dir; the task did not start/);
  });
});
