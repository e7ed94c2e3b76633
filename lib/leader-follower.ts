/**
 * Following the leading master, one policy for every client: the agent,
 * the simulated agents, the SDK and the CLI (as Mesos' MasterDetector
 * serves its agent, schedulers and CLI). A client asks `next()` where to
 * connect and how long to wait first, then reports how the attempt ended.
 *
 *   failed, the standby named a leader ──▶ that leader, at once (at most
 *                                          `maxRedirects` in a row, then with backoff)
 *   failed at a standby, no leader named ─▶ the same standby again soon
 *                                          (an election is under way; no growing backoff)
 *   failed otherwise ─────────────────────▶ the next address, jittered doubling backoff
 *   succeeded ────────────────────────────▶ backoff and redirect count reset
 *
 * The leader's address comes structured, from the refused call's trailing
 * metadata (lib/grpc.ts `leaderOf`), never from error text. Standbys keep
 * naming a dead leader until its lease lapses, so a leader that dropped us,
 * or that a standby named but that could not be reached, is taken for dead
 * for LOST_LEADER_MS: hints naming it are not followed, and `lostLeader()`
 * names it so that agents can ask a standby to hold their registration
 * until the new leader serves.
 */
import { backoffDelay, jitter, type BackoffOptions } from './backoff';

/** About a leader lease (2 s by default) and etcd's expiry tick, after which standbys name the successor. */
export const LOST_LEADER_MS = 3000;

export interface FollowOptions {
  /** Delays after plain failures: from initialMs doubling to maxMs, jittered to 50–100 %. Default 100 ms → 3 s. */
  backoff?: BackoffOptions;
  /** Leader redirects followed at once in a row; beyond, they wait the backoff (two confused masters cannot spin us). Default 3. */
  maxRedirects?: number;
  /** Retry delay while a standby has no leader to name (jittered; at most backoff.maxMs). Default 300 ms. */
  standbyRetryMs?: number;
  /** Source of jitter in [0, 1). Default Math.random. */
  random?: () => number;
  /** Clock for the lost-leader window. Default Date.now. */
  now?: () => number;
}

/** One attempt: where, after how long, and whether a standby sent us there. */
export interface Attempt {
  address: string;
  delayMs: number;
  redirected: boolean;
}

/** How an attempt or a connection ended. */
export interface Failure {
  /** It had been serving us (registered, subscribed): its end is the leader's, not a refusal. */
  wasConnected?: boolean;
  /** The master said it is not the leader (error kind NOT_LEADER). */
  notLeader?: boolean;
  /** The leader that master named, HOST:PORT. */
  leader?: string;
}

export const DEFAULT_FOLLOW_BACKOFF: Required<BackoffOptions> = { initialMs: 100, maxMs: 3000 };

export class LeaderFollower {
  readonly #masters: readonly string[];
  readonly #backoff: Required<BackoffOptions>;
  readonly #maxRedirects: number;
  readonly #standbyRetryMs: number;
  readonly #random: () => number;
  readonly #now: () => number;

  #index = 0;
  #redirect: string | undefined;
  #redirects = 0;
  #failures = 0;
  #delayMs = 0;
  #current: Attempt | undefined;
  #lost: { address: string; until: number } | undefined;

  constructor(masters: readonly string[], opts: FollowOptions = {}) {
    if (!masters.length) throw new Error('at least one master address is required');
    this.#masters = [...masters];
    this.#backoff = { ...DEFAULT_FOLLOW_BACKOFF, ...opts.backoff };
    this.#maxRedirects = opts.maxRedirects ?? 3;
    this.#standbyRetryMs = opts.standbyRetryMs ?? 300;
    this.#random = opts.random ?? Math.random;
    this.#now = opts.now ?? Date.now;
  }

  /** The addresses given, in order. */
  get masters(): readonly string[] {
    return this.#masters;
  }

  /** The next attempt: the leader a standby named, else the current address of the list; with the delay to wait first. */
  next(): Attempt {
    const address = this.#redirect ?? this.#masters[this.#index % this.#masters.length]!;
    const attempt = { address, delayMs: this.#delayMs, redirected: this.#redirect !== undefined };
    this.#redirect = undefined;
    this.#delayMs = 0;
    this.#current = attempt;
    return attempt;
  }

  /** The attempt reached the serving leader: start afresh next time something fails. */
  succeeded(): void {
    this.#failures = 0;
    this.#redirects = 0;
  }

  /** The attempt (or the connection it made) ended; sets up the next one. */
  failed(how: Failure = {}): void {
    const attempt = this.#current ?? { address: this.#masters[0]!, delayMs: 0, redirected: false };
    if ((how.wasConnected || attempt.redirected) && !how.notLeader) {
      this.#lost = { address: attempt.address, until: this.#now() + LOST_LEADER_MS };
    }
    const leader = how.leader && how.leader !== attempt.address && !this.isLost(how.leader) ? how.leader : undefined;
    if (leader) {
      this.#redirect = leader;
      this.#delayMs = this.#redirects++ < this.#maxRedirects ? 0 : this.#grow();
    } else if (how.notLeader || attempt.redirected) {
      // A standby with no live leader to name, or a leader it named that is gone: an
      // election is under way. Ask again soon, without growing the backoff.
      this.#delayMs = jitter(Math.min(this.#standbyRetryMs, this.#backoff.maxMs), this.#random);
      this.#redirects = 0;
    } else {
      this.#index++;
      this.#delayMs = this.#grow();
      this.#redirects = 0;
    }
  }

  /** The leader taken for dead (see the module comment), or '' when none is. */
  lostLeader(): string {
    return this.#lost && this.#now() < this.#lost.until ? this.#lost.address : '';
  }

  isLost(address: string): boolean {
    return address === this.lostLeader();
  }

  #grow(): number {
    return backoffDelay(this.#failures++, this.#random, this.#backoff);
  }
}
