/**
 * A master process in a group: it serves gRPC at all times, campaigns for
 * leadership, and runs a `Master` only while it leads. A standby answers
 * every scheduler, agent and operator call with UNAVAILABLE and
 * "… not the leader; the leader is HOST:PORT" so that clients follow.
 *
 *   campaign ──elected──▶ load registry ──▶ Master serving ──lost──▶ stop at once ──▶ campaign …
 *
 * Leadership is lost when the election says so (lease not renewed in time,
 * etcd unreachable, key gone) or when a registry write is fenced off; the
 * Master is stopped synchronously in both cases, before anything else runs.
 */
import * as grpc from '@grpc/grpc-js';
import { authInterceptor, CallerAuth, serverCredentials, type TlsMaterial } from '../lib/auth';
import { bindServer, SERVER_OPTIONS } from '../lib/grpc';
import type { Election, Leadership } from '../lib/election';
import { errorMessage, NotLeaderError } from '../lib/errors';
import type { Logger } from '../lib/log';
import { mezzProto } from '../lib/proto';
import type { Store } from '../lib/store';
import { agentGatewayHandlers } from './agent-service';
import { Master, type MasterOptions } from './master';
import { operatorHandlers } from './operator-service';
import type { LeaderSource } from './leader-source';
import { Registry } from './registry';
import { schedulerHandlers } from './scheduler-service';

export interface MasterNodeOptions extends Omit<MasterOptions, 'registry'> {
  store: Store;
  election: Election;
  host: string;
  port: number;
  /** host:port that others use to reach this master; default from host and the bound port. */
  advertise?: string;
  /** Authentication of every call; default: off (every caller anonymous). */
  auth?: CallerAuth;
  /** Mutual TLS for the server and for calls to agents; default: plaintext. */
  tls?: TlsMaterial;
}

export class MasterNode implements LeaderSource {
  private master?: Master;
  private leadership?: Leadership;
  private observed?: string;
  private server?: grpc.Server;
  private stopped = false;
  private campaigning?: Promise<void>;
  private observer?: { close(): Promise<void> };
  address = '';
  port = 0;
  readonly cluster: string;
  readonly log: Logger;
  readonly auth: CallerAuth;
  readonly tls?: TlsMaterial;

  constructor(private readonly opts: MasterNodeOptions) {
    this.cluster = opts.cluster;
    this.log = opts.logger;
    this.auth = opts.auth ?? new CallerAuth(undefined, 'this master');
    if (opts.tls) this.tls = opts.tls;
  }

  /** Binds the server and starts campaigning; resolves once the server listens. */
  async start(): Promise<void> {
    const server = new grpc.Server({ ...SERVER_OPTIONS, interceptors: this.auth.enabled ? [authInterceptor(this.auth, this.log)] : [] });
    const proto = mezzProto();
    server.addService(proto.Scheduler.service, schedulerHandlers(this));
    server.addService(proto.AgentGateway.service, agentGatewayHandlers(this));
    server.addService(proto.Operator.service, operatorHandlers(this));
    this.port = await bindServer(server, this.opts.host, this.opts.port, serverCredentials(this.opts.tls));
    this.server = server;
    const shownHost = this.opts.host === '0.0.0.0' || this.opts.host === '::' ? '127.0.0.1' : this.opts.host;
    this.address = this.opts.advertise ?? `${shownHost}:${this.port}`;
    this.observer = await this.opts.election.observe((leader) => {
      if (leader === this.observed) return;
      this.log.info(leader ? `the leader is ${leader}` : 'no leader elected');
      this.observed = leader;
      this.leadershipChanged();
    });
    this.campaigning = this.campaignLoop();
  }

  leading(): Master | undefined {
    return this.master;
  }

  private readonly changeWaiters = new Set<() => void>();

