/**
 * The `mezz-services` command line: the foundation's flags (name `services`,
 * port 8080, Marathon's) and the service proxy's. Apart from main.ts so that
 * tests read the flags without starting the process.
 */
import { Command } from 'commander';
import { durationOption } from '../../lib/duration-option';
import { addFrameworkFlags, type FrameworkFlags } from '../foundation/index';

export interface ServicesFlags extends FrameworkFlags {
  serviceProxy: boolean;
  serviceProxyHost: string;
  drainTimeout: number;
  reconcileInterval: number;
}

/** The `mezz-services` command line: the foundation's flags and the service proxy's. */
export function servicesProgram(): Command {
  return addFrameworkFlags(new Command('mezz-services'), { name: 'services', port: 8080 })
    .option('--no-service-proxy', 'do not run the service proxy (clients then find instances through /v2/apps/{id}/tasks)')
    .option('--service-proxy-host <host>', 'the address the service proxy listens on, a port per app service port', '127.0.0.1')
    .addOption(durationOption('--drain-timeout <duration>', 'how long a task leaving the service proxy may finish its open connections before it is killed', { unit: 'ms', default: 60_000 }))
    .addOption(durationOption('--reconcile-interval <duration>', 'how often the leader asks the master for the state of every live task (a lost status update is then corrected)', { unit: 'ms', default: 600_000, positive: true }));
}
