/**
 * Leader election among the masters of one cluster, with two
 * implementations: `election-embedded.ts` (one process, leads at once) and
 * `election-etcd.ts` (several masters on an etcd lease).
 *
 *   campaign(address) ──leads──▶ Leadership { fence, lost } ──lost/resign──▶ stop acting, campaign again
 *
 * Safety: a leader acts only until `lost` resolves, and makes every durable
 * write a `txn` that includes `fence`, so that a write from a deposed leader
 * that is still running (paused, partitioned) is refused by the store.
 */
import { MezzError } from './errors';
import type { TxnCompare } from './store';

/** The election was closed while a call was waiting on it. */
export class ElectionClosedError extends MezzError {
  override name = 'ElectionClosedError';
  constructor(message = 'the election is closed') {
    super(message, 'UNAVAILABLE');
  }
}

/** A won election. It lasts until `lost` resolves, and never comes back: campaign again for a new one. */
export interface Leadership {
  /** Compare that holds only while this leadership lasts: put it in every txn the leader makes (fencing). */
  readonly fence: TxnCompare[];
  /**
   * Resolves (never rejects) with a reason when the leadership is lost or
   * resigned; the leader must stop acting at once. For etcd it resolves
   * before etcd can elect another leader (see election-etcd.ts), provided
   * the process is not stalled for longer than a third of the lease TTL.
   */
  readonly lost: Promise<string>;
  /** Gives the leadership up (resolving `lost` with "resigned") and lets the next candidate lead at once. Idempotent; never rejects. */
  resign(): Promise<void>;
}

export interface Election {
  /**
   * Campaigns with `value` (the candidate's address); resolves when it
   * leads. Retries through etcd outages until `close()`, after which it
   * rejects with ElectionClosedError. A candidate that wants to lead again
   * after losing calls `campaign` again.
   */
  campaign(value: string): Promise<Leadership>;
  /** The current leader's value, or undefined when there is none. May reject with StoreError when etcd is unreachable. */
  leader(): Promise<string | undefined>;
  /**
   * The values of every candidate, leader first, then in the order they
   * would lead. May reject with StoreError when etcd is unreachable.
   */
  candidates?(): Promise<string[]>;
  /**
   * Calls back on every change of leader (undefined while there is none),
   * starting with the leader at the time of the call. Changes are reported
   * in order, each once; through an etcd outage the last known leader stays
   * reported until etcd answers again. Rejects with StoreError if etcd
   * cannot be reached to start observing.
   */
  observe(cb: (leader: string | undefined) => void): Promise<{ close(): Promise<void> }>;
  /** Stops campaigning and observing, resigns a held leadership, and releases the connection if owned. Idempotent. */
  close(): Promise<void>;
}
