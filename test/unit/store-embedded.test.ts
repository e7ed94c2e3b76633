import { test, type TestContext } from 'node:test';
import { spawnSync } from 'node:child_process';
import assert from 'node:assert/strict';
import { closeSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { EmbeddedStore } from '../../lib/store-embedded';
import { StoreError } from '../../lib/errors';
import type { WatchEvent } from '../../lib/store';
import { storeContract } from './store-contract';

const dir = () => mkdtempSync(path.join(tmpdir(), 'mezz-store-'));

storeContract('embedded', async (t) => {
  const d = dir();
  t.after(() => rmSync(d, { recursive: true, force: true }));
  return new EmbeddedStore(d);
});

test('values survive a reopen; list is by prefix in key order', async () => {
  const d = dir();
  try {
    const s = new EmbeddedStore(d);
    await s.put('/a/2', { n: 2 });
    await s.put('/a/1', { n: 1 });
    await s.put('/b/1', 'other');
    await s.delete('/missing');
    await s.close();
    const again = new EmbeddedStore(d);
    assert.deepEqual((await again.list('/a/')).map((kv) => [kv.key, kv.value]), [['/a/1', { n: 1 }], ['/a/2', { n: 2 }]]);
    assert.equal((await again.get('/b/1'))?.value, 'other');
    assert.deepEqual(readdirSync(d), ['registry.json'], 'no temp file is left behind');
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});

test('txn applies all or nothing by version', async () => {
  const d = dir();
  try {
    const s = new EmbeddedStore(d);
    assert.equal(await s.txn([{ key: '/k', version: 0 }], [{ op: 'put', key: '/k', value: 1 }]), true);
    assert.equal((await s.get('/k'))?.version, 1);
    // Stale version: nothing is written.
    assert.equal(await s.txn([{ key: '/k', version: 0 }], [{ op: 'put', key: '/k', value: 2 }, { op: 'put', key: '/other', value: 3 }]), false);
    assert.equal((await s.get('/k'))?.value, 1);
    assert.equal(await s.get('/other'), undefined);
    await s.close();
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});

test('stored values are copies: mutating the caller object changes nothing', async () => {
  const d = dir();
  try {
    const s = new EmbeddedStore(d);
    const v = { list: [1] };
    await s.put('/v', v);
    v.list.push(2);
    assert.deepEqual((await s.get('/v'))?.value, { list: [1] });
    await s.close();
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});

test('a corrupt registry stops the caller with a message naming the file, instead of starting empty', () => {
  const d = dir();
  try {
    writeFileSync(path.join(d, 'registry.json'), '{"format":"mezzanine-store/1","entries":{"/a":');
    assert.throws(() => new EmbeddedStore(d), (err: unknown) => {
      assert.ok(err instanceof StoreError);
      assert.match(err.message, /registry\.json is unreadable or corrupt/);
      assert.match(err.message, /restore it from a backup/);
      return true;
    });
    writeFileSync(path.join(d, 'registry.json'), '{"hello":1}');
    assert.throws(() => new EmbeddedStore(d), /is not a Mezzanine store file/);
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});

test('a write that cannot reach the disk is refused loudly and changes nothing, not even with the next write', async () => {
  const d = dir();
  try {
    const s = new EmbeddedStore(d);
    await s.put('/kept', 0);
    // A directory where the file must go: the rename fails for every user, root included.
    rmSync(path.join(d, 'registry.json'));
    mkdirSync(path.join(d, 'registry.json'));
    await assert.rejects(s.put('/x', 1), (err: unknown) => {
      assert.ok(err instanceof StoreError);
      assert.match(err.message, /cannot write the registry .*registry\.json: .*EISDIR.*The write was not applied/);
      assert.equal(err.path, d);
      return true;
    });
    assert.equal(await s.get('/x'), undefined, 'a failed write is not read back');
    assert.deepEqual(readdirSync(d), ['registry.json'], 'the temp file was cleaned up');
    rmSync(path.join(d, 'registry.json'), { recursive: true });
    await s.put('/y', 2);
    await s.close();
    const again = new EmbeddedStore(d);
    assert.deepEqual((await again.list('/')).map((kv) => kv.key), ['/kept', '/y'], 'the failed write was never written');
    // revisions: /kept 1, the failed /x none, /y 2
    assert.equal((await again.get('/y'))!.modRevision, 2);
  } finally {
    rmSync(path.join(d, 'registry.json'), { recursive: true, force: true });
    rmSync(d, { recursive: true, force: true });
  }
});

test('revisions survive a reopen: a fence taken before a restart still holds, and new keys get later revisions', async () => {
  const d = dir();
  try {
    const s = new EmbeddedStore(d);
    await s.put('/leader', 'me');
    await s.put('/other', 1);
    const before = (await s.get('/leader'))!;
    await s.close();
    const again = new EmbeddedStore(d);
    const after = (await again.get('/leader'))!;
    assert.deepEqual([after.createRevision, after.modRevision, after.version], [before.createRevision, before.modRevision, 1]);
    assert.equal(await again.txn([{ key: '/leader', createRevision: before.createRevision }], [{ op: 'put', key: '/x', value: 1 }]), true);
    const x = (await again.get('/x'))!;
    // revisions: /leader 1, /other 2, /x 3
    assert.deepEqual([before.createRevision, x.createRevision], [1, 3]);
    await again.close();
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});

test('a registry written before revisions existed is read, with revisions assigned in key order', async () => {
  const d = dir();
  try {
    writeFileSync(path.join(d, 'registry.json'), JSON.stringify({
      format: 'mezzanine-store/1',
      entries: { '/b': { value: 'b', version: 3 }, '/a': { value: { n: 1 }, version: 1 } },
    }));
    const s = new EmbeddedStore(d);
    const [a, b] = await s.list('/');
    assert.deepEqual([a!.key, a!.value, a!.version, a!.createRevision], ['/a', { n: 1 }, 1, 1]);
    assert.deepEqual([b!.key, b!.value, b!.version, b!.createRevision], ['/b', 'b', 3, 2]);
    await s.put('/c', 1);
    assert.equal((await s.get('/c'))!.createRevision, 3);
    await s.close();
    const file = JSON.parse(readFileSync(path.join(d, 'registry.json'), 'utf8')) as { revision: number };
    assert.equal(file.revision, 3);
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});

test('watch listeners run only once the change is on disk', async () => {
  const d = dir();
  try {
    const s = new EmbeddedStore(d);
    const onDisk: boolean[] = [];
    const w = await s.watch('/', (e: WatchEvent) => {
      const file = JSON.parse(readFileSync(path.join(d, 'registry.json'), 'utf8')) as { entries: Record<string, unknown> };
      onDisk.push(e.type === 'put' ? e.key in file.entries : !(e.key in file.entries));
    });
    // Concurrent writes are coalesced into fewer file writes; each event still waits for its own.
    await Promise.all([s.put('/a', 1), s.put('/b', 2), s.delete('/a'), s.put('/c', 3)]);
    assert.deepEqual(onDisk, [true, true, true, true]);
    await w.close();
    await s.close();
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});

test('a write that failed to reach the disk is never announced to watchers', async () => {
  const d = dir();
  try {
    const s = new EmbeddedStore(d);
    const seen: string[] = [];
    await s.watch('/', (e) => seen.push(`${e.type} ${e.key}`));
    mkdirSync(path.join(d, 'registry.json'));
    await assert.rejects(s.put('/x', 1), /cannot write the registry/);
    assert.deepEqual(seen, [], 'not durable, not announced');
    rmSync(path.join(d, 'registry.json'), { recursive: true });
    await s.put('/y', 2);
    assert.deepEqual(seen, ['put /y']);
    await s.close();
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});

test('writes waiting for one flush each learn their own outcome', async () => {
  const d = dir();
  try {
    const s = new EmbeddedStore(d);
    await s.put('/k', 0);
    // Queued together: the txn sees the put before it (version 2), the second txn sees the first's change.
    const results = await Promise.all([
      s.put('/k', 1),
      s.txn([{ key: '/k', version: 2 }], [{ op: 'put', key: '/k', value: 2 }]),
      s.txn([{ key: '/k', version: 2 }], [{ op: 'put', key: '/k', value: 'stale' }]),
      s.put('/bad', 1n).catch((err: Error) => err.message),
      s.delete('/k'),
    ]);
    assert.deepEqual(results, [undefined, true, false, 'cannot store the value at /bad: Do not know how to serialize a BigInt', undefined]);
    assert.equal(await s.get('/k'), undefined);
    await s.close();
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});

test('a closed store refuses calls with StoreError; close is idempotent', async () => {
  const d = dir();
  try {
    const s = new EmbeddedStore(d);
    await s.put('/a', 1);
    await s.close();
    await s.close();
    await assert.rejects(s.get('/a'), (err: unknown) => err instanceof StoreError && /is closed/.test(err.message));
    await assert.rejects(s.put('/b', 1), StoreError);
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});

// ─── a full or read-only data directory (real file systems: a small tmpfs) ───

/**
 * Mounts a 64 KiB tmpfs for one test and unmounts it at the end; undefined
 * (with a loud skip) where this process may not mount — chmod would not
 * stop root, so a real full or read-only file system is the honest test.
 */
function smallTmpfs(t: TestContext): string | undefined {
  const d = dir();
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', d], { encoding: 'utf8' });
  if (mounted.status !== 0) {
    rmSync(d, { recursive: true, force: true });
    t.skip(`cannot mount a tmpfs here (${(mounted.stderr || mounted.error?.message || '').trim()}); run as root to test full and read-only data directories`);
    return undefined;
  }
  t.after(() => {
    spawnSync('umount', [d]);
    rmSync(d, { recursive: true, force: true });
  });
  return d;
}

/** Writes zeros to `file` until the file system is full. */
function fill(file: string): void {
  const fd = openSync(file, 'w');
  try {
    for (;;) writeSync(fd, Buffer.alloc(4096));
  } catch (err) {
    assert.equal((err as NodeJS.ErrnoException).code, 'ENOSPC');
  } finally {
    closeSync(fd);
  }
}

test('with the data directory full, a write fails, names the cause, and is lost for good', async (t) => {
  const d = smallTmpfs(t);
  if (!d) return;
  const s = new EmbeddedStore(d);
  await s.put('/kept', 'before');
  fill(path.join(d, 'filler'));
  await assert.rejects(s.put('/lost', 'x'.repeat(8192)), (err: unknown) => {
    assert.ok(err instanceof StoreError);
    assert.equal(err.sysCode, 'ENOSPC');
    assert.match(err.message, new RegExp(`cannot write the registry ${d}/registry\\.json: ENOSPC.*the file system of the data directory ${d} is full: free space there\\. The write was not applied`));
    return true;
  });
  assert.equal(await s.get('/lost'), undefined, 'not read back');
  assert.deepEqual((await s.list('/')).map((kv) => kv.key), ['/kept']);
  rmSync(path.join(d, 'filler'));
  // The next write writes what memory holds: still without the failed one.
  await s.put('/after', 1);
  await s.close();
  const again = new EmbeddedStore(d);
  assert.deepEqual((await again.list('/')).map((kv) => [kv.key, kv.value]), [['/after', 1], ['/kept', 'before']]);
  await again.close();
});

test('with the data directory read-only, a write fails with EROFS and a reopened store does not see it', async (t) => {
  const d = smallTmpfs(t);
  if (!d) return;
  const s = new EmbeddedStore(d);
  await s.put('/kept', 1);
  assert.equal(spawnSync('mount', ['-o', 'remount,ro', d]).status, 0);
  const seen: string[] = [];
  await s.watch('/', (e) => seen.push(e.key));
  const results = await Promise.allSettled([s.put('/lost', 1), s.txn([], [{ op: 'delete', key: '/kept' }])]);
  for (const r of results) {
    assert.equal(r.status, 'rejected');
    const err = (r as PromiseRejectedResult).reason as StoreError;
    assert.equal(err.sysCode, 'EROFS');
    assert.match(err.message, new RegExp(`the data directory ${d} is on a read-only file system: remount it read-write, or start with another --data-dir`));
  }
  assert.equal(await s.get('/lost'), undefined);
  assert.equal((await s.get('/kept'))?.value, 1, 'the failed delete changed nothing');
  assert.deepEqual(seen, []);
  await s.close();
  assert.equal(spawnSync('mount', ['-o', 'remount,rw', d]).status, 0);
  const again = new EmbeddedStore(d);
  assert.deepEqual((await again.list('/')).map((kv) => kv.key), ['/kept']);
  await again.close();
});
