/**
 * `mezz-agent`: the command line of the agent process (flags: `flags.ts`).
 *
 * Prints one line on stdout once the files server is bound —
 * `mezz-agent listening on 127.0.0.1:<port>` — which harnesses wait for;
 * everything else (logs) goes to stderr. A bad flag is one line on stderr
 * and exit status 2. SIGTERM and SIGINT close the master stream and exit 0,
 * leaving tasks running.
 */
import { type ClientSecurity, loadCredentials, loadTls } from '../lib/auth';
import { errorMessage, InvalidArgumentError } from '../lib/errors';
import { createLogger } from '../lib/log';
import { resolveMasters } from '../lib/master-locator';
import { Agent } from './agent';
import { agentProgram, type Flags } from './flags';
import { runSimulatedAgents } from './simulated-cli';

/** The agent's credential (one principal: its own) and TLS material from its flags. */
function agentSecurity(flags: Flags): ClientSecurity {
  const tls = loadTls(flags);
  if (!flags.credentials) return tls ? { tls } : {};
  const creds = loadCredentials(flags.credentials);
  if (creds.length !== 1) {
    throw new InvalidArgumentError(`--credentials ${flags.credentials} holds ${creds.length} credentials; an agent's holds one, its own`);
  }
  return { token: creds[0]!.secret, ...(tls ? { tls } : {}) };
}

async function main(argv: string[]): Promise<void> {
  const cmd = agentProgram();
  try {
    cmd.parse(argv);
  } catch (err) {
    const e = err as { code?: string; exitCode?: number };
    // --help and --version end here with exit code 0; errors were printed already.
    process.exit(e.code === 'commander.helpDisplayed' || e.code === 'commander.version' ? 0 : 2);
  }
  const flags = cmd.opts<Flags>();
  const log = createLogger('agent');
  let security: ClientSecurity;
  try {
    security = agentSecurity(flags);
  } catch (err) {
    process.stderr.write(`mezz-agent: ${errorMessage(err)}\n`);
    process.exit(2);
  }
  if (flags.simulate) {
    return runSimulatedAgents({
      count: flags.simulate, masters: flags.master, resources: flags.resources, attributes: flags.attributes, hostname: flags.hostname,
      workDir: flags.workDir, taskDurationMs: flags.taskDuration, pingIntervalMs: flags.pingInterval, statusRetryMs: flags.statusRetry,
      security,
    }, log);
  }
  if (flags.switchUser && process.getuid?.() !== 0) {
    process.stderr.write('mezz-agent: --switch-user needs root (setpriv cannot change users otherwise); run as root, or without it to run tasks as this user\n');
    process.exit(2);
  }
  let masters: string[];
  try {
    masters = await resolveMasters(flags.master, security.tls);
  } catch (err) {
    process.stderr.write(`mezz-agent: --master: ${(err as Error).message}\n`);
    process.exit(2);
  }
  const agent = new Agent({
    masters,
    port: flags.port,
    bindHost: flags.bind,
    workDir: flags.workDir,
    resources: flags.resources,
    attributes: flags.attributes,
    hostname: flags.hostname,
    killGraceMs: flags.killGrace,
    pingIntervalMs: flags.pingInterval,
    statusRetryMs: flags.statusRetry,
    recover: flags.recover,
    isolation: flags.isolation,
    pidsMax: flags.pidsMax,
    sandboxGcDelayMs: flags.sandboxGcDelay,
    gcDiskHeadroom: flags.gcDiskHeadroom,
    logMaxBytes: flags.logMaxSize,
    logMaxFiles: flags.logMaxFiles,
    diskCheckIntervalMs: flags.diskCheckInterval,
    users: { switchUser: flags.switchUser, defaultUser: flags.defaultUser },
    fetcher: { timeoutMs: flags.fetcherTimeout, maxBytes: flags.fetcherMaxSize },
    security,
    logger: log,
  });

  let stopping = false;
  const onSignal = (sig: NodeJS.Signals) => {
    if (stopping) process.exit(0);
    stopping = true;
    log.info(`${sig}: closing; tasks keep running`);
    void agent.stop().finally(() => process.exit(0));
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);

  try {
    await agent.start();
  } catch (err) {
    process.stderr.write(`mezz-agent: ${errorMessage(err)}\n`);
    process.exit(1);
  }
  const host = flags.bind === '0.0.0.0' || flags.bind === '::' ? '127.0.0.1' : flags.bind;
  process.stdout.write(`mezz-agent listening on ${host.includes(':') ? `[${host}]` : host}:${agent.port}\n`);
}

await main(process.argv);
