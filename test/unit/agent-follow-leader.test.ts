/**
 * Agents follow the leader a standby names in its refusal's trailing
 * metadata (lib/grpc.ts `toServiceError`), not in its text: a fake standby
 * refuses every AgentGateway stream with NOT_LEADER, a message that names
 * nothing, and the leader's address in `mezz-leader`; a fake master plays
 * the leader. The real agent and the simulated ones share the connection
 * core (agent/master-link.ts), and each must reach the leader.
 */
import * as grpc from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { after, afterEach, before, describe, it } from 'node:test';
import { Agent } from '../../agent/index';
import { startSimulatedAgents, type SimulatedAgents } from '../../agent/simulated';
import { NotLeaderError } from '../../lib/errors';
import { bindServer, toServiceError } from '../../lib/grpc';
import { mezzProto, type AgentMessage__Output, type MasterMessage } from '../../lib/proto';
import { FakeMaster, tempDir, testLogger, waitFor } from '../fixtures/agent-harness';

/** A standby that refuses every agent stream as master/leader-source.ts `refuseStream` does, naming `leader` only in metadata. */
class FakeStandby {
  refusals = 0;
  port = 0;
  private server = new grpc.Server();

  constructor(private readonly leader: string) {}

  async start(): Promise<this> {
    this.server.addService(mezzProto().AgentGateway.service, {
      Connect: (call: grpc.ServerDuplexStream<AgentMessage__Output, MasterMessage>) => {
        this.refusals++;
        call.on('data', () => undefined);
        call.emit('error', toServiceError(new NotLeaderError('this master is a standby', this.leader)));
      },
    });
    this.port = await bindServer(this.server, '127.0.0.1', 0);
    return this;
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  stop(): void {
    this.server.forceShutdown();
  }
}

describe('agents follow the leader named in a standby\'s trailing metadata', () => {
  let leader: FakeMaster;
  let standby: FakeStandby;
  let workDir: string;
  let agent: Agent | undefined;
  let sim: SimulatedAgents | undefined;

  before(async () => {
    workDir = await tempDir();
  });
  afterEach(async () => {
    await agent?.stop();
    await sim?.stop();
    agent = sim = undefined;
    leader?.stop();
    standby?.stop();
  });
  after(async () => {
    await rm(workDir, { recursive: true, force: true });
  });

  const cluster = async (): Promise<void> => {
    leader = await new FakeMaster().start();
    standby = await new FakeStandby(leader.address).start();
  };

  it('the real agent, given only the standby, registers with the leader', async () => {
    await cluster();
    agent = new Agent({
      masters: [standby.address], port: 0, bindHost: '127.0.0.1', workDir, resources: { cpus: 1, mem: 256, disk: 100, gpus: 0 },
      pingIntervalMs: 200, backoff: { initialMs: 20, maxMs: 200 }, logger: testLogger('agent'),
    });
    await agent.start();
    const s = await leader.stream(0);
    assert.equal(s.of('register')[0]!.lostLeader, '', 'the leader is not taken for lost');
    s.send({ registered: { agentId: 'agent-1', pingIntervalSeconds: 0.2, masterId: 'leader' } });
    await waitFor('the agent to register with the leader', () => agent!.connected);
    assert.equal(standby.refusals, 1, 'followed at once, on the first refusal');
  });

  it('a simulated agent, given only the standby, registers with the leader', async () => {
    await cluster();
    sim = await startSimulatedAgents({
      masters: [standby.address], count: 1, pingIntervalMs: 200, backoff: { initialMs: 20, maxMs: 200 }, logger: testLogger('agent-sim'),
    });
    const s = await leader.stream(0);
    s.send({ registered: { agentId: s.of('register')[0]!.info!.id, pingIntervalSeconds: 0.2, masterId: 'leader' } });
    await sim.waitRegistered({ masterId: 'leader', timeoutMs: 5000 });
    assert.equal(sim.agents[0]!.master, leader.address);
    assert.equal(standby.refusals, 1, 'followed at once, on the first refusal');
  });
});
