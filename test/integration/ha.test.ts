/**
 * High availability on a real etcd: three masters, agents and a framework
 * that follow the leader by themselves; a leader killed -9, an etcd outage
 * and a partitioned leader. Nothing is lost and nothing runs twice.
 *
 * Everything runs secured, as a production group would: mutual TLS between
 * masters, agents, the test's clients and etcd (which requires client
 * certificates), and authentication on (masters given --credentials, agents
 * and clients a token). See test/fixtures/tls.ts.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type * as grpc from '@grpc/grpc-js';
import { makeClient } from '../../lib/auth';
import { startEtcd, type EtcdProcess } from '../../lib/etcd-process';
import { EtcdElection } from '../../lib/election-etcd';
import type { Leadership } from '../../lib/election';
import { connectFramework, pack, type Framework } from '../../frameworks/sdk';
import type { LeaderInfo__Output } from '../../lib/proto/generated/mezzanine/v1/LeaderInfo';
import type { ListAgentsResponse__Output } from '../../lib/proto/generated/mezzanine/v1/ListAgentsResponse';
import type { ListTasksResponse__Output } from '../../lib/proto/generated/mezzanine/v1/ListTasksResponse';
import { mezzProto, type AgentGatewayClient, type AgentMessage, type MasterMessage__Output, type ReadFileResponse__Output, type TaskStatus__Output } from '../../lib/proto';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { existsSync, statSync } from 'node:fs';
import { alive, Cluster, op, ROOT, task, waitFor, type Proc, quiet } from '../harness';
import { requireEtcd, startProxy, type Proxy } from '../etcd';
import { secureCluster } from '../fixtures/tls';

const TTL = '2';
const secure = secureCluster();
/** What the SDK is given to reach the secured masters. */
const fwSecurity = { token: secure.token, tls: { cert: secure.tls.tlsCert, key: secure.tls.tlsKey, ca: secure.tls.tlsCa } };
/** An etcd that serves https only and requires a client certificate from the test CA. */
const secureEtcd = (dataDir: string) => startEtcd({ dataDir, tls: secure.tls });

