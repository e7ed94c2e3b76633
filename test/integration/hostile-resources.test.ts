/**
 * Resources no machine has, from a framework or an agent, are refused with a
 * clear reason at once, and the master stays up and answering (issue 8,
 * items 8 and 11). Port ranges are compared as ranges: a task asking for
 * ports 1-2^40 once made the master build a trillion-entry array (a V8
 * fatal error after 11 s at 2.2 GB; 1-60,000,000 stalled it 2.3 s).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { Cluster, task, waitFor, type Proc, type TestScheduler } from '../harness';
import { mezzProto, type AgentGatewayClient, type AgentMessage, type MasterMessage__Output } from '../../lib/proto';
import type { ListAgentsResponse__Output } from '../../lib/proto/generated/mezzanine/v1/ListAgentsResponse';

describe('hostile resources', () => {
  const c = new Cluster();
  let master: Proc;
  let fw: TestScheduler;
  const streams: grpc.ClientDuplexStream<AgentMessage, MasterMessage__Output>[] = [];

  before(async () => {
    master = await c.startMaster();
    await c.startAgent(master.address, { resources: 'cpus:2;mem:1024;disk:100;ports:[31000-31010]' });
    fw = c.scheduler(master.address);
    await fw.subscribe({ name: 'hostile' });
  });
  after(async () => {
    for (const s of streams) s.cancel();
    await c.teardown();
  });

  /** ListAgents with a 1 s deadline; resolves with the agent ids and how long the answer took. */
  async function listAgents(): Promise<{ ids: string[]; ms: number }> {
    const client = c.operator(master.address);
    const t0 = Date.now();
    const r = await new Promise<ListAgentsResponse__Output>((resolve, reject) => {
      client.listAgents({}, { deadline: Date.now() + 1000 }, (err, v) => (err ? reject(err) : resolve(v!)));
    });
    return { ids: r.agents.map((a) => a.id), ms: Date.now() - t0 };
  }

  for (const [name, end] of [['2^40', 1099511627776], ['60,000,000', 60_000_000]] as const) {
    test(`a task asking for ports 1-${name} gets TASK_ERROR at once, and the master keeps answering`, async () => {
      const offer = await waitFor('an offer', () => fw.outstanding()[0]);
      const id = `ports-${end}`;
      const t = task(id, 'true');
      const from = fw.events.length;
      fw.send({
        accept: {
          offerIds: [offer.id],
          operations: [{ launch: { taskInfos: [{ ...t, resources: [...t.resources, { name: 'ports', ranges: [{ begin: 1, end }] }] }] } }],
          filters: { refuseSeconds: 0 },
        },
      });
      // Asked right behind the accept: a master expanding the range would not answer within the deadline.
      const { ids, ms } = await listAgents();
      assert.equal(ids.length, 1);
      assert.ok(ms < 1000, `ListAgents took ${ms} ms`);
      const err = await fw.waitEvent('ERROR for the accept', (e) => e.error?.call === 'ACCEPT', from);
      assert.match(err.error!.message, new RegExp(`task ${id}: port range 1-${end} is outside 0-65535`));
      assert.ok(err.error!.message.length < 500);
      const update = await waitFor('TASK_ERROR', () => fw.updates(id).find((s) => s.state === 'TASK_ERROR'));
      assert.match(update.message, /port range 1-\d+ is outside 0-65535/);
      assert.equal(master.child.exitCode, null, 'the master is up');
    });
  }

  /** Registers a hand-made agent; resolves with the master's first answer. */
  function register(resources: object[]): Promise<{ registered?: string; refused?: string; error?: string }> {
    const client = new (mezzProto().AgentGateway)(master.address, grpc.credentials.createInsecure()) as AgentGatewayClient;
    const call = client.Connect();
    streams.push(call);
    const answer = new Promise<{ registered?: string; refused?: string; error?: string }>((resolve) => {
      call.on('data', (m: MasterMessage__Output) => resolve(m.registered ? { registered: m.registered.agentId } : m.refused ? { refused: m.refused.reason } : { error: JSON.stringify(m) }));
      call.on('error', (e: Error) => resolve({ error: e.message }));
    });
    call.write({ register: { info: { id: '', hostname: 'liar', port: 1, resources: resources as never, attributes: [], version: 'test', isolation: [] }, tasks: [] } });
    return answer;
  }

  const lies: { name: string; resources: object[]; want: RegExp }[] = [
    { name: 'ports 0-2^53', resources: [{ name: 'cpus', scalar: 1 }, { name: 'ports', ranges: [{ begin: 0, end: 2 ** 53 }] }], want: /port range 0-9007199254740992 is outside 0-65535/ },
    { name: '1e300 cpus', resources: [{ name: 'cpus', scalar: 1e300 }], want: /resource cpus is 1e\+300; the limit is 1000000/ },
    { name: 'NaN mem', resources: [{ name: 'cpus', scalar: 1 }, { name: 'mem', scalar: Number.NaN }], want: /mem is NaN; it must be a finite number/ },
    { name: 'negative disk', resources: [{ name: 'cpus', scalar: 1 }, { name: 'disk', scalar: -5 }], want: /disk is -5; it must not be negative/ },
  ];
  for (const tc of lies) {
    test(`an agent claiming ${tc.name} is refused, naming what was wrong`, async () => {
      const got = await register(tc.resources);
      assert.ok(got.refused, JSON.stringify(got));
      assert.match(got.refused, /agent resources are invalid/);
      assert.match(got.refused, tc.want);
      const { ids } = await listAgents();
      assert.equal(ids.length, 1, 'only the real agent is registered');
    });
  }
});
