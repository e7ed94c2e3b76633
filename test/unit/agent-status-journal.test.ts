/**
 * The status-update journal (agent/status-updates-journal.ts): what it
 * replays after a restart, that a burst of updates shares one fdatasync,
 * that a torn last line costs nothing, compaction, and the take-over of the
 * per-task status checkpoints of earlier agents.
 */
import assert from 'node:assert/strict';
import { appendFile, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { journalPath, readJournal, reservePath, StatusJournal } from '../../agent/status-updates-journal';
import { spawnSync } from 'node:child_process';
import type { TaskInfo__Output, TaskStatus } from '../../lib/proto';
import { tempDir } from '../fixtures/agent-harness';

const task = (taskId: string) => ({ taskId, name: taskId, command: { value: 'true' } }) as unknown as TaskInfo__Output;
const ref = (taskId: string, fw = 'fw-1') => ({ frameworkId: fw, task: task(taskId), sandbox: `/sandboxes/${fw}/${taskId}-0a0b0c0d` });
const status = (taskId: string, uuid: string, state = 'TASK_RUNNING', fw = 'fw-1'): TaskStatus =>
  ({ taskId, frameworkId: fw, uuid, state: state as TaskStatus['state'] });
/** Each task's [latest uuid, pending uuids], from a fresh read of the file. */
async function onDisk(workDir: string): Promise<Record<string, [string | undefined, string[]]>> {
  return Object.fromEntries((await readJournal(workDir)).map((t) => [t.task.taskId, [t.latest?.uuid, t.pending.map((p) => p.uuid!)]]));
}

describe('StatusJournal', () => {
  let root: string;
  let n = 0;
  const dir = async () => {
    const d = join(root, String(n++));
    await mkdir(d);
    return d;
  };
  before(async () => { root = await tempDir(); });
  after(() => rm(root, { recursive: true, force: true }));

  it('a record resolves once it is on disk; acknowledgements and forgets follow it there', async () => {
    const w = await dir();
    const j = await StatusJournal.open(w);
    const a = ref('a');
    await j.record(a, status('a', 'a1', 'TASK_STARTING'));
    assert.deepEqual(await onDisk(w), { a: ['a1', ['a1']] }, 'on disk when the promise resolves');
    await Promise.all([j.record(a, status('a', 'a2')), j.record(ref('b'), status('b', 'b1'))]);
    j.acknowledge('fw-1', 'a', 'a1');
    j.forget('fw-1', 'b');
    await j.close();
    assert.deepEqual(await onDisk(w), { a: ['a2', ['a2']] });
    const t = (await readJournal(w))[0]!;
    assert.equal(t.sandbox, a.sandbox);
    assert.deepEqual(t.task, a.task);
  });

  it('updates made in one turn of the event loop share one append and one fdatasync', async () => {
    const j = await StatusJournal.open(await dir());
    const before = { ...j.stats };
    await Promise.all(Array.from({ length: 50 }, (_, i) => j.record(ref(`t${i}`), status(`t${i}`, `u${i}`))));
    assert.deepEqual([j.stats.appends - before.appends, j.stats.syncs - before.syncs], [1, 1]);
    // Acknowledgements alone are written without a sync of their own.
    for (let i = 0; i < 50; i++) j.acknowledge('fw-1', `t${i}`, `u${i}`);
    await j.close();
    assert.deepEqual([j.stats.appends - before.appends, j.stats.syncs - before.syncs], [2, 1]);
  });

  it('skips a torn last line, and rewrites the file on open so that later records are not glued to it', async () => {
    const w = await dir();
    const j = await StatusJournal.open(w);
    await j.record(ref('a'), status('a', 'a1'));
    await j.close();
    await appendFile(journalPath(w), '{"update":{"taskId":"a","frameworkId":"fw-1","uu'); // a crash mid-append
    assert.deepEqual(await onDisk(w), { a: ['a1', ['a1']] });
    const k = await StatusJournal.open(w);
    const t = k.tasks()[0]!; // as the agent recovers it: the update adds one line, no task line
    await k.record({ frameworkId: t.frameworkId, task: t.task, sandbox: t.sandbox }, status('a', 'a2'));
    await k.close();
    assert.deepEqual(await onDisk(w), { a: ['a2', ['a1', 'a2']] });
  });

  it('compacts past twice its live size, keeping each task\'s latest, acknowledged or not, and its pending updates', async () => {
    const w = await dir();
    const j = await StatusJournal.open(w, { minCompactBytes: 4096 });
    const before = j.stats.compactions;
    const a = ref('a');
    await j.record(a, status('a', 'a0'));
    await j.record(a, status('a', 'a1'));
    j.acknowledge('fw-1', 'a', 'a1'); // the latest acknowledged, an older one not
    for (let i = 0; i < 100; i++) {
      const id = `gone-${i}`;
      await j.record(ref(id), status(id, `${id}-u`, 'TASK_FINISHED'));
      j.acknowledge('fw-1', id, `${id}-u`);
      j.forget('fw-1', id);
    }
    await j.close();
    assert.ok(j.stats.compactions > before, 'compacted');
    assert.ok((await stat(journalPath(w))).size < 4096, 'the file holds the live state and what followed it');
    assert.deepEqual(await onDisk(w), { a: ['a1', ['a0']] });
  });

  it('takes over the per-task status checkpoints of earlier agents', async () => {
    const w = await dir();
    const legacy = join(w, 'meta', 'updates', 'fw-1');
    await mkdir(legacy, { recursive: true });
    await writeFile(join(legacy, 'old.json'), JSON.stringify({
      version: 1, frameworkId: 'fw-1', task: task('old'), sandbox: '/s/old', latest: status('old', 'o2'), pending: [status('old', 'o1'), status('old', 'o2')],
    }));
    const j = await StatusJournal.open(w);
    assert.deepEqual(j.tasks().map((t) => [t.task.taskId, t.sandbox, t.latest?.uuid, t.pending.map((p) => p.uuid)]), [['old', '/s/old', 'o2', ['o1', 'o2']]]);
    await j.close();
    await assert.rejects(stat(join(w, 'meta', 'updates')), 'the old files are gone');
    assert.deepEqual(await onDisk(w), { old: ['o2', ['o1', 'o2']] }, 'their content is in the journal');
  });

  it('refuses records once closed', async () => {
    const j = await StatusJournal.open(await dir());
    await j.close();
    await assert.rejects(j.record(ref('a'), status('a', 'a1')), /closed/);
  });

  it('writes one task line per task, not one per update', async () => {
    const w = await dir();
    const j = await StatusJournal.open(w);
    const a = ref('a');
    for (const u of ['a1', 'a2', 'a3']) await j.record(a, status('a', u));
    await j.close();
    const lines = (await readFile(journalPath(w), 'utf8')).trim().split('\n');
    assert.equal(lines.filter((l) => l.startsWith('{"task"')).length, 1);
    assert.equal(lines.length, 4);
  });
});

describe('StatusJournal on a full disk (a small tmpfs, as root)', () => {
  it('a write that finds the disk full releases the reserve, so the retry records the update', async (t) => {
    const d = await tempDir();
    const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', d], { encoding: 'utf8' });
    if (mounted.status !== 0) {
      t.skip(`cannot mount a tmpfs here (${mounted.stderr.trim()}); run as root`);
      return;
    }
    try {
      const warnings: string[] = [];
      const j = await StatusJournal.open(d, { onWarning: (m) => warnings.push(m) });
      assert.ok((await stat(reservePath(d))).size > 0, 'a reserve is set aside on open');
      // Fill the disk to the last byte.
      const fill = join(d, 'filler');
      const chunk = Buffer.alloc(4096, 1);
      for (;;) {
        try {
          await appendFile(fill, chunk);
        } catch {
          break;
        }
      }
      for (;;) {
        try {
          await appendFile(fill, Buffer.alloc(1));
        } catch {
          break;
        }
      }
      await assert.rejects(j.record(ref('a'), status('a', 'a1', 'TASK_FAILED')), /ENOSPC/);
      assert.match(warnings.join('\n'), /disk is full \(ENOSPC\): released the status journal's reserve/);
      await j.record(ref('a'), status('a', 'a1', 'TASK_FAILED'));
      assert.deepEqual(await onDisk(d), { a: ['a1', ['a1']] });
      await j.close();
    } finally {
      spawnSync('umount', [d]);
      await rm(d, { recursive: true, force: true });
    }
  });
});