describe('a group of three masters on etcd', { skip: requireEtcd() }, () => {
  const c = new Cluster(secure);
  let etcd: EtcdProcess;
  let masters: Proc[];
  let fw: Framework;
  const updates: TaskStatus__Output[] = [];
  let subscriptions = 0;

  const leaderInfo = async (m: Proc) => op<object, LeaderInfo__Output>(c.operator(m.address), 'getLeader', {});
  /** The leader as the live masters see it, once they agree on one. */
  const leader = async (among: Proc[]): Promise<Proc> => waitFor('the masters to agree on a leader', async () => {
    const infos = await Promise.all(among.map((m) => leaderInfo(m).catch(() => undefined)));
    const leaders = new Set(infos.map((i) => i?.leader));
    const [only] = leaders;
    const proc = among.find((m) => m.address === only);
    return leaders.size === 1 && proc && infos.find((i) => i?.self === only)?.isLeader ? proc : undefined;
  }, 30_000);
  const tasksOn = async (m: Proc, state = 'TASK_RUNNING') =>
    (await op<object, ListTasksResponse__Output>(c.operator(m.address), 'listTasks', { state })).tasks;
  const pidOf = async (m: Proc, id: string) => {
    const out = await op<object, ReadFileResponse__Output>(c.operator(m.address), 'readTaskFile', { taskId: id, path: 'stdout' });
    return Number(/pid=(\d+)/.exec(out.data.toString())?.[1]);
  };

  before(async () => {
    etcd = await secureEtcd(`${c.dir}/etcd`);
    masters = [];
    for (const name of ['m0', 'm1', 'm2']) {
      masters.push(await c.startMaster({ name, args: ['--etcd', etcd.endpoint, '--lease-ttl', TTL, '--agent-reregister-timeout', '20'] }));
    }
  });
  after(async () => {
    await fw?.close();
    await c.teardown();
    await etcd?.stop();
  });

  /** Agents, the framework and its 4 tasks, made once by whichever test needs them first: each test runs alone too. */
  let ready: Promise<{ list: string; first: Proc; ids: string[]; pids: number[] }> | undefined;
  const withTasks = () => (ready ??= (async () => {
    const list = masters.map((m) => m.address).join(',');
    const first = await leader(masters);
    // One agent is given the masters, the other finds them in etcd.
    await c.startAgent(list, { name: 'a1' });
    await c.startAgent(`etcd://${etcd.endpoint.replace(/^https?:\/\//, '')}`, { name: 'a2' });
    fw = await connectFramework({ master: list, name: 'ha', failoverTimeout: '1h', logger: quiet, ...fwSecurity });
    fw.on('subscribed', (sub) => sub.resubscribed && subscriptions++);
    fw.on('update', (s) => updates.push(s));
    let wanted = 4;
    fw.on('offers', (offers) => {
      const plan = pack(offers, wanted, { cpus: 0.1, mem: 16 }, (i) => ({ taskId: `ha-${4 - wanted + i}`, command: { value: 'echo pid=$$; exec sleep 600' } }));
      fw.launchAll(plan);
      fw.decline(plan.unused, { refuseSeconds: 1 });
      wanted = plan.remaining;
      if (!wanted) fw.suppress();
    });
    const ids = ['ha-0', 'ha-1', 'ha-2', 'ha-3'];
    await waitFor('4 tasks RUNNING', async () => (await tasksOn(first)).length === 4)
      .catch((err: Error) => { throw new Error(`${err.message}; updates: ${JSON.stringify(updates.map((u) => [u.taskId, u.state, u.message]))}`); });
    const pids = await Promise.all(ids.map((id) => pidOf(first, id)));
    return { list, first, ids, pids };
  })());

  test('kill -9 of the leader: a standby leads, agents and the framework follow, every task keeps running', async () => {
    const { list, first, ids, pids } = await withTasks();
    assert.ok(pids.every((p) => p > 0 && alive(p)));

    await first.kill9();
    const rest = masters.filter((m) => m !== first);
    const next = await leader(rest);
    assert.notEqual(next.address, first.address);
    await waitFor('both agents re-registered with the new leader', async () => {
      const a = await op<object, ListAgentsResponse__Output>(c.operator(next.address), 'listAgents', {});
      return a.agents.filter((x) => x.state === 'ACTIVE').length === 2;
    }, 30_000);
    await waitFor('the framework re-subscribed', () => subscriptions >= 1, 30_000);
    const from = updates.length;
    fw.reconcile();
    await waitFor('reconciliation says every task is RUNNING', () =>
      ids.every((id) => updates.slice(from).some((s) => s.taskId === id && s.state === 'TASK_RUNNING')));
    assert.deepEqual((await tasksOn(next)).map((t) => t.id).sort(), ids);
    assert.deepEqual(await Promise.all(ids.map((id) => pidOf(next, id))), pids, 'the same processes run');
    assert.ok(pids.every(alive));
    // No task was launched twice: each was STARTING once, under one update uuid.
    for (const id of ids) {
      const starts = new Set(updates.filter((s) => s.taskId === id && s.state === 'TASK_STARTING').map((s) => s.uuid));
      assert.equal(starts.size, 1, `${id} started ${starts.size} times`);
    }

    // The operator sees the new leader too.
    const cli = spawnSync(process.execPath, [path.join(ROOT, 'bin/mezz.mjs'), 'leader', '--json', '--master', list], { encoding: 'utf8', env: { ...process.env, ...secure.env } });
    assert.equal(cli.status, 0, cli.stderr);
    const group = JSON.parse(cli.stdout) as { leader: string; masters: { address: string; role: string }[] };
    assert.equal(group.leader, next.address);
    assert.equal(group.masters.find((m) => m.address === first.address)?.role, 'unreachable');

    // The old leader, restarted, joins as a standby.
    const back = await c.startMaster({ name: 'm-back', port: first.port, args: ['--etcd', etcd.endpoint, '--lease-ttl', TTL] });
    masters[masters.indexOf(first)] = back;
    await waitFor('the restarted master to follow the leader', async () => {
      const info = await leaderInfo(back);
      return !info.isLeader && info.leader === next.address;
    });
  });

  test('etcd down: the leader steps down and nothing launches; etcd back: a leader is elected and the cluster resumes', async () => {
    await withTasks();
    const before = await leader(masters);
    await etcd.stop();
    await waitFor('every master to stop leading', async () => {
      const infos = await Promise.all(masters.map((m) => leaderInfo(m)));
      return infos.every((i) => !i.isLeader);
    }, 15_000);
    // A standby refuses schedulers: no launch can happen without etcd.
    const refused = await new Promise<string>((resolve) => {
      void connectFramework({ master: before.address, name: 'too-early', logger: quiet, connectTimeout: '2s', ...fwSecurity })
        .then(() => resolve('subscribed'), (err: Error) => resolve(err.message));
    });
    assert.match(refused, /not the leader|no leader|could not subscribe/);

    await etcd.restart();
    const now = await leader(masters);
    await waitFor('agents back with the leader', async () => {
      const a = await op<object, ListAgentsResponse__Output>(c.operator(now.address), 'listAgents', {});
      return a.agents.filter((x) => x.state === 'ACTIVE').length === 2;
    }, 30_000);
    await waitFor('the 4 tasks RUNNING', async () => (await tasksOn(now)).length === 4, 30_000);
    // The cluster resumes: a new task launches.
    fw.removeAllListeners('offers');
    const from = updates.length;
    let launched = false;
    fw.on('offers', (offers) => {
      if (launched) return fw.decline(offers.map((o) => o.id));
      launched = fw.launch(offers[0]!, [{ taskId: 'after-outage', resources: [{ name: 'cpus', scalar: 0.1 }, { name: 'mem', scalar: 16 }], command: { value: 'true', shell: true } }]);
    });
    fw.revive();
    await waitFor('after-outage FINISHED', () => updates.slice(from).some((s) => s.taskId === 'after-outage' && s.state === 'TASK_FINISHED'), 30_000);
  });
});

