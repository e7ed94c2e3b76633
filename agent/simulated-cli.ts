/**
 * `mezz-agent --simulate N`: the simulated agents as a process. Prints
 * `mezz-agent simulating N agents` on stdout once they are connecting, and
 * `mezz-agent simulated agents registered: N` each time all of them are
 * registered (at start, and again after every master failover); logs go to
 * stderr. SIGTERM and SIGINT close every stream and exit 0.
 */
import type { ClientSecurity } from '../lib/auth';
import type { Logger } from '../lib/log';
import type { Resources } from '../lib/resources';
import type { Attribute } from '../lib/proto';
import { startSimulatedAgents } from './simulated';

export interface SimulateFlags {
  count: number;
  masters: string[];
  resources?: Partial<Resources>;
  attributes?: Attribute[];
  hostname?: string;
  workDir?: string;
  taskDurationMs: number;
  pingIntervalMs: number;
  statusRetryMs: number;
  connections?: number;
  security?: ClientSecurity;
}

export async function runSimulatedAgents(flags: SimulateFlags, log: Logger): Promise<void> {
  const sim = await startSimulatedAgents({
    masters: flags.masters, count: flags.count, resources: flags.resources, attributes: flags.attributes,
    hostnamePrefix: flags.hostname, stateDir: flags.workDir, taskDurationMs: flags.taskDurationMs,
    pingIntervalMs: flags.pingIntervalMs, statusRetryMs: flags.statusRetryMs, connections: flags.connections, logger: log,
    security: flags.security,
  });
  process.stdout.write(`mezz-agent simulating ${flags.count} agents against ${flags.masters.join(',')}\n`);
  let all = false;
  const watch = setInterval(() => {
    const n = sim.registered();
    if (n === flags.count && !all) {
      process.stdout.write(`mezz-agent simulated agents registered: ${n}\n`);
      log.info(`all ${n} simulated agents registered`);
    }
    all = n === flags.count;
  }, 100);
  let stopping = false;
  const onSignal = (sig: NodeJS.Signals) => {
    if (stopping) process.exit(0);
    stopping = true;
    log.info(`${sig}: closing ${flags.count} simulated agents`);
    clearInterval(watch);
    void sim.stop().finally(() => process.exit(0));
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}
