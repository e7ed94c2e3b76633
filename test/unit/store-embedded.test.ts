import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { EmbeddedStore } from '../../lib/store-embedded';
import { StoreError } from '../../lib/errors';

const dir = () => mkdtempSync(path.join(tmpdir(), 'mezz-store-'));

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