describe('a partitioned leader', { skip: requireEtcd() }, () => {
  const c = new Cluster(secure);
  let etcd: EtcdProcess;
  let proxy: Proxy;
  after(async () => {
    await proxy?.close();
    await c.teardown();
    await etcd?.stop();
  });

  test('stops acting before the new leader starts', async () => {
    etcd = await secureEtcd(`${c.dir}/etcd`);
    proxy = await startProxy(etcd.endpoint);
    const env = { MEZZ_LOG_FORMAT: 'json' };
    const partitioned = await c.startMaster({ name: 'cut-off', env, args: ['--etcd', proxy.endpoint, '--lease-ttl', TTL] });
    await waitFor('cut-off to lead', async () => (await op<object, LeaderInfo__Output>(c.operator(partitioned.address), 'getLeader', {})).isLeader);
    const others = [
      await c.startMaster({ name: 'other-1', env, args: ['--etcd', etcd.endpoint, '--lease-ttl', TTL] }),
      await c.startMaster({ name: 'other-2', env, args: ['--etcd', etcd.endpoint, '--lease-ttl', TTL] }),
    ];
    proxy.pause();
    const elected = await waitFor('a new leader', () => others.find((m) => /elected leader/.test(m.output())), 30_000);
    const at = (proc: Proc, re: RegExp) => {
      const line = proc.output().split('\n').find((l) => re.test(l));
      assert.ok(line, `${proc.name} logged nothing matching ${re}:\n${proc.output().slice(-2000)}`);
      return Date.parse((JSON.parse(line) as { timestamp: string }).timestamp);
    };
    const stepped = await waitFor('the partitioned leader to say it stepped down', () => /lost leadership/.test(partitioned.output()));
    assert.ok(stepped);
    const lostAt = at(partitioned, /lost leadership/);
    const electedAt = at(elected, /elected leader/);
    assert.ok(lostAt < electedAt, `the old leader stopped at ${new Date(lostAt).toISOString()}, the new one started at ${new Date(electedAt).toISOString()}`);
    // Still running, it now answers as a standby.
    const info = await op<object, LeaderInfo__Output>(c.operator(partitioned.address), 'getLeader', {});
    assert.equal(info.isLeader, false);
  });

  test('with an agent and a framework attached, it drops both before the new leader starts, and kills nothing', async () => {
    const d = new Cluster(secure);
    const etcd2 = await secureEtcd(`${d.dir}/etcd`);
    const proxy2 = await startProxy(etcd2.endpoint);
    try {
      const env = { MEZZ_LOG_FORMAT: 'json' };
      const old = await d.startMaster({ name: 'cut-off', env, args: ['--etcd', proxy2.endpoint, '--lease-ttl', TTL] });
      await waitFor('cut-off to lead', async () => (await op<object, LeaderInfo__Output>(d.operator(old.address), 'getLeader', {})).isLeader);
      const other = await d.startMaster({ name: 'other', env, args: ['--etcd', etcd2.endpoint, '--lease-ttl', TTL] });
      // Attached to the old leader (the agent tries the other master once the old one drops it).
      await d.startAgent(`${old.address},${other.address}`);
      const fw = d.scheduler(old.address);
      await fw.subscribe({ name: 'attached', failoverTimeout: 600 });
      fw.autoAck();
      const marker = path.join(d.dir, 'ticks');
      const offer = await waitFor('an offer', () => fw.outstanding()[0]);
      fw.send({ accept: { offerIds: [offer.id], operations: [{ launch: { taskInfos: [task('t1', `while :; do echo x >> ${marker}; sleep 0.1; done`)] } }] } });
      await fw.waitEvent('t1 RUNNING', (e) => e.update?.status?.taskId === 't1' && e.update.status.state === 'TASK_RUNNING');
      const held = await waitFor('an offer held across the partition', () => fw.outstanding()[0]);

      proxy2.pause();
      await waitFor('a new leader', () => /elected leader/.test(other.output()), 30_000);
      const electedAt = Date.parse((JSON.parse(other.output().split('\n').find((l) => /elected leader/.test(l))!) as { timestamp: string }).timestamp);
      // The old leader ended the framework's stream before the new leader started ...
      await waitFor('the framework stream ended', () => fw.ended);
      assert.ok(fw.endedAt! < electedAt, `stream ended at ${new Date(fw.endedAt!).toISOString()}, new leader at ${new Date(electedAt).toISOString()}`);
      // ... so its held offer can launch nothing, and no update arrives from the old leader after it stepped down.
      const before = fw.events.length;
      try {
        fw.send({ accept: { offerIds: [held.id], operations: [{ launch: { taskInfos: [task('t2', `touch ${marker}-t2`)] } }] } });
      } catch {
        // the stream is closed: that is the point
      }
      assert.equal(fw.events.length, before);
      // The task was never killed: the agent follows to the new leader with it, and it keeps ticking.
      await waitFor('t1 RUNNING under the new leader', async () =>
        (await op<object, ListTasksResponse__Output>(d.operator(other.address), 'listTasks', {})).tasks.some((t) => t.id === 't1' && t.state === 'TASK_RUNNING'), 30_000);
      const size = () => statSync(marker).size;
      const s0 = size();
      await waitFor('t1 still ticking', () => size() > s0, 5000);
      assert.equal(existsSync(`${marker}-t2`), false);
      assert.doesNotMatch(old.output(), /killing|TASK_KILLED/);
    } finally {
      await proxy2.close();
      await d.teardown();
      await etcd2.stop();
    }
  });
});

