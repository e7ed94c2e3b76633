/**
 * EtcdStore on a real etcd: the shared Store contract, then what only a
 * networked store has to get right — bounded, clear failure when etcd is
 * gone, and watches that survive a restart of etcd and a partition.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { StoreError } from '../../lib/errors';
import { EtcdNotInstalledError, findEtcd, freePort } from '../../lib/etcd-process';
import type { WatchEvent } from '../../lib/store';
import { EtcdStore } from '../../lib/store-etcd';
import { etcdOrSkip, requireEtcd, startProxy, startTestEtcd, type Proxy, type TestEtcd } from '../etcd';
import { waitFor } from '../harness';
import { storeContract } from '../unit/store-contract';

/** One etcd for the contract tests of this file, started on first use. */
let shared: Promise<TestEtcd> | undefined;
after(async () => {
  await (await shared?.catch(() => undefined))?.dispose();
});

storeContract('etcd', async (t) => {
  if (!etcdOrSkip(t)) return undefined;
  shared ??= startTestEtcd();
  return new EtcdStore({ endpoints: [(await shared).endpoint] });
});

test('without etcd installed, starting one says how to install it', () => {
  assert.throws(() => findEtcd('/nonexistent/etcd'), (err: unknown) => {
    assert.ok(err instanceof EtcdNotInstalledError);
    assert.match(err.message, /etcd is not installed.*apt-get install etcd-server/);
    return true;
  });
});

describe('EtcdStore against etcd failures', { skip: requireEtcd() }, () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  after(async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
  });
  const etcd = async () => {
    const e = await startTestEtcd();
    cleanups.push(() => e.dispose());
    return e;
  };
  const store = (endpoint: string, callTimeoutMs = 2000) => {
    const s = new EtcdStore({ endpoints: [endpoint], callTimeoutMs });
    cleanups.push(() => s.close());
    return s;
  };
  /** Runs `fn`, expecting a StoreError; returns it and how long it took. */
  const failure = async (fn: () => Promise<unknown>) => {
    const started = Date.now();
    const err = await fn().then(() => assert.fail('expected a StoreError'), (e: unknown) => e);
    assert.ok(err instanceof StoreError, `expected a StoreError, got ${String(err)}`);
    return { err, ms: Date.now() - started };
  };

  test('nothing listening: every call fails at once with a StoreError naming the endpoint', async () => {
    const endpoint = `http://127.0.0.1:${await freePort()}`;
    const s = store(endpoint);
    for (const call of [() => s.get('/a'), () => s.put('/a', 1), () => s.list('/'), () => s.txn([], [{ op: 'delete', key: '/a' }]), () => s.watch('/', () => undefined)]) {
      const { err, ms } = await failure(call);
      assert.match(err.message, new RegExp(`^etcd at ${endpoint} is unreachable \\(.*\\): .*ECONNREFUSED.*; is etcd running\\?$`));
      assert.ok(ms < 2000 + 1500, `failed after ${ms} ms, within the 2 s call timeout`);
    }
    const opened = await failure(() => EtcdStore.open({ endpoints: [endpoint], callTimeoutMs: 2000 }));
    assert.match(opened.err.message, /is unreachable \(connect\).*is etcd running\?/);
  });

  test('etcd stopped (SIGSTOP): calls fail after the call timeout instead of hanging, and work again once it continues', async () => {
    const e = await etcd();
    const s = store(e.endpoint, 1500);
    await s.put('/k', 'v');
    e.pause();
    try {
      const { err, ms } = await failure(() => s.get('/k'));
      assert.match(err.message, /is unreachable \(get \/k\): DEADLINE_EXCEEDED.*; is etcd running\?/);
      assert.ok(ms >= 1400 && ms < 1500 + 2000, `failed after ${ms} ms, for a 1.5 s call timeout`);
    } finally {
      e.resume();
    }
    assert.equal((await s.get('/k'))?.value, 'v');
  });

  test('a watch resumes after etcd restarts and after a partition heals, missing and repeating nothing', async () => {
    const e = await etcd();
    const proxy: Proxy = await startProxy(e.endpoint);
    cleanups.push(() => proxy.close());
    const writer = store(e.endpoint);
    const watcher = store(proxy.endpoint);
    const seen: WatchEvent[] = [];
    await watcher.watch('/w/', (ev) => seen.push(ev));
    await writer.put('/w/1', 1);
    await waitFor('the first event', () => seen.length === 1, 15_000, 10);

    // etcd restarts (same data): the watch comes back by itself.
    await e.restart();
    await writer.put('/w/2', 2);
    await waitFor('the event after the restart', () => seen.length === 2, 20_000, 20);

    // The watcher is cut off while writes go on; it catches up once the partition heals.
    proxy.pause();
    await writer.put('/w/3', 3);
    await writer.delete('/w/1');
    await writer.put('/w/4', 4);
    await proxy.resume();
    await waitFor('the events written during the partition', () => seen.length === 5, 30_000, 20);
    assert.deepEqual(seen.map((ev) => `${ev.type} ${ev.key}`), ['put /w/1', 'put /w/2', 'put /w/3', 'delete /w/1', 'put /w/4']);
  });

  test('a value that is not JSON (written by another tool) is reported with its key, not returned as garbage', async () => {
    const e = await etcd();
    const s = store(e.endpoint);
    await s.connection.client.put('/raw').value('not json');
    const { err } = await failure(() => s.get('/raw'));
    assert.match(err.message, /the value at \/raw in etcd at .* is not JSON/);
  });
});
