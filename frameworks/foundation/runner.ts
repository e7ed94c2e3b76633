/**
 * High availability for a shipped framework: several instances campaign,
 * the leader alone holds the master subscription and acts, the others
 * stand by and know where the leader's HTTP API is (to proxy to it).
 *
 *   start ──campaign(advertise)──▶ leads ──▶ read framework id (runner/framework-id)
 *     ──connectFramework(id, webuiUrl)──▶ write the id if new (fenced) ──▶ lead(ctx)
 *     ──lost / abdicate / fatal SDK error──▶ abort ctx.signal, close the subscription ──▶ campaign again
 *
 * The framework id outlives every leader: the next one re-subscribes with it
 * (the master hands it the tasks the last one launched), so `lead` should
 * start by reconciling what its state names (`framework.reconcileTasks`).
 * Tasks are never torn down by a failover: the subscription is closed, not
 * torn down, and the master keeps them for the failover timeout.
 *
 * Stopping at once on loss: `ctx.signal` aborts and the Framework is closed
 * in the same turn as `lost` resolves, so every later call on it throws
 * FrameworkClosedError and no launch can leave a deposed leader; its state
 * writes are refused too (state.ts).
 */
import { connectFramework, SubscribeError, type Framework, type FrameworkErrorEvent, type FrameworkOptions } from '../sdk';
import { backoffDelay } from '../../lib/backoff';
import { ElectionClosedError, type Election, type Leadership } from '../../lib/election';
import { errorMessage } from '../../lib/errors';
import type { Store } from '../../lib/store';
import { FrameworkState, LeadershipLostError, frameworkPrefix, type StateGuard } from './state';

/** Where the runner keeps the framework id, under the framework's `runner/` prefix. */
export const FRAMEWORK_ID_KEY = 'framework-id';

/** What `lead` is handed for one leadership. */
export interface LeaderContext {
  /** Subscribed, with `frameworkId` set. Closed by the runner when the leadership ends. */
  readonly framework: Framework;
  /** The framework's own state (`<prefix>state/`), writable while this leadership lasts. */
  readonly state: FrameworkState;
  /** True when the id came from the store: a previous leader's tasks may be running, reconcile them. */
  readonly failover: boolean;
  /** Aborts, with a LeadershipLostError as its reason, when this leadership ends: stop every loop and timer. */
  readonly signal: AbortSignal;
  /** Resolves with the reason when this leadership ends. */
  readonly lost: Promise<string>;
}

/** Where a runner logs; the SDK gets the same. */
export interface RunnerLogger {
  debug(message: string, meta?: Record<string, unknown>): unknown;
  info(message: string, meta?: Record<string, unknown>): unknown;
  warn(message: string, meta?: Record<string, unknown>): unknown;
  error(message: string, meta?: Record<string, unknown>): unknown;
}

export interface FrameworkRunnerOptions {
  /** FrameworkInfo.name, and the framework's key prefix in the store. */
  name: string;
  /** The cluster name (the store prefix's first segment). */
  cluster: string;
  store: Store;
  /** The election of this framework's instances (openBackend makes it); the runner closes it in `stop()`. */
  election: Election;
  /** This instance's HTTP API as others reach it (`host:port`): its candidate value and FrameworkInfo.webui_url. */
  advertise: string;
  /** `https` when the HTTP API serves TLS. Default `http`. */
  scheme?: 'http' | 'https';
  /** The SDK's options (master, roles, token, tls, failoverTimeout, …); name, frameworkId and webuiUrl are the runner's. */
  sdk?: Omit<FrameworkOptions, 'name' | 'frameworkId' | 'webuiUrl'>;
  /**
   * Called once per leadership, after subscribing. May return at once (and
   * act from event listeners) or run until `ctx.signal` aborts. A throw (or
   * rejection) gives the leadership up, so that another instance may try.
   */
  lead(ctx: LeaderContext): void | Promise<void>;
  logger?: RunnerLogger;
  /** How to subscribe; tests inject a fake. Default: the SDK's connectFramework. */
  connect?: (opts: FrameworkOptions) => Promise<Framework>;
  /** Jitter for the delay before campaigning again after a failed leadership. Default Math.random. */
  random?: () => number;
}

/** One leadership while it lasts. */
interface Term {
  leadership: Leadership;
  aborter: AbortController;
  framework?: Framework;
}

const silent: RunnerLogger = { debug() {}, info() {}, warn() {}, error() {} };

export class FrameworkRunner {
  private readonly log: RunnerLogger;
  private readonly prefix: string;
  private term: Term | undefined;
  private leader: string | undefined;
  private observer: { close(): Promise<void> } | undefined;
  private loop: Promise<void> | undefined;
  private stopped = false;
  /** Leaderships in a row that ended in a failure: the delay before campaigning again grows with it. */
  private failures = 0;

  /** Throws InvalidArgumentError for a name or cluster that cannot be a key segment. */
  constructor(private readonly opts: FrameworkRunnerOptions) {
    this.log = opts.logger ?? silent;
    this.prefix = frameworkPrefix(opts.cluster, opts.name);
  }

  /** FrameworkInfo.webui_url: where this instance's HTTP API answers. */
  get webuiUrl(): string {
    return `${this.opts.scheme ?? 'http'}://${this.opts.advertise}`;
  }

