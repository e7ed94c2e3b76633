/**
 * mezz-services: Marathon's apps on Mezzanine. One process is the leader
 * (subscribed to the master, scheduling, answering /v2, running the service
 * proxy); others stand by and forward every /v2 request to it. The process
 * around it (API, store, runner, standby proxy) is the foundation's.
 */
import { randomUUID } from 'node:crypto';
import { runFrameworkMain } from '../foundation/index';
import { addServiceRoutes } from './api';
import { servicesProgram, type ServicesFlags } from './flags';
import { ProxyEndpoints } from './endpoints';
import { ReadinessChecker } from './readiness';
import { ServicesScheduler } from './scheduler';
import { ServiceProxy } from './service-proxy';

runFrameworkMain<ServicesFlags>('mezz-services', servicesProgram(), (flags, { api, log, events }) => {
  const proxy = flags.serviceProxy ? new ServiceProxy({ host: flags.serviceProxyHost, drainTimeoutMs: flags.drainTimeout, logger: log }) : undefined;
  const endpoints = proxy ? new ProxyEndpoints(proxy, log) : undefined;
  const readiness = new ReadinessChecker();
  // GET /v2/events: what the scheduler publishes (api_post_event, status_update_event, deployment_*) goes to every subscriber.
  const publish = (type: string, payload: Record<string, unknown>) => events.publish(type, payload);
  const scheduler = new ServicesScheduler({ log, newId: randomUUID, readiness, publish, reconcileIntervalMs: flags.reconcileInterval, ...(endpoints ? { endpoints } : {}) });
  return {
    prefix: '/v2',
    routes: (leadership) => addServiceRoutes(api, scheduler, leadership),
    lead: scheduler.lead,
    // The proxy serves only while this instance leads: a standby's view of the tasks is not kept.
    onLeadershipEnd: () => void endpoints?.clear(),
    // TASK_UNREACHABLE rather than TASK_LOST, so that each app's unreachableStrategy decides when a task is replaced.
    sdk: { capabilities: ['PARTITION_AWARE'] },
    close: async () => {
      readiness.close();
      await endpoints?.clear();
    },
  };
});
