/**
 * mezz-batch: Metronome's jobs on Mezzanine. One process is the leader
 * (subscribed to the master, firing schedules, running jobs, answering /v1);
 * others stand by and forward every /v1 request to it. The process around it
 * (API, store, runner, standby proxy) is the foundation's.
 */
import { runFrameworkMain } from '../foundation/index';
import { addBatchRoutes } from './api';
import { batchProgram, type BatchFlags } from './flags';
import { BatchMetrics } from './metrics';
import { BatchScheduler } from './scheduler';

runFrameworkMain<BatchFlags>('mezz-batch', batchProgram(), (flags, { api, log, events }) => {
  const scheduler = new BatchScheduler({
    log,
    publish: (type, payload) => events.publish(type, payload),
    metrics: new BatchMetrics(api.metrics),
    retryDelayMs: flags.retryDelay,
    gangTimeoutMs: flags.gangTimeout,
    reconcileIntervalMs: flags.reconcileInterval,
  });
  return {
    prefix: '/v1',
    routes: (leadership) => addBatchRoutes(api, scheduler, leadership),
    lead: scheduler.lead,
    sdk: {
      capabilities: ['PARTITION_AWARE'],
      // A status update is acknowledged once its state is stored, so a finished task is never taken for lost after a failover.
      autoAcknowledge: false,
    },
  };
});
