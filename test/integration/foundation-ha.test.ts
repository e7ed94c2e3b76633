/**
 * The foundation's high availability on a real etcd: the fenced-state suite
 * on etcd (with a real election's fence), then two instances of a tiny
 * framework (test/fixtures/ha-framework.ts) against a real master and agent —
 * one leads, the other proxies to it (DELETE /leader too); the leader
 * abdicates, then the new one is killed -9, and each time the other takes
 * over the same framework id without launching anything twice.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { EtcdElection } from '../../lib/election-etcd';
import { EtcdStore } from '../../lib/store-etcd';
import type { ListFrameworksResponse__Output } from '../../lib/proto/generated/mezzanine/v1/ListFrameworksResponse';
import type { ListTasksResponse__Output } from '../../lib/proto/generated/mezzanine/v1/ListTasksResponse';
import { FrameworkState, LeadershipLostError, frameworkPrefix } from '../../frameworks/foundation';
import { Cluster, op, waitFor, type Proc } from '../harness';
import { lines, markerDir } from '../fixtures/markers';
import { etcdOrSkip, requireEtcd, startTestEtcd, type TestEtcd } from '../etcd';
import { frameworkStateContract } from '../unit/foundation-state-contract';

/** One etcd for the suite's state tests, started on first use. */
let shared: Promise<TestEtcd> | undefined;
after(async () => {
  await (await shared?.catch(() => undefined))?.dispose();
});
const sharedEtcd = () => (shared ??= startTestEtcd());

frameworkStateContract('etcd store', async (t) => {
  if (!etcdOrSkip(t)) return undefined;
  return new EtcdStore({ endpoints: [(await sharedEtcd()).endpoint] });
});

test('on etcd, a leader that lost its election (and has not noticed) cannot write its framework state; the new leader can', async (t) => {
  if (!etcdOrSkip(t)) return;
  const endpoints = [(await sharedEtcd()).endpoint];
  const cluster = `fence-${process.pid}`;
  const store = new EtcdStore({ endpoints });
  const [ea, eb] = [0, 1].map(() => new EtcdElection({ endpoints, cluster: `${cluster}/frameworks/services`, ttlSeconds: 1 }));
  t.after(async () => {
    await Promise.all([ea!.close(), eb!.close()]);
    await store.close();
  });
  const prefix = `${frameworkPrefix(cluster, 'services')}state/`;
  const a = await ea!.campaign('a:1');
  const stale = new FrameworkState(store, prefix, { fence: a.fence, signal: new AbortController().signal }); // never told of the loss
  await stale.put('apps/web', 1);
  const bWins = eb!.campaign('b:1');
  await a.resign();
  const b = await bWins;
  await assert.rejects(stale.put('apps/web', 2), LeadershipLostError);
  const next = new FrameworkState(store, prefix, { fence: b.fence, signal: new AbortController().signal });
  await next.put('apps/web', 3);
  assert.equal(await next.get('apps/web'), 3);
});

describe('two instances of a framework on the runner, a real master, agent and etcd', { skip: requireEtcd() }, () => {
  const c = new Cluster();
  let etcd: TestEtcd;
  let master: Proc;
  let markers: string;

  before(async () => {
    markers = markerDir(c.dir);
    etcd = await startTestEtcd();
    master = await c.startMaster();
    await c.startAgent(master.address);
  });
  after(async () => {
    await c.teardown();
    await etcd?.dispose();
  });

  const instance = (name: string) => c.spawn(name, 'test/fixtures/ha-framework.ts', [
    '--master', master.address, '--etcd', etcd.endpoint, '--cluster', 'ha-test', '--lease-ttl', '2',
    '--host', '127.0.0.1', '--port', '0', '--tasks', '3', '--marker-dir', markers,
  ]);
  type Whoami = { self: string; ready: boolean; tasks: string[]; offersAfterReady: number };
  const whoami = async (p: Proc): Promise<{ body: Whoami; leader: string | null }> => {
    const res = await fetch(`http://${p.address}/whoami`);
    if (res.status !== 200) throw new Error(`${p.name}: /whoami answered ${res.status}: ${await res.text()}`);
    return { body: (await res.json()) as Whoami, leader: res.headers.get('x-mezz-leader') };
  };
  const frameworks = async () => (await op<object, ListFrameworksResponse__Output>(c.operator(master.address), 'listFrameworks', {})).frameworks;
  const running = async () => (await op<object, ListTasksResponse__Output>(c.operator(master.address), 'listTasks', { state: 'TASK_RUNNING' })).tasks.map((t) => t.id).sort();
  /** Launches, as the tasks noted them: one file per task id, one line per start. */
  const launches = () => readdirSync(markers).map((f) => [f, lines(path.join(markers, f)).length] as const).sort();

  /** Waits until `p` leads, subscribed and reconciled, and has had offers since (had it meant to launch, it would have). */
  const settledLeader = async (p: Proc) => {
    await waitFor(`${p.name} to lead, subscribed and reconciled`, async () => {
      const me = (await whoami(p)).body;
      return me.self === p.address && me.ready;
    }, 60_000);
    await waitFor(`${p.name} to see offers as leader`, async () => (await whoami(p)).body.offersAfterReady >= 2, 60_000);
  };

  test('the standby proxies to the leader; on abdication and after kill -9 the other leads the same framework id and launches nothing twice', async () => {
    const a = await instance('fw-a');
    await waitFor('a to lead with 3 running tasks', async () => (await whoami(a)).body.ready && (await running()).length === 3, 60_000);
    const b = await instance('fw-b');

    const [fw] = await frameworks();
    assert.equal((await frameworks()).length, 1);
    assert.equal(fw!.name, 'ha-fixture');
    assert.equal(fw!.webuiUrl, `http://${a.address}`, 'webui_url is the leader\'s advertised HTTP address');
    const tasks = await running();
    assert.deepEqual((await whoami(a)).body.tasks, tasks);

    // The standby answers with the leader's answer.
    const viaB = await whoami(b);
    assert.equal(viaB.body.self, a.address);
    assert.equal(viaB.leader, a.address);

    /** One framework, the same id, served by `leader`, with the same tasks, each started once. */
    const unchanged = async (leader: Proc, why: string) => {
      const now = await frameworks();
      assert.deepEqual(now.map((f) => [f.id, f.state, f.webuiUrl]), [[fw!.id, 'ACTIVE', `http://${leader.address}`]], why);
      assert.deepEqual((await whoami(leader)).body.tasks, tasks, `${why}: the leader knows the tasks from the state`);
      assert.deepEqual(await running(), tasks, `${why}: the same three tasks run`);
      assert.deepEqual(launches(), tasks.map((id) => [id, 1]), `${why}: each task started once, and no other was launched`);
    };

    // DELETE /leader sent to the standby is proxied to the leader, which abdicates: b leads.
    const abdicated = await fetch(`http://${b.address}/leader`, { method: 'DELETE' });
    assert.deepEqual([abdicated.status, await abdicated.text()], [202, 'abdicated']);
    await settledLeader(b);
    await unchanged(b, 'after a abdicated');
    await waitFor('a to proxy to b', async () => (await whoami(a)).leader === b.address);

    await b.kill9();
    await settledLeader(a);
    await unchanged(a, 'after b was killed -9');
  });
});
