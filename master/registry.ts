/**
 * The master's registry: the small durable state that lets a restarted or
 * newly elected master recognise the cluster (after Mesos' registrar).
 * Admitted agents, removed agents, frameworks with their failover
 * timeouts, removed frameworks and role weights — never tasks: the agents
 * are the truth about tasks and report them when they re-register.
 *
 * Writes happen on changes of membership only; an agent that re-registers
 * and is already admitted costs no write.
 */
import { MezzError } from '../lib/errors';
import type { Store, TxnCompare, TxnOp } from '../lib/store';
import type { FrameworkInfo__Output } from '../lib/proto';
import { status as Status } from '@grpc/grpc-js';

/** A registry write was refused because this master no longer leads. */
export class FencedError extends MezzError {
  override name = 'FencedError';
  constructor() {
    super('this master is no longer the leader: its registry write was fenced off', Status.UNAVAILABLE);
  }
}

export interface AdmittedAgent {
  id: string;
  hostname: string;
  admittedAt: number;
}

export interface RegisteredFramework {
  id: string;
  info: FrameworkInfo__Output;
  registeredAt: number;
}

export interface RegistrySnapshot {
  agents: AdmittedAgent[];
  removedAgents: Set<string>;
  frameworks: RegisteredFramework[];
  removedFrameworks: Set<string>;
  weights: Map<string, number>;
}

/**
 * Every write is a transaction guarded by the leadership's fence (empty for
 * the embedded store), so a deposed leader can never overwrite what its
 * successor wrote. A fenced write calls `onFenced` and throws FencedError.
 */
export class Registry {
  private readonly prefix: string;

  constructor(
    private readonly store: Store,
    cluster: string,
    private readonly fence: readonly TxnCompare[] = [],
    private readonly onFenced: () => void = () => undefined,
  ) {
    this.prefix = `/mezzanine/${cluster}/registry/`;
  }

  private async write(ops: TxnOp[]): Promise<void> {
    if (!(await this.store.txn(this.fence, ops))) {
      this.onFenced();
      throw new FencedError();
    }
  }

  async load(): Promise<RegistrySnapshot> {
    const [agents, removedAgents, frameworks, removedFrameworks, weights] = await Promise.all([
      this.store.list<AdmittedAgent>(`${this.prefix}agents/`),
      this.store.list<number>(`${this.prefix}removed-agents/`),
      this.store.list<RegisteredFramework>(`${this.prefix}frameworks/`),
      this.store.list<number>(`${this.prefix}removed-frameworks/`),
      this.store.list<number>(`${this.prefix}weights/`),
    ]);
    const tail = (key: string) => key.slice(key.lastIndexOf('/') + 1);
    return {
      agents: agents.map((kv) => kv.value),
      removedAgents: new Set(removedAgents.map((kv) => tail(kv.key))),
      frameworks: frameworks.map((kv) => kv.value),
      removedFrameworks: new Set(removedFrameworks.map((kv) => tail(kv.key))),
      weights: new Map(weights.map((kv) => [decodeURIComponent(tail(kv.key)), kv.value])),
    };
  }

  admitAgent(agent: AdmittedAgent): Promise<void> {
    return this.write([{ op: 'put', key: `${this.prefix}agents/${agent.id}`, value: agent }]);
  }

  /** Removes an agent for good; if it comes back it is told to shut down. */
  async removeAgent(id: string, at: number): Promise<void> {
    await this.write([
      { op: 'delete', key: `${this.prefix}agents/${id}` },
      { op: 'put', key: `${this.prefix}removed-agents/${id}`, value: at },
    ]);
  }

  putFramework(fw: RegisteredFramework): Promise<void> {
    return this.write([{ op: 'put', key: `${this.prefix}frameworks/${fw.id}`, value: fw }]);
  }

  async removeFramework(id: string, at: number): Promise<void> {
    await this.write([
      { op: 'delete', key: `${this.prefix}frameworks/${id}` },
      { op: 'put', key: `${this.prefix}removed-frameworks/${id}`, value: at },
    ]);
  }

  async putWeights(weights: ReadonlyMap<string, number>): Promise<void> {
    await this.write([...weights].map(([role, w]) => ({
      op: 'put' as const, key: `${this.prefix}weights/${encodeURIComponent(role)}`, value: w,
    })));
  }
}
