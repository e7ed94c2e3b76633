/**
 * The `mezz` program: the global flags, the commands (one file per group in
 * cli/commands/), and the one place where every failure becomes a line on
 * stderr and an exit code: 1 for trouble, 2 for a wrong command line, never
 * a stack trace (MEZZ_DEBUG=1 shows one for unexpected errors).
 */
import { Command, CommanderError } from 'commander';
import { durationOption } from '../lib/duration-option';
import { errorMessage } from '../lib/errors';
import { VERSION } from '../lib/version';
import { registerAgents } from './commands/agents';
import { registerApp } from './commands/app';
import { registerDeployments } from './commands/deployments';
import { registerFn } from './commands/fn';
import { registerFrameworks } from './commands/frameworks';
import { registerJob } from './commands/job';
import { registerKill } from './commands/kill';
import { registerLeader } from './commands/leader';
import { registerLogs } from './commands/logs';
import { registerRoles } from './commands/roles';
import { registerStatus } from './commands/status';
import { registerTasks } from './commands/tasks';
import { registerUp } from './commands/up';
import { registerVersion } from './commands/version';
import { DEFAULT_MASTER } from './context';
import { CliError } from './errors';

/** Commander's codes for "help or version was shown", which are successes. */
const SHOWN = new Set(['commander.helpDisplayed', 'commander.help', 'commander.version']);

export function buildProgram(): Command {
  const program = new Command('mezz')
    .description('Operate a Mezzanine cluster: inspect agents, frameworks, tasks and roles; read task logs; kill tasks and tear down frameworks; start a local cluster.')
    .option('--master <host:port[,...]>', `master address(es), tried in turn (env MEZZ_MASTER, default ${DEFAULT_MASTER})`)
    .option('--json', 'print one JSON document instead of a table')
    .option('--token <token>', 'authenticate with this token (env MEZZ_TOKEN or MEZZ_TOKEN_FILE; default ./.mezz/token, written by mezz up)')
    .option('--tls-cert <file>', 'mutual TLS: this client\'s certificate (PEM; env MEZZ_TLS_CERT), with --tls-key and --tls-ca')
    .option('--tls-key <file>', 'the private key of --tls-cert (PEM; env MEZZ_TLS_KEY)')
    .option('--tls-ca <file>', 'the CA the master\'s certificate must chain to (PEM; env MEZZ_TLS_CA)')
    .addOption(durationOption('--timeout <duration>', 'deadline for each call to the master, e.g. 5s or 500ms', { unit: 'ms', default: 5000, positive: true }))
    .version(VERSION, '-V, --version', "print the CLI's version")
    // Set before the commands are added, so that they inherit it.
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(`mezz: ${text.replace(/^error: /, '')}`) });

  registerStatus(program);
  registerAgents(program);
  registerFrameworks(program);
  registerTasks(program);
  registerRoles(program);
  registerLogs(program);
  registerKill(program);
  registerApp(program);
  registerDeployments(program);
  registerJob(program);
  registerFn(program);
  registerLeader(program);
  registerVersion(program);
  registerUp(program);
  return program;
}

/** Runs `mezz` with `argv` (without node and the script) and returns the exit code. */
export async function run(argv: string[]): Promise<number> {
  const program = buildProgram();
  if (argv.length === 0) {
    program.outputHelp();
    return 0;
  }
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) return SHOWN.has(err.code) ? 0 : 2; // commander already printed why
    const code = err instanceof CliError ? err.exitCode : 1;
    process.stderr.write(`mezz: ${errorMessage(err)}\n`);
    if (process.env.MEZZ_DEBUG && err instanceof Error && !(err instanceof CliError)) process.stderr.write(`${err.stack}\n`);
    return code;
  }
}
