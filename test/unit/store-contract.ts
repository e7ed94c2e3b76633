/**
 * The behaviour every Store must have, as one suite run against each
 * implementation: the embedded one in test/unit/store-embedded.test.ts, the
 * etcd one (on a real etcd) in test/integration/store-etcd.test.ts.
 *
 * Each test works under a prefix of its own, so implementations that share
 * state between tests (one etcd for the whole file) stay independent.
 */
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidArgumentError } from '../../lib/errors';
import type { Store, WatchEvent } from '../../lib/store';
import { waitFor } from '../harness';

/** Opens a store for one test, or returns undefined when the test was skipped (e.g. no etcd here). */
export type OpenStore = (t: TestContext) => Promise<Store | undefined>;

let n = 0;

export function storeContract(name: string, open: OpenStore): void {
  describe(`Store contract: ${name}`, () => {
    /** Runs `body` with a fresh store and a key prefix of its own; closes the store pass or fail. */
    const withStore = (title: string, body: (s: Store, k: (key: string) => string) => Promise<void>) =>
      test(title, async (t) => {
        const s = await open(t);
        if (!s) return;
        const ns = `/contract-${process.pid}-${Date.now()}-${n++}`;
        try {
          await body(s, (key) => `${ns}${key}`);
        } finally {
          await s.close();
        }
      });

    withStore('get, put and delete; versions count writes and restart after a delete', async (s, k) => {
      assert.equal(await s.get(k('/a')), undefined);
      await s.put(k('/a'), { n: 1 });
      const first = await s.get(k('/a'));
      assert.deepEqual([first?.value, first?.version], [{ n: 1 }, 1]);
      await s.put(k('/a'), { n: 2 });
      const second = await s.get(k('/a'));
      assert.deepEqual([second?.value, second?.version], [{ n: 2 }, 2]);
      assert.equal(second?.createRevision, first?.createRevision, 'an update keeps the create revision');
      assert.ok(second!.modRevision > first!.modRevision);
      await s.delete(k('/a'));
      assert.equal(await s.get(k('/a')), undefined);
      await s.delete(k('/a')); // absent: not an error
      await s.put(k('/a'), 'again');
      const third = await s.get(k('/a'));
      assert.equal(third?.version, 1, 'a re-created key starts at version 1');
      assert.ok(third!.createRevision > first!.createRevision, 'and has a new create revision');
      // Every JSON type round-trips.
      for (const v of [0, -1.5, 'text', true, false, null, [], [1, 'two', { three: 3 }], { nested: { deep: [null] } }]) {
        await s.put(k('/json'), v);
        assert.deepEqual((await s.get(k('/json')))?.value, v);
      }
    });

    withStore('list returns the keys under a prefix, in key order, and nothing else', async (s, k) => {
      for (const key of ['/a/2', '/a/10', '/b/1', '/a/1', '/a0', '/ab', '/a/1/x', '/a']) await s.put(k(key), key);
      // Byte order: '/a/1' < '/a/1/x' < '/a/10' < '/a/2'.
      assert.deepEqual((await s.list(k('/a/'))).map((kv) => kv.key), ['/a/1', '/a/1/x', '/a/10', '/a/2'].map(k));
      assert.deepEqual((await s.list(k('/a/'))).map((kv) => kv.value), ['/a/1', '/a/1/x', '/a/10', '/a/2']);
      assert.deepEqual((await s.list(k('/a'))).map((kv) => kv.key), ['/a', '/a/1', '/a/1/x', '/a/10', '/a/2', '/a0', '/ab'].map(k));
      assert.deepEqual(await s.list(k('/none/')), []);
      assert.ok((await s.list(k('/a/'))).every((kv) => kv.version === 1));
    });

    withStore('txn by version: all or nothing, as one revision', async (s, k) => {
      // Version 0: only while absent.
      assert.equal(await s.txn([{ key: k('/k'), version: 0 }], [{ op: 'put', key: k('/k'), value: 1 }, { op: 'put', key: k('/j'), value: 1 }]), true);
      const [j, kk] = [await s.get(k('/j')), await s.get(k('/k'))];
      assert.equal(j!.modRevision, kk!.modRevision, 'the ops of one txn share a revision');
      // Stale version: nothing is written, not even the ops whose keys the compare does not name.
      assert.equal(await s.txn([{ key: k('/k'), version: 0 }], [{ op: 'put', key: k('/k'), value: 2 }, { op: 'put', key: k('/other'), value: 3 }]), false);
      assert.equal((await s.get(k('/k')))?.value, 1);
      assert.equal(await s.get(k('/other')), undefined);
      // Current version: applies, deletes included.
      assert.equal(await s.txn([{ key: k('/k'), version: 1 }, { key: k('/absent'), version: 0 }], [{ op: 'delete', key: k('/j') }, { op: 'put', key: k('/k'), value: 2 }]), true);
      assert.equal(await s.get(k('/j')), undefined);
      assert.deepEqual([(await s.get(k('/k')))?.value, (await s.get(k('/k')))?.version], [2, 2]);
      // One failing compare among several fails the whole txn.
      assert.equal(await s.txn([{ key: k('/k'), version: 2 }, { key: k('/absent'), version: 1 }], [{ op: 'put', key: k('/k'), value: 3 }]), false);
      assert.equal((await s.get(k('/k')))?.value, 2);
      // No compares: always applies.
      assert.equal(await s.txn([], [{ op: 'put', key: k('/free'), value: true }]), true);
      assert.equal((await s.get(k('/free')))?.value, true);
    });

    withStore('txn by createRevision: holds while the key lives, fails once it is deleted or re-created', async (s, k) => {
      await s.put(k('/leader'), 'me');
      const created = (await s.get(k('/leader')))!.createRevision;
      const fence = [{ key: k('/leader'), createRevision: created }];
      assert.equal(await s.txn(fence, [{ op: 'put', key: k('/data'), value: 1 }]), true);
      await s.put(k('/leader'), 'me, updated');
      assert.equal(await s.txn(fence, [{ op: 'put', key: k('/data'), value: 2 }]), true, 'an update of the key keeps the fence');
      assert.equal(await s.txn([{ key: k('/leader'), createRevision: created + 1000 }], [{ op: 'put', key: k('/data'), value: 9 }]), false);
      await s.delete(k('/leader'));
      assert.equal(await s.txn(fence, [{ op: 'put', key: k('/data'), value: 3 }]), false, 'a deleted key fails the fence');
      await s.put(k('/leader'), 'someone else');
      assert.equal(await s.txn(fence, [{ op: 'put', key: k('/data'), value: 4 }]), false, 'a re-created key fails the fence');
      assert.equal((await s.get(k('/data')))?.value, 2);
      // Mixed with a version compare.
      const now = (await s.get(k('/leader')))!;
      assert.equal(await s.txn([{ key: k('/leader'), createRevision: now.createRevision }, { key: k('/data'), version: 2 }], [{ op: 'delete', key: k('/data') }]), true);
      assert.equal(await s.get(k('/data')), undefined);
    });

    withStore('txn refuses what no store accepts: a key written twice, a createRevision below 1', async (s, k) => {
      await assert.rejects(s.txn([], [{ op: 'put', key: k('/x'), value: 1 }, { op: 'delete', key: k('/x') }]), (err: unknown) => {
        assert.ok(err instanceof InvalidArgumentError);
        assert.match(err.message, /appears twice/);
        return true;
      });
      await assert.rejects(s.txn([{ key: k('/x'), createRevision: 0 }], []), InvalidArgumentError);
      assert.equal(await s.get(k('/x')), undefined);
    });

    withStore('watch sees puts and deletes under its prefix, in order, from when it started', async (s, k) => {
      await s.put(k('/w/before'), 'not seen');
      const seen: WatchEvent[] = [];
      const w = await s.watch(k('/w/'), (e) => seen.push(e));
      await s.put(k('/w/a'), { v: 1 });
      await s.put(k('/outside'), 'not seen');
      await s.put(k('/w/a'), { v: 2 });
      await s.txn([], [{ op: 'put', key: k('/w/b'), value: 'b' }, { op: 'delete', key: k('/w/a') }]);
      await s.delete(k('/w/before'));
      await s.delete(k('/w/never-existed')); // writes nothing, so no event
      await s.put(k('/w/last'), 'end');
      await waitFor('the watch to see 6 events', () => seen.length >= 6, 15_000, 10);
      assert.deepEqual(seen, [
        { type: 'put', key: k('/w/a'), value: { v: 1 }, version: 1 },
        { type: 'put', key: k('/w/a'), value: { v: 2 }, version: 2 },
        { type: 'put', key: k('/w/b'), value: 'b', version: 1 },
        { type: 'delete', key: k('/w/a'), version: 0 },
        { type: 'delete', key: k('/w/before'), version: 0 },
        { type: 'put', key: k('/w/last'), value: 'end', version: 1 },
      ]);
      // After close, nothing more: a second watch sees the next write, the closed one does not.
      await w.close();
      await w.close(); // idempotent
      const later: WatchEvent[] = [];
      const w2 = await s.watch(k('/w/'), (e) => later.push(e));
      await s.put(k('/w/after-close'), 1);
      await waitFor('the second watch to see the write', () => later.length === 1, 15_000, 10);
      assert.equal(seen.length, 6);
      await w2.close();
    });

    withStore('values are copies: neither the caller nor a reader can change what is stored', async (s, k) => {
      const v = { list: [1] };
      await s.put(k('/v'), v);
      v.list.push(2);
      assert.deepEqual((await s.get(k('/v')))?.value, { list: [1] });
      const got = (await s.get<{ list: number[] }>(k('/v')))!.value;
      got.list.push(3);
      assert.deepEqual((await s.get(k('/v')))?.value, { list: [1] });
      const listed = (await s.list<{ list: number[] }>(k('/')))[0]!.value;
      listed.list.push(4);
      const events: WatchEvent[] = [];
      const w = await s.watch(k('/'), (e) => events.push(e));
      const t = { list: [5] };
      await s.txn([], [{ op: 'put', key: k('/t'), value: t }]);
      t.list.push(6);
      await waitFor('the watch event', () => events.length === 1, 15_000, 10);
      (events[0]!.value as { list: number[] }).list.push(7);
      assert.deepEqual((await s.get(k('/t')))?.value, { list: [5] });
      assert.deepEqual((await s.get(k('/v')))?.value, { list: [1] });
      await w.close();
    });

    withStore('a value that is not JSON-serialisable is refused and nothing is written', async (s, k) => {
      await assert.rejects(s.put(k('/u'), undefined), /not JSON-serialisable/);
      const cyclic: Record<string, unknown> = {};
      cyclic.self = cyclic;
      await assert.rejects(s.txn([], [{ op: 'put', key: k('/ok'), value: 1 }, { op: 'put', key: k('/c'), value: cyclic }]), /cannot store/);
      assert.equal(await s.get(k('/ok')), undefined);
      assert.equal(await s.get(k('/u')), undefined);
    });
  });
}
