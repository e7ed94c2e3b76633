/**
 * A framework on the raw scheduler wire, for the benches: one
 * Scheduler.Subscribe stream, events handed to callbacks as they arrive (no
 * polling, no queue), updates acknowledged at once. Lighter than the SDK,
 * so that the framework side of a bench costs as little as it can.
 */
import type * as grpc from '@grpc/grpc-js';
import { makeClient } from '../lib/auth';
import { mezzProto, type Call, type Event__Output, type Offer__Output, type TaskInfo, type TaskStatus__Output } from '../lib/proto';

export interface WireHandlers {
  offers?(offers: Offer__Output[]): void;
  /** Called before the update is acknowledged. */
  update?(status: TaskStatus__Output): void;
  error?(message: string): void;
}

export class WireScheduler {
  frameworkId = '';
  handlers: WireHandlers = {};
  private readonly client: grpc.Client & { subscribe(): grpc.ClientDuplexStream<Call, Event__Output> };
  private stream?: grpc.ClientDuplexStream<Call, Event__Output>;

  constructor(readonly address: string) {
    // The bench's masters run without credentials: plaintext, no token.
    this.client = makeClient(mezzProto().Scheduler, address, undefined, { 'grpc.use_local_subchannel_pool': 1, 'grpc.enable_retries': 0 }) as never;
  }

  /** Subscribes (a new framework); resolves with its id, rejects on a fatal error or after 30 s. */
  subscribe(framework: { name: string; roles?: string[]; failoverTimeout?: number; capabilities?: string[] }): Promise<string> {
    const stream = this.client.subscribe();
    this.stream = stream;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no SUBSCRIBED from ${this.address} within 30 s`)), 30_000);
      stream.on('data', (e: Event__Output) => {
        if (e.subscribed) {
          this.frameworkId = e.subscribed.frameworkId;
          clearTimeout(timer);
          resolve(this.frameworkId);
        } else if (e.offers) {
          this.handlers.offers?.(e.offers.offers);
        } else if (e.update?.status) {
          const s = e.update.status;
          this.handlers.update?.(s);
          if (s.uuid) this.send({ acknowledge: { agentId: s.agentId, taskId: s.taskId, uuid: s.uuid } });
        } else if (e.error) {
          if (e.error.fatal) {
            clearTimeout(timer);
            reject(new Error(e.error.message));
          }
          this.handlers.error?.(`${e.error.call}: ${e.error.message}`);
        }
      });
      stream.on('error', (err: grpc.ServiceError) => {
        clearTimeout(timer);
        reject(err);
      });
      stream.write({ subscribe: { framework: { failoverTimeout: 3600, ...framework } } });
    });
  }

  send(call: Omit<Call, 'frameworkId'>): void {
    this.stream!.write({ frameworkId: this.frameworkId, ...call });
  }

  launch(offerId: string, tasks: TaskInfo[], refuseSeconds = 0): void {
    this.send({ accept: { offerIds: [offerId], operations: [{ launch: { taskInfos: tasks } }], filters: { refuseSeconds } } });
  }

  decline(offerIds: string[], refuseSeconds: number): void {
    if (offerIds.length) this.send({ decline: { offerIds, filters: { refuseSeconds } } });
  }

  close(): void {
    this.stream?.cancel();
    this.client.close();
  }
}

/** A task with a command and small resources, on the wire. */
export function wireTask(id: string, cmd: string, r: { cpus: number; mem: number }, labels: Record<string, string> = {}): TaskInfo {
  return {
    taskId: id, name: id,
    resources: [{ name: 'cpus', scalar: r.cpus }, { name: 'mem', scalar: r.mem }],
    command: { value: cmd, shell: true }, labels,
  };
}

/** How many tasks of `r` fit into an offer (cpus and mem only). */
export function fits(offer: Offer__Output, r: { cpus: number; mem: number }): number {
  let cpus = 0;
  let mem = 0;
  for (const x of offer.resources) {
    if (x.name === 'cpus') cpus += Number(x.scalar ?? 0);
    else if (x.name === 'mem') mem += Number(x.scalar ?? 0);
  }
  // A little slack for floating point: ten 0.1-cpu tasks fit in 1 cpu.
  return Math.max(0, Math.min(Math.floor(cpus / r.cpus + 1e-6), Math.floor(mem / r.mem + 1e-6)));
}

/** The p-th percentile (0–100) of `xs`, by nearest rank. */
export function percentile(xs: readonly number[], p: number): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}
