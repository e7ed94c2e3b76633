/**
 * Limits against abuse, checked where a caller could make the master hold
 * or do without bound: SUBSCRIBEs per second and frameworks per principal
 * (frameworks.ts), tasks per ACCEPT, offer ids per ACCEPT and live tasks
 * per framework (scheduler-calls.ts). Each check returns the refusal's
 * message, naming the limit and its flag, or undefined; the caller refuses
 * with kind RESOURCE_EXHAUSTED (SUBSCRIBE: a fatal ERROR event; ACCEPT: a
 * non-fatal one and TASK_ERROR for each task).
 *
 * A principal is `FrameworkInfo.principal` as the master records it (the
 * authenticated caller's). With authentication off it is empty, and every
 * anonymous framework counts against one shared allowance: without a
 * verified identity there is nothing to tell callers apart by that a caller
 * could not vary (a peer host is one host behind a NAT or on loopback, and
 * many for a caller with many addresses), and a cluster open to anyone is a
 * local or trusted one.
 */
import { describe, MAX_IDS_PER_CALL, MAX_TASKS_PER_ACCEPT } from '../lib/limits';
import { RateLimiter, retryIn } from '../lib/rate-limit';
import type { Call__Output, FrameworkInfo__Output } from '../lib/proto';
import type { Cluster } from './cluster';
import type { FrameworkRecord } from './state';

export interface LimitOptions {
  /** Live tasks one framework may hold (`--max-tasks-per-framework`). */
  maxTasksPerFramework: number;
  /** Frameworks, active or within their failover timeout, one principal may have registered (`--max-frameworks-per-principal`). */
  maxFrameworksPerPrincipal: number;
  /** SUBSCRIBEs per second per principal, on average (`--subscribe-rate`); 0: no limit. */
  subscribeRate: number;
  /** SUBSCRIBEs per principal at once after a quiet spell (`--subscribe-burst`). */
  subscribeBurst: number;
}

/**
 * 100,000 tasks: far above what a framework runs (each task is at least a
 * process), far below what would let one framework fill the master's
 * memory (a task record is a few KB); as many as one agent may report.
 * 100 frameworks: a team's services, batch and functions frameworks many
 * times over. 10 SUBSCRIBEs a second, 20 at once: a restart of every
 * framework of a principal at once gets through, a reconnect loop does not
 * make the master write its registry without pause.
 */
export const DEFAULT_LIMITS: LimitOptions = {
  maxTasksPerFramework: 100_000, maxFrameworksPerPrincipal: 100, subscribeRate: 10, subscribeBurst: 20,
};

export class MasterLimits {
  private readonly subscribes: RateLimiter;

  constructor(private readonly c: Cluster, readonly opts: LimitOptions) {
    this.subscribes = new RateLimiter({ ratePerSecond: opts.subscribeRate, burst: opts.subscribeBurst, now: () => c.now() });
  }

  /**
   * Why a (valid) SUBSCRIBE is refused by a limit, or undefined. Every
   * SUBSCRIBE takes from its principal's rate; one that would register a
   * new framework (`isNew`) must also find its principal below the count.
   */
  subscribeProblem(info: FrameworkInfo__Output, isNew: boolean): string | undefined {
    const principal = info.principal ?? '';
    const rate = this.subscribes.take(principal);
    if (!rate.ok) {
      return `${whose(principal)} SUBSCRIBEs exceed ${this.opts.subscribeRate} a second (burst ${this.opts.subscribeBurst}; `
        + `--subscribe-rate, --subscribe-burst); ${retryIn(rate.retryAfterMs)}`;
    }
    if (!isNew) return undefined;
    let count = 0;
    for (const fw of this.c.frameworks.values()) if ((fw.info.principal ?? '') === principal) count++;
    if (count < this.opts.maxFrameworksPerPrincipal) return undefined;
    return `${whose(principal)} ${count} registered frameworks reach the limit of ${this.opts.maxFrameworksPerPrincipal} per principal `
      + '(--max-frameworks-per-principal): re-subscribe with an existing framework\'s id, or tear one down (mezz teardown) first';
  }

  /** Why an ACCEPT is refused whole by a limit (tasks in it, offer ids in it, live tasks of the framework after it), or undefined. */
  acceptProblem(fw: FrameworkRecord, accept: NonNullable<Call__Output['accept']>): string | undefined {
    const count = accept.operations.reduce((n, op) => n + (op.launch?.taskInfos ?? op.launchGroup?.taskInfos ?? []).length, 0);
    if (count > MAX_TASKS_PER_ACCEPT) return `accept holds ${count} tasks; the limit is ${MAX_TASKS_PER_ACCEPT} per accept: split the launch over several accepts`;
    if (accept.offerIds.length > MAX_IDS_PER_CALL) return `accept names ${accept.offerIds.length} offers; the limit is ${MAX_IDS_PER_CALL}`;
    const max = this.opts.maxTasksPerFramework;
    if (fw.tasks.size + count > max) {
      return `framework ${fw.id} has ${fw.tasks.size} live tasks and this accept would add ${count}; the limit is ${max} per framework `
        + '(--max-tasks-per-framework): launch more once some have ended';
    }
    return undefined;
  }
}

function whose(principal: string): string {
  return principal ? `principal ${describe(principal)}:` : 'anonymous callers (authentication is off) together:';
}
