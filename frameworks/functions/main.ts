/**
 * mezz-functions: OpenWhisk's actions on Mezzanine. One process is the
 * leader (subscribed to the master, running the worker pool, answering
 * /api/v1); others stand by and forward every /api/v1 request to it. The
 * process around it (API, store, runner, standby proxy) is the foundation's.
 */
import { runFrameworkMain } from '../foundation/index';
import { addFunctionRoutes, FUNCTIONS_BODY_LIMIT } from './api';
import { functionsProgram, type FunctionsFlags } from './flags';
import { FunctionsMetrics } from './metrics';
import { FunctionsScheduler } from './scheduler';

runFrameworkMain<FunctionsFlags>('mezz-functions', functionsProgram(), (flags, { api, log }) => {
  const scheduler = new FunctionsScheduler({
    log,
    metrics: new FunctionsMetrics(api.metrics),
    stems: flags.stems,
    queueLimit: flags.queueLimit,
    workerCpus: flags.workerCpus,
    activationsKept: flags.activationsKept,
  });
  return {
    prefix: '/api/v1',
    routes: (leadership) => addFunctionRoutes(api, scheduler, leadership),
    lead: scheduler.lead,
    sdk: { capabilities: ['PARTITION_AWARE'] },
  };
}, { bodyLimit: FUNCTIONS_BODY_LIMIT });
