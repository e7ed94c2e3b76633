import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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

test('a write that cannot reach the disk is refused loudly and retried with the next write', async () => {
  const d = dir();
  try {
    const s = new EmbeddedStore(d);
    // A directory where the file must go: the rename fails for every user, root included.
    mkdirSync(path.join(d, 'registry.json'));
    await assert.rejects(s.put('/x', 1), /cannot write the registry .*registry\.json: .*EISDIR|cannot write the registry/);
    assert.deepEqual(readdirSync(d), ['registry.json'], 'the temp file was cleaned up');
    rmSync(path.join(d, 'registry.json'), { recursive: true });
    await s.put('/y', 2);
    await s.close();
    const again = new EmbeddedStore(d);
    assert.deepEqual((await again.list('/')).map((kv) => kv.key), ['/x', '/y'], 'the failed write was kept and written next time');
  } finally {
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

test('a write that failed to reach the disk is announced to watchers when a later write succeeds, in order', async () => {
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
    assert.deepEqual(seen, ['put /x', 'put /y']);
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