  leadershipChange(timeoutMs: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        this.changeWaiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      signal.addEventListener('abort', done);
      this.changeWaiters.add(done);
      if (signal.aborted || this.stopped) done();
    });
  }

  private leadershipChanged(): void {
    for (const done of [...this.changeWaiters]) done();
  }

  leaderAddress(): string | undefined {
    return this.master ? this.address : this.observed;
  }

  private lastCandidates: string[] = [];

  /** The group's candidates; the last known list while etcd cannot be asked (a standby must still answer). */
  async candidates(): Promise<string[]> {
    if (!this.opts.election.candidates) return [this.address];
    try {
      this.lastCandidates = await this.opts.election.candidates();
    } catch {
      /* etcd unreachable: keep the last answer */
    }
    return this.lastCandidates;
  }

  notLeader(): NotLeaderError {
    const leader = this.observed && this.observed !== this.address ? this.observed : undefined;
    return new NotLeaderError(
      leader
        ? `master ${this.address} is not the leader; the leader is ${leader}`
        : `master ${this.address} is not the leader and no leader is elected yet; retry shortly`,
      leader,
    );
  }

  private async campaignLoop(): Promise<void> {
    while (!this.stopped) {
      let leadership: Leadership;
      try {
        leadership = await this.opts.election.campaign(this.address);
      } catch (err) {
        if (this.stopped) return;
        this.log.warn(`campaign failed: ${errorMessage(err)}; retrying`);
        await new Promise((r) => setTimeout(r, 500));
        continue;
      }
      if (this.stopped) {
        await leadership.resign().catch(() => undefined);
        return;
      }
      if (!(await this.lead(leadership)) && !this.stopped) {
        // Elected but unable to load the registry: wait before campaigning again, so a
        // registry that cannot be read costs a line every few seconds, not a tight loop.
        const ms = Math.min(30_000, 500 * 2 ** Math.min(this.loadFailures - 1, 6));
        this.log.error(`the registry could not be loaded ${this.loadFailures} time(s) in a row; campaigning again in ${ms / 1000}s`);
        await new Promise<void>((r) => {
          const t = setTimeout(r, ms);
          this.wake = () => {
            clearTimeout(t);
            r();
          };
        });
        this.wake = undefined;
      }
    }
  }

  /** Consecutive elections after which the registry could not be loaded. */
  private loadFailures = 0;
  /** Ends the wait before the next campaign (on stop). */
  private wake?: () => void;

  /** Runs a Master for as long as `leadership` lasts; false when the registry could not be loaded. */
  private async lead(leadership: Leadership): Promise<boolean> {
    this.leadership = leadership;
    let lostReason: string | undefined;
    const registry = new Registry(this.opts.store, this.opts.cluster, leadership.fence, () => {
      void leadership.resign().catch(() => undefined);
    });
    const master = new Master({ ...this.opts, registry });
    // Stop acting the moment leadership is lost: registered before anything can await.
    const lost = leadership.lost.then((reason) => {
      lostReason = reason;
      if (this.master === master) this.master = undefined;
      master.stop();
      this.leadershipChanged();
    });
    try {
      await master.start();
    } catch (err) {
      this.log.error(`elected, but the registry could not be loaded: ${errorMessage(err)}; stepping down`);
      this.loadFailures++;
      await leadership.resign().catch(() => undefined);
      await lost;
      return false;
    }
    this.loadFailures = 0;
    if (lostReason === undefined) {
      this.master = master;
      this.log.info(`elected leader of cluster ${this.opts.cluster} at ${this.address} (master ${master.id})`);
      this.leadershipChanged();
    }
    await lost;
    this.leadership = undefined;
    if (!this.stopped) this.log.warn(`lost leadership: ${lostReason}; stopped acting and standing by`);
    return true;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    this.master?.stop();
    this.master = undefined;
    this.leadershipChanged();
    await this.leadership?.resign().catch(() => undefined);
    await this.observer?.close().catch(() => undefined);
    await this.opts.election.close().catch(() => undefined);
    await new Promise<void>((resolve) => {
      if (!this.server) return resolve();
      const force = setTimeout(() => {
        this.server!.forceShutdown();
        resolve();
      }, 2000);
      this.server.tryShutdown(() => {
        clearTimeout(force);
        resolve();
      });
    });
    await this.campaigning?.catch(() => undefined);
    await this.opts.store.close();
  }
}