describe('a standby during a failover', { skip: requireEtcd() }, () => {
  // The "old leader" is this test holding the etcd election under an address where nothing listens:
  // it stays the leader (its lease kept alive) until the test resigns, so the standby's view is fixed.
  const DEAD = '127.0.0.1:9';
  const c = new Cluster(secure);
  let etcd: EtcdProcess;
  let held: Leadership;
  let election: EtcdElection;
  let standby: Proc;
  const streams: grpc.ClientDuplexStream<AgentMessage, MasterMessage__Output>[] = [];

  before(async () => {
    etcd = await secureEtcd(`${c.dir}/etcd`);
    election = new EtcdElection({ endpoints: [etcd.endpoint], tls: secure.security.tls, cluster: 'mezzanine', ttlSeconds: 2 });
    held = await election.campaign(DEAD);
    standby = await c.startMaster({ name: 'standby', args: ['--etcd', etcd.endpoint, '--lease-ttl', TTL] });
    await waitFor('the standby to name the held leader', async () => (await op<object, LeaderInfo__Output>(c.operator(standby.address), 'getLeader', {})).leader === DEAD);
  });
  after(async () => {
    for (const s of streams) s.cancel();
    await election?.close();
    await c.teardown();
    await etcd?.stop();
  });

  /** Opens an agent stream to the standby and registers; resolves with what the standby answered first. */
  const register = (id: string, lostLeader: string) => {
    const client = makeClient(mezzProto().AgentGateway, standby.address, secure.security) as AgentGatewayClient;
    const call = client.Connect();
    streams.push(call);
    const answer = new Promise<{ registered?: string; error?: string }>((resolve) => {
      call.on('data', (m: MasterMessage__Output) => resolve(m.registered ? { registered: m.registered.agentId } : { error: JSON.stringify(m) }));
      call.on('error', (e: Error) => resolve({ error: e.message }));
    });
    const info = { id, hostname: 'h', port: 1, resources: [{ name: 'cpus', scalar: 1 }, { name: 'mem', scalar: 64 }], attributes: [], version: 'test', isolation: [] };
    call.write({ register: { info, tasks: [], lostLeader } });
    return answer;
  };

  test('refuses at once, naming the leader, an agent that has not lost it or lost another', async () => {
    assert.match((await register('agent-plain', '')).error ?? '', /the leader is 127\.0\.0\.1:9/);
    assert.match((await register('agent-other', '127.0.0.1:8')).error ?? '', /the leader is 127\.0\.0\.1:9/);
  });

  test('holds an agent that lost the leader it still names, at most a few seconds, then refuses it', async () => {
    const t0 = Date.now();
    assert.match((await register('agent-timeout', DEAD)).error ?? '', /the leader is 127\.0\.0\.1:9/);
    assert.ok(Date.now() - t0 >= 2500, `refused after ${Date.now() - t0} ms, before the hold ran out`);
    assert.match(standby.output(), /holding the registration of agent agent-timeout/);
  });

  test('registers a held agent on the same stream the moment it is elected', async () => {
    const answer = register('agent-held', DEAD);
    await waitFor('the standby to hold the registration', () => /holding the registration of agent agent-held/.test(standby.output()));
    await held.resign();
    assert.deepEqual(await answer, { registered: 'agent-held' });
    const agents = await op<object, ListAgentsResponse__Output>(c.operator(standby.address), 'listAgents', {});
    assert.deepEqual(agents.agents.map((a) => [a.id, a.state]), [['agent-held', 'ACTIVE']]);
  });
});
