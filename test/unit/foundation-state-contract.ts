/**
 * The behaviour of a framework's fenced state (frameworks/foundation/state.ts)
 * on any Store: run on the embedded store in foundation-state.test.ts, on a
 * real etcd in test/integration/foundation-ha.test.ts.
 *
 * Each test works in a cluster of its own, so stores shared between tests
 * (one etcd for a file) stay independent. Store-level fencing is checked with
 * a hand-made fence (a key and its create revision, as an election's), so
 * that it holds for the embedded store too, whose election fences nothing.
 */
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidArgumentError } from '../../lib/errors';
import type { Store } from '../../lib/store';
import { FrameworkState, LeadershipLostError, frameworkPrefix, type StateGuard } from '../../frameworks/foundation/state';

/** Opens a store for one test, or returns undefined when the test was skipped (e.g. no etcd here). */
export type OpenStore = (t: TestContext) => Promise<Store | undefined>;

let n = 0;

/** A leadership made by hand: a leader key and its create revision as the fence, and an abort controller as its signal. */
async function handLeadership(store: Store, key: string): Promise<{ guard: StateGuard; depose(): Promise<void>; abort(reason: string): void }> {
  await store.put(key, 'leader');
  const createRevision = (await store.get(key))!.createRevision;
  const ac = new AbortController();
  return {
    guard: { fence: [{ key, createRevision }], signal: ac.signal },
    depose: () => store.delete(key),
    abort: (reason) => ac.abort(reason),
  };
}

export function frameworkStateContract(name: string, open: OpenStore): void {
  describe(`FrameworkState: ${name}`, () => {
    const withStore = (title: string, body: (s: Store, cluster: string) => Promise<void>) =>
      test(title, async (t) => {
        const s = await open(t);
        if (!s) return;
        try {
          await body(s, `c${process.pid}-${Date.now()}-${n++}`);
        } finally {
          await s.close();
        }
      });

    withStore('keys live under the framework\'s prefix; lists give relative keys in order; JSON values round-trip', async (s, cluster) => {
      const lead = await handLeadership(s, `/mezzanine/${cluster}/leader-key`);
      const prefix = `${frameworkPrefix(cluster, 'services')}state/`;
      assert.equal(prefix, `/mezzanine/${cluster}/frameworks/services/state/`);
      const state = new FrameworkState(s, prefix, lead.guard);
      await state.put('apps/web', { instances: 3, cmd: 'sleep 1' });
      await state.put('apps/db', { instances: 1 });
      await state.put('deployments/d1', ['web']);
      assert.deepEqual(await state.get('apps/web'), { instances: 3, cmd: 'sleep 1' });
      assert.equal(await state.get('apps/none'), undefined);
      assert.deepEqual(await state.list('apps/'), [{ key: 'apps/db', value: { instances: 1 } }, { key: 'apps/web', value: { instances: 3, cmd: 'sleep 1' } }]);
      assert.deepEqual((await s.get(`${prefix}apps/web`))?.value, { instances: 3, cmd: 'sleep 1' }, 'the raw key is the prefix and the key');
      await state.delete('apps/db');
      await state.delete('apps/db'); // absent: not an error
      assert.deepEqual((await state.list()).map((e) => e.key), ['apps/web', 'deployments/d1']);
    });

    withStore('two frameworks of one cluster (and one framework of two clusters) never see each other\'s keys', async (s, cluster) => {
      const lead = await handLeadership(s, `/mezzanine/${cluster}/leader-key`);
      const open = (c: string, fw: string) => new FrameworkState(s, `${frameworkPrefix(c, fw)}state/`, lead.guard);
      const services = open(cluster, 'services');
      // 'services-2' starts with 'services': the trailing / keeps them apart.
      const services2 = open(cluster, 'services-2');
      const other = open(`${cluster}x`, 'services');
      await services.put('a', 1);
      await services2.put('a', 2);
      await other.put('a', 3);
      assert.deepEqual(await services.list(), [{ key: 'a', value: 1 }]);
      assert.deepEqual(await services2.list(), [{ key: 'a', value: 2 }]);
      assert.deepEqual(await other.list(), [{ key: 'a', value: 3 }]);
      await services.delete('a');
      assert.equal(await services2.get('a'), 2);
    });

    withStore('a txn applies every op or none', async (s, cluster) => {
      const lead = await handLeadership(s, `/mezzanine/${cluster}/leader-key`);
      const state = new FrameworkState(s, `${frameworkPrefix(cluster, 'batch')}state/`, lead.guard);
      await state.put('jobs/old', 1);
      await state.txn([{ op: 'put', key: 'jobs/new', value: 2 }, { op: 'delete', key: 'jobs/old' }]);
      assert.deepEqual(await state.list(), [{ key: 'jobs/new', value: 2 }]);
      await assert.rejects(state.txn([{ op: 'put', key: 'x', value: 1 }, { op: 'put', key: 'x', value: 2 }]), InvalidArgumentError);
      assert.equal(await state.get('x'), undefined, 'a refused txn wrote nothing');
    });

    withStore('after the leadership is lost (signal aborted) every write fails and writes nothing; reads still work', async (s, cluster) => {
      const lead = await handLeadership(s, `/mezzanine/${cluster}/leader-key`);
      const state = new FrameworkState(s, `${frameworkPrefix(cluster, 'services')}state/`, lead.guard);
      await state.put('apps/web', 1);
      lead.abort('lease expired');
      for (const write of [() => state.put('apps/web', 2), () => state.delete('apps/web'), () => state.txn([{ op: 'put', key: 'b', value: 1 }])]) {
        await assert.rejects(write(), (err: unknown) => err instanceof LeadershipLostError && /no longer leads \(lease expired\)/.test(err.message));
      }
      assert.equal(await state.get('apps/web'), 1);
      assert.equal(await state.get('b'), undefined);
    });

    withStore('a deposed leader that has not noticed (signal not aborted) is refused by the store\'s fence', async (s, cluster) => {
      const lead = await handLeadership(s, `/mezzanine/${cluster}/leader-key`);
      const state = new FrameworkState(s, `${frameworkPrefix(cluster, 'services')}state/`, lead.guard);
      await state.put('apps/web', 1);
      await lead.depose(); // the leader key is gone: etcd would have elected another
      await assert.rejects(state.put('apps/web', 2), LeadershipLostError);
      await assert.rejects(state.txn([{ op: 'delete', key: 'apps/web' }]), LeadershipLostError);
      assert.equal(await state.get('apps/web'), 1);
      // A successor's key, even at the same path, has another create revision: the old fence stays refused.
      await s.put(`/mezzanine/${cluster}/leader-key`, 'successor');
      await assert.rejects(state.put('apps/web', 3), LeadershipLostError);
      assert.equal(await state.get('apps/web'), 1);
    });

    withStore('bad keys and names are refused naming what is wrong', async (s, cluster) => {
      const lead = await handLeadership(s, `/mezzanine/${cluster}/leader-key`);
      const state = new FrameworkState(s, `${frameworkPrefix(cluster, 'services')}state/`, lead.guard);
      await assert.rejects(state.put('', 1), /non-empty string of at most 1024 characters/);
      await assert.rejects(state.get('k'.repeat(1025)), /at most 1024 characters/);
      assert.throws(() => frameworkPrefix(cluster, 'a/b'), (err: unknown) => err instanceof InvalidArgumentError && /framework name 'a\/b'/.test(err.message));
      assert.throws(() => frameworkPrefix('', 'services'), /the cluster ''/);
    });
  });
}