  /**
   * Starts following the leader and campaigning; resolves once the leader
   * is being observed (campaigning goes on in the background). Rejects with
   * StoreError when etcd cannot be reached to observe.
   */
  async start(): Promise<void> {
    if (this.loop) return;
    this.observer = await this.opts.election.observe((leader) => {
      this.leader = leader;
    });
    this.loop = this.campaignLoop();
  }

  /** The leader's advertised HTTP address (`host:port`), this instance's when it leads; undefined while none is known. */
  leaderAddress(): string | undefined {
    return this.term ? this.opts.advertise : this.leader;
  }

  /** Whether this instance leads now (and is subscribed or subscribing). */
  isLeader(): boolean {
    return this.term !== undefined;
  }

  /**
   * Gives the leadership up (as DELETE /v2/leader asks): the subscription is
   * closed at once and another instance may lead; this one campaigns again.
   * Resolves false when this instance did not lead.
   */
  async abdicate(): Promise<boolean> {
    const term = this.term;
    if (!term) return false;
    this.log.info('abdicating: giving the leadership up');
    await term.leadership.resign();
    return true;
  }

  /** Resigns, closes the subscription (tasks keep running) and the election; resolves when done. Idempotent. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.term?.leadership.resign();
    await this.opts.election.close();
    await this.observer?.close();
    await this.loop;
  }

  private async campaignLoop(): Promise<void> {
    while (!this.stopped) {
      let leadership: Leadership;
      try {
        leadership = await this.opts.election.campaign(this.opts.advertise);
      } catch (err) {
        if (err instanceof ElectionClosedError) return;
        throw err; // campaign retries by itself until closed: anything else is a bug
      }
      const failed = await this.serve(leadership);
      this.failures = failed ? this.failures + 1 : 0;
      if (failed && !this.stopped) await new Promise((r) => setTimeout(r, backoffDelay(this.failures - 1, this.opts.random ?? Math.random)));
    }
  }

  /** Acts as leader until `leadership` is lost; true when it ended in a failure (not a plain loss or resignation). */
  private async serve(leadership: Leadership): Promise<boolean> {
    const term: Term = { leadership, aborter: new AbortController() };
    this.term = term;
    this.log.info(`leading framework ${this.opts.name} as ${this.opts.advertise}`);
    let failed = false;
    // Same turn as the loss: no call on the framework can follow it.
    void leadership.lost.then((reason) => {
      this.term = undefined;
      term.aborter.abort(new LeadershipLostError(reason));
      term.framework?.close();
      this.log.warn(`no longer leading framework ${this.opts.name}: ${reason}`);
    });
    const guard: StateGuard = { fence: leadership.fence, signal: term.aborter.signal };
    try {
      const { framework, failover } = await this.subscribe(new FrameworkState(this.opts.store, `${this.prefix}runner/`, guard));
      term.framework = framework;
      if (term.aborter.signal.aborted) {
        framework.close(); // subscribed just as the leadership ended
      } else {
        framework.on('error', (e) => this.onFrameworkError(term, e));
        await this.opts.lead({ framework, state: new FrameworkState(this.opts.store, `${this.prefix}state/`, guard), failover, signal: term.aborter.signal, lost: leadership.lost });
      }
    } catch (err) {
      if (!term.aborter.signal.aborted) {
        failed = true;
        this.log.error(`leading framework ${this.opts.name} failed, giving the leadership up: ${errorMessage(err)}`);
        await leadership.resign();
      }
    }
    await leadership.lost;
    return failed;
  }

  /**
   * Subscribes with the stored framework id, or registers anew (and stores
   * the id, fenced) when there is none or the master no longer knows it.
   */
  private async subscribe(runnerState: FrameworkState): Promise<{ framework: Framework; failover: boolean }> {
    const connect = this.opts.connect ?? connectFramework;
    const base: FrameworkOptions = { ...this.opts.sdk, name: this.opts.name, webuiUrl: this.webuiUrl, ...(this.opts.logger ? { logger: this.opts.logger } : {}) };
    const stored = await runnerState.get<string>(FRAMEWORK_ID_KEY);
    let framework: Framework | undefined;
    if (stored) {
      try {
        framework = await connect({ ...base, frameworkId: stored });
      } catch (err) {
        if (!(err instanceof SubscribeError && (err.kind === 'FRAMEWORK_REMOVED' || err.kind === 'FRAMEWORK_UNKNOWN'))) throw err;
        this.log.warn(`the master no longer knows framework ${stored} (${err.kind}): registering anew; its tasks are gone`);
      }
    }
    framework ??= await connect(base);
    if (framework.frameworkId !== stored) {
      try {
        await runnerState.put(FRAMEWORK_ID_KEY, framework.frameworkId);
      } catch (err) {
        framework.close();
        throw err;
      }
      this.log.info(`registered as framework ${framework.frameworkId}`);
    }
    return { framework, failover: framework.frameworkId === stored };
  }

  /**
   * A fatal SDK error ends the subscription (FRAMEWORK_FAILED_OVER: a
   * deposed instance subscribed late and took it over; FRAMEWORK_REMOVED:
   * torn down). Give the leadership up: the next leader subscribes afresh.
   */
  private onFrameworkError(term: Term, e: FrameworkErrorEvent): void {
    if (!e.fatal || term.aborter.signal.aborted) return;
    this.log.error(`the subscription of framework ${this.opts.name} ended (${e.kind}: ${e.message}): giving the leadership up`);
    void term.leadership.resign();
  }
}
