/**
 * The function runner's Prometheus metrics, on the API's registry:
 * invocations by status, cold starts by source, how long a call waits
 * before its code runs (by source: warm, pool, none) and how long it runs,
 * and workers by state.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ActivationStatus } from './activation';
import type { ColdSource, Worker, WorkerState } from './pool';

/** 1 ms to 60 s: a warm start is a millisecond, a cold one from the pool tens, from nothing hundreds. */
const START_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
const RUN_BUCKETS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300];
const STATES: readonly WorkerState[] = ['launching', 'stem', 'initialising', 'ready', 'draining'];

export class FunctionsMetrics {
  readonly invocations: Counter<'status'>;
  readonly coldStarts: Counter<'source'>;
  readonly startLatency: Histogram<'source'>;
  readonly runDuration: Histogram;
  readonly rejected: Counter;
  readonly #workers: Gauge<'state'>;

  constructor(registry: Registry = new Registry()) {
    const registers = [registry];
    this.invocations = new Counter({ name: 'mezz_functions_invocations_total', help: 'Finished invocations, by status (success, application error, action developer error, whisk internal error)', labelNames: ['status'], registers });
    this.coldStarts = new Counter({ name: 'mezz_functions_cold_starts_total', help: 'Invocations that started a worker: from the stem pool (pool) or from nothing (none)', labelNames: ['source'], registers });
    this.startLatency = new Histogram({ name: 'mezz_functions_start_latency_seconds', help: 'From an invocation accepted to its code starting to run (queue, worker start, init), by source: warm, pool, none', labelNames: ['source'], buckets: START_BUCKETS, registers });
    this.runDuration = new Histogram({ name: 'mezz_functions_run_duration_seconds', help: 'How long the code ran', buckets: RUN_BUCKETS, registers });
    this.rejected = new Counter({ name: 'mezz_functions_rejected_total', help: 'Invocations refused with 429: the function\'s queue was full', registers });
    this.#workers = new Gauge({ name: 'mezz_functions_workers', help: 'Worker tasks, by state (launching, stem, initialising, ready, draining)', labelNames: ['state'], registers });
  }

  finished(status: ActivationStatus): void {
    this.invocations.inc({ status });
  }

  started(source: ColdSource, seconds: number): void {
    if (source !== 'warm') this.coldStarts.inc({ source });
    this.startLatency.observe({ source }, seconds);
  }

  observeWorkers(workers: readonly Readonly<Worker>[]): void {
    for (const state of STATES) this.#workers.set({ state }, workers.filter((w) => w.state === state).length);
  }
}
