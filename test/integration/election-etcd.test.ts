/**
 * Leader election on a real etcd, and the behaviour both elections share.
 *
 * The safety test cuts one leader off from etcd through a TCP proxy while
 * etcd keeps serving the other candidate, and checks the order of events:
 * the old leader's `lost` resolves before the new leader's campaign does.
 */
import { after, before, describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { ElectionClosedError, type Election, type Leadership } from '../../lib/election';
import { EmbeddedElection } from '../../lib/election-embedded';
import { DEFAULT_LEASE_TTL_S, EtcdElection } from '../../lib/election-etcd';
import { EtcdStore } from '../../lib/store-etcd';
import { etcdOrSkip, requireEtcd, startProxy, startTestEtcd, type TestEtcd } from '../etcd';
import { waitFor } from '../harness';

/** A campaign whose outcome can be looked at without awaiting it. */
function track(p: Promise<Leadership>) {
  const t: { promise: Promise<Leadership>; leadership?: Leadership; error?: unknown; at?: number } = { promise: p };
  p.then((l) => ((t.leadership = l), (t.at = performance.now())), (err: unknown) => ((t.error = err), (t.at = performance.now())));
  return t;
}

/** Awaits `p`, failing with `what` after `ms` instead of hanging until the test timeout. */
async function within<T>(what: string, p: Promise<T>, ms = 15_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

let clusters = 0;

/** The behaviour every Election has; `make` opens elections of one cluster (a new cluster per test). */
function electionContract(name: string, setup: (t: TestContext) => Promise<((cluster: string) => Election) | undefined>): void {
  describe(`Election contract: ${name}`, () => {
    const withElections = (title: string, body: (make: () => Election) => Promise<void>) =>
      test(title, async (t) => {
        const open = await setup(t);
        if (!open) return;
        const cluster = `c${process.pid}-${clusters++}`;
        const made: Election[] = [];
        t.after(() => Promise.all(made.map((e) => e.close())));
        await body(() => {
          const e = open(cluster);
          made.push(e);
          return e;
        });
      });

    withElections('two candidates: one leads, the other waits; the leader resigns and the other leads', async (make) => {
      const [a, b] = [make(), make()];
      const la = await within('a:1 to lead', a.campaign('a:1'));
      const cb = track(b.campaign('b:1'));
      await waitFor('both candidates to be registered', async () => (await a.candidates!()).length === 2, 15_000);
      assert.deepEqual(await b.candidates!(), ['a:1', 'b:1'], 'the leader first, then the waiting candidate');
      assert.equal(await b.leader(), 'a:1');
      assert.equal(cb.at, undefined, 'b waits while a leads');
      await la.resign();
      await la.resign(); // idempotent
      assert.equal(await within('a to know it resigned', la.lost), 'resigned');
      const lb = await within('b to lead', cb.promise);
      assert.equal(await a.leader(), 'b:1');
      assert.deepEqual(await a.candidates!(), ['b:1']);
      await lb.resign();
      assert.equal(await a.leader(), undefined);
    });

    withElections('observe reports the leader, then every change, in order', async (make) => {
      const [watcher, x, y] = [make(), make(), make()];
      const seen: (string | undefined)[] = [];
      const obs = await watcher.observe((l) => seen.push(l));
      assert.deepEqual(seen, [undefined], 'the current state first: no leader');
      const lx = await within('x:1 to lead', x.campaign('x:1'));
      await waitFor('x reported', () => seen.at(-1) === 'x:1', 15_000);
      const cy = track(y.campaign('y:1'));
      await waitFor('y to be a candidate', async () => (await watcher.candidates!()).length === 2, 15_000);
      await lx.resign();
      const ly = await within('y to lead', cy.promise);
      await waitFor('y reported', () => seen.at(-1) === 'y:1', 15_000);
      await ly.resign();
      await waitFor('no leader reported', () => seen.length === 4, 15_000);
      assert.deepEqual(seen, [undefined, 'x:1', 'y:1', undefined]);
      await obs.close();
      await obs.close();
    });

    withElections('close: a waiting campaign rejects with ElectionClosedError, a held leadership ends', async (make) => {
      const [a, b] = [make(), make()];
      const la = await within('a:1 to lead', a.campaign('a:1'));
      const cb = track(b.campaign('b:1'));
      await waitFor('b to be a candidate', async () => (await a.candidates!()).length === 2, 15_000);
      await b.close();
      await assert.rejects(within('b\'s campaign to end', cb.promise), ElectionClosedError);
      await assert.rejects(b.campaign('b:2'), ElectionClosedError);
      await a.close();
      assert.match(await within('a to lose its leadership', la.lost), /resigned|closed/);
    });
  });
}

electionContract('embedded', async () => {
  // The embedded election serves the candidates of one process: every handle of a cluster is the same election.
  const shared = new Map<string, EmbeddedElection>();
  return (cluster) => {
    if (!shared.has(cluster)) shared.set(cluster, new EmbeddedElection());
    return shared.get(cluster)!;
  };
});

let sharedEtcd: Promise<TestEtcd> | undefined;
after(async () => {
  await (await sharedEtcd?.catch(() => undefined))?.dispose();
});

electionContract('etcd', async (t) => {
  if (!etcdOrSkip(t)) return undefined;
  sharedEtcd ??= startTestEtcd();
  const { endpoint } = await sharedEtcd;
  // A 4 s lease: these tests never wait for one to expire, and a stalled test process cannot depose a leader by accident.
  return (cluster) => new EtcdElection({ endpoints: [endpoint], cluster, ttlSeconds: 4 });
});

describe('EtcdElection on a real etcd', { skip: requireEtcd() }, () => {
  let etcd: TestEtcd;
  const cleanups: (() => Promise<unknown>)[] = [];
  before(async () => {
    etcd = await startTestEtcd();
  });
  after(async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
    await etcd?.dispose();
  });
  const election = (endpoint: string, cluster: string) => {
    const e = new EtcdElection({ endpoints: [endpoint], cluster, ttlSeconds: DEFAULT_LEASE_TTL_S });
    cleanups.push(() => e.close());
    return e;
  };

  test('a leader cut off from etcd loses its leadership before the other candidate leads; its fence then fails', async () => {
    const proxy = await startProxy(etcd.endpoint);
    cleanups.push(() => proxy.close());
    const cutOff = election(proxy.endpoint, 'partition');
    const other = election(etcd.endpoint, 'partition');
    const store = new EtcdStore({ endpoints: [etcd.endpoint] });
    cleanups.push(() => store.close());

    const old = await within('cut-off:1 to lead', cutOff.campaign('cut-off:1'));
    const next = track(other.campaign('other:1'));
    await waitFor('the other candidate to wait', async () => (await other.candidates()).length === 2, 15_000);
    assert.equal(await store.txn(old.fence, [{ op: 'put', key: '/mezzanine/partition/registry/x', value: 1 }]), true, 'the fence holds while leading');

    let lostAt: number | undefined;
    let reason = '';
    void old.lost.then((r) => ((lostAt = performance.now()), (reason = r)));
    const cutAt = performance.now();
    proxy.pause();
    const lb = await within('the other candidate to lead', next.promise, 30_000);
    const electedAt = next.at!;
    await waitFor('the old leader to know it lost', () => lostAt !== undefined, 15_000);
    const gap = electedAt - lostAt!;
    process.stderr.write(`partition: old leader stopped ${Math.round(lostAt! - cutAt)} ms after the cut, new leader elected ${Math.round(electedAt - cutAt)} ms after it (gap ${Math.round(gap)} ms)\n`);
    assert.ok(lostAt! < electedAt && gap >= 0, `the old leader stopped at +${Math.round(lostAt! - cutAt)} ms, after the new one was elected at +${Math.round(electedAt - cutAt)} ms`);
    assert.match(reason, /no keepalive .* answered for \d+ ms/);

    // Fencing: the old leader's writes are refused; the new leader's go through.
    assert.equal(await store.txn(old.fence, [{ op: 'put', key: '/mezzanine/partition/registry/x', value: 2 }]), false);
    assert.equal(await store.txn(lb.fence, [{ op: 'put', key: '/mezzanine/partition/registry/x', value: 3 }]), true);
    assert.equal((await store.get('/mezzanine/partition/registry/x'))?.value, 3);

    // The partition heals: the old leader can campaign again, and waits its turn.
    await proxy.resume();
    const again = track(cutOff.campaign('cut-off:2'));
    await waitFor('the old leader to be a candidate again', async () => (await other.candidates()).includes('cut-off:2'), 20_000);
    assert.equal(again.at, undefined);
    await lb.resign();
    await within('the old leader to lead again', again.promise);
    assert.equal(await other.leader(), 'cut-off:2');
  });

  test('deleting the leader key deposes the leader at once', async () => {
    const e = election(etcd.endpoint, 'deleted');
    const store = new EtcdStore({ endpoints: [etcd.endpoint] });
    cleanups.push(() => store.close());
    const l = await within('m:1 to lead', e.campaign('m:1'));
    const key = l.fence[0]!.key;
    assert.match(key, /^\/mezzanine\/deleted\/leader\/[0-9a-f]+$/);
    await store.delete(key);
    assert.match(await within('the leader to be deposed', l.lost), /was deleted/);
  });

  test('campaigns go on through an etcd restart: someone leads again', async () => {
    const own = await startTestEtcd();
    cleanups.push(() => own.dispose());
    const [a, b] = [election(own.endpoint, 'restart'), election(own.endpoint, 'restart')];
    const la = await within('a:1 to lead', a.campaign('a:1'));
    const cb = track(b.campaign('b:1'));
    await waitFor('b to wait', async () => (await a.candidates()).length === 2, 15_000);

    await own.stop();
    assert.match(await within('the leader to step down', la.lost, 30_000), /no keepalive|expired|deleted|ended/, 'the leader steps down when etcd is gone');
    const ca = track(a.campaign('a:2'));
    await own.restart();
    const winner = await waitFor('a leader after the restart', () => ca.leadership ?? cb.leadership, 30_000);
    assert.ok([ca.leadership, cb.leadership].includes(winner));
    assert.match((await a.leader()) ?? '', /^(a:2|b:1)$/);
    assert.equal(ca.error ?? cb.error, undefined);
  });
});
