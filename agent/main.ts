/**
 * `mezz-agent`: the command line of the agent process.
 *
 * Prints one line on stdout once the files server is bound —
 * `mezz-agent listening on 127.0.0.1:<port>` — which harnesses wait for;
 * everything else (logs) goes to stderr. A bad flag is one line on stderr
 * and exit status 2. SIGTERM and SIGINT close the master stream and exit 0,
 * leaving tasks running.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { parseMasterList } from '../lib/address';
import { parseDuration } from '../lib/duration';
import { errorMessage } from '../lib/errors';
import { createLogger } from '../lib/log';
import { parse as parseResources } from '../lib/resources';
import { VERSION } from '../lib/version';
import { Agent } from './agent';
import { parseAttributes } from './attributes';

/** commander wants InvalidArgumentError from parsers; it then names the flag in its one-line error. */
function arg<T>(parse: (text: string) => T): (text: string) => T {
  return (text) => {
    try {
      return parse(text);
    } catch (err) {
      throw new InvalidArgumentError(errorMessage(err));
    }
  };
}

function port(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || n > 65535) throw new Error('must be a port number 0-65535 (0: any free port)');
  return n;
}

function positiveMs(text: string): number {
  const ms = parseDuration(text) * 1000;
  if (!(ms > 0)) throw new Error('must be longer than 0');
  return ms;
}

function nonNegativeMs(text: string): number {
  return parseDuration(text) * 1000;
}

interface Flags {
  master: string[];
  port: number;
  bind: string;
  workDir?: string;
  resources?: ReturnType<typeof parseResources>;
  attributes?: ReturnType<typeof parseAttributes>;
  hostname?: string;
  killGrace: number;
  pingInterval: number;
  statusRetry: number;
}

function program(): Command {
  return new Command('mezz-agent')
    .description('Mezzanine agent: offers this host\'s resources to the master and runs tasks in sandboxes.')
    .version(VERSION)
    .addOption(new Option('--master <host:port,...>', 'master address(es), tried in turn')
      .env('MEZZ_MASTER').default(parseMasterList('127.0.0.1:5050'), '127.0.0.1:5050').argParser(arg((t) => parseMasterList(t))))
    .option('--port <port>', 'port of the agent\'s files server (0: any free port)', arg(port), 5051)
    .option('--bind <host>', 'address the files server binds', '0.0.0.0')
    .option('--work-dir <dir>', 'sandboxes, checkpoints and agent.json (default /tmp/mezz/agent-<port>)')
    .option('--resources <spec>', 'override detected resources, e.g. \'cpus:4;mem:2048;disk:1000;gpus:0;ports:[31000-32000]\'', arg(parseResources))
    .option('--attributes <spec>', 'attributes for placement, e.g. \'rack:r1;zone:a\'', arg(parseAttributes))
    .option('--hostname <name>', 'hostname reported to the master (default: this host\'s name)')
    .option('--kill-grace <duration>', 'SIGTERM to SIGKILL grace for tasks that set none', arg(nonNegativeMs), 3000)
    .option('--ping-interval <duration>', 'ping interval until the master sets one', arg(positiveMs), 1000)
    .option('--status-retry <duration>', 'resend unacknowledged status updates after this long', arg(positiveMs), 2000)
    .allowExcessArguments(false)
    .showSuggestionAfterError(false)
    .exitOverride()
    .configureOutput({
      // One line for errors (commander's own, which name the flag), no usage dump.
      outputError: (text, write) => write(text.trim().split('\n')[0] + '\n'),
    });
}

async function main(argv: string[]): Promise<void> {
  const cmd = program();
  try {
    cmd.parse(argv);
  } catch (err) {
    const e = err as { code?: string; exitCode?: number };
    // --help and --version end here with exit code 0; errors were printed already.
    process.exit(e.code === 'commander.helpDisplayed' || e.code === 'commander.version' ? 0 : 2);
  }
  const flags = cmd.opts<Flags>();
  const log = createLogger('agent');
  const agent = new Agent({
    masters: flags.master,
    port: flags.port,
    bindHost: flags.bind,
    workDir: flags.workDir,
    resources: flags.resources,
    attributes: flags.attributes,
    hostname: flags.hostname,
    killGraceMs: flags.killGrace,
    pingIntervalMs: flags.pingInterval,
    statusRetryMs: flags.statusRetry,
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
