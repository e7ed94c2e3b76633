/**
 * The batch framework's Prometheus metrics, on the API's registry: how late
 * cron runs are (tick → run stored, tick → first task launched), ticks
 * skipped, runs started by trigger and finished by status, and active runs
 * by state.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { StoredRun } from './run-store';

/** 5 ms to 30 s: a run should start well under a second after its tick, and a slip should stand out. */
const LATENESS_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export class BatchMetrics {
  readonly tickToRecord: Histogram;
  readonly tickToLaunch: Histogram;
  readonly skippedTicks: Counter;
  readonly started: Counter<'trigger'>;
  readonly finished: Counter<'status'>;
  readonly #active: Gauge<'status'>;

  constructor(registry: Registry = new Registry()) {
    const registers = [registry];
    this.tickToRecord = new Histogram({ name: 'mezz_batch_cron_record_lateness_seconds', help: 'From a cron tick to its run being stored', buckets: LATENESS_BUCKETS, registers });
    this.tickToLaunch = new Histogram({ name: 'mezz_batch_cron_start_lateness_seconds', help: 'From a cron tick to the launch of its run\'s first task', buckets: LATENESS_BUCKETS, registers });
    this.skippedTicks = new Counter({ name: 'mezz_batch_cron_skipped_ticks_total', help: 'Cron ticks that started no run: missed beyond one catch-up or the starting deadline, or FORBID with a run active', registers });
    this.started = new Counter({ name: 'mezz_batch_runs_started_total', help: 'Runs created, by trigger (api, schedule, dependency)', labelNames: ['trigger'], registers });
    this.finished = new Counter({ name: 'mezz_batch_runs_finished_total', help: 'Runs finished, by status (SUCCESS, FAILED)', labelNames: ['status'], registers });
    this.#active = new Gauge({ name: 'mezz_batch_active_runs', help: 'Runs not finished, by status (INITIAL, STARTING, ACTIVE)', labelNames: ['status'], registers });
  }

  observeRuns(active: readonly StoredRun[]): void {
    for (const status of ['INITIAL', 'STARTING', 'ACTIVE']) this.#active.set({ status }, active.filter((r) => r.state === status).length);
  }
}
