/**
 * The `mezz-master` command line: every flag, its parser and its default.
 * Durations arrive in seconds (`lib/duration-option.ts`).
 */
import { Command, InvalidArgumentError as CommanderArgError } from 'commander';
import path from 'node:path';
import { durationOption } from '../lib/duration-option';
import { VERSION } from '../lib/version';
import { DEFAULT_LIMITS } from './limits';

/** The `mezz-master` command line; `main.ts` parses with it, tests read its options. */
export function masterProgram(): Command {
  return new Command('mezz-master')
    .description('The Mezzanine master: pools agents\' resources and offers them to frameworks.')
    .version(VERSION)
    .option('--host <host>', 'address to listen on', '0.0.0.0')
    .option('--port <port>', 'gRPC port (0: any free port)', (v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0 || n > 65535) throw new CommanderArgError('--port must be 0-65535');
      return n;
    }, 5050)
    .option('--data-dir <dir>', 'where the embedded registry lives (without --etcd)', path.join('.mezz', 'master'))
    .option('--etcd <urls>', 'etcd endpoints, e.g. http://127.0.0.1:2379[,...]: run as one of a highly available group; https:// endpoints are reached with --etcd-cert/--etcd-key/--etcd-ca, else the --tls-* files (a bare HOST:PORT is https with either, else http)')
    .option('--lease-ttl <seconds>', 'with --etcd: the leadership lease; a dead leader is replaced about this long after it stopped', (v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1) throw new CommanderArgError('--lease-ttl must be a whole number of seconds, at least 1');
      return n;
    }, 2)
    .option('--advertise <host:port>', 'the address other processes reach this master at (default: host and bound port)')
    .option('--cluster <name>', 'cluster name (prefix of every registry key)', 'mezzanine')
    .addOption(durationOption('--agent-ping-timeout <duration>', 'agent silence, counted while the master runs, after which it is unreachable (long enough for an agent restart or upgrade)', { unit: 's', default: 30, positive: true }))
    .addOption(durationOption('--agent-ping-interval <duration>', 'how often agents ping', { unit: 's', default: 1, positive: true }))
    .addOption(durationOption('--agent-removal-timeout <duration>', 'how long an unreachable agent is kept before it is GONE', { unit: 's', default: 600 }))
    .addOption(durationOption('--agent-reregister-timeout <duration>', 'after a master restart, how long admitted agents have to re-register', { unit: 's', default: 60 }))
    .addOption(durationOption('--heartbeat-interval <duration>', 'HEARTBEAT interval to frameworks', { unit: 's', default: 5, positive: true }))
    .addOption(durationOption('--offer-timeout <duration>', 'rescind offers held longer than this, so an idle framework cannot hoard the cluster (0: never)', { unit: 's', default: 30 }))
    .addOption(durationOption('--task-launch-timeout <duration>', 'a task its agent has not reported on this long after launch (fetching included) is LOST', { unit: 's', default: 600 }))
    .addOption(durationOption('--allocation-interval <duration>', 'periodic allocation round', { unit: 's', default: 1, positive: true }))
    .option('--credentials <file>', 'principals and secrets (JSON {"credentials":[{"principal","secret"}]}): every call must then present one as a token')
    .option('--acls <file>', 'access control rules (JSON; needs --credentials): what each principal may do; anything no rule allows is denied unless the file says default "allow"')
    .option('--tls-cert <file>', 'this master\'s certificate (PEM): mutual TLS with --tls-key and --tls-ca')
    .option('--tls-key <file>', 'the private key of --tls-cert (PEM)')
    .option('--tls-ca <file>', 'the CA (PEM) every client\'s, agent\'s and etcd\'s certificate must chain to')
    .option('--etcd-cert <file>', 'with --etcd: the certificate (PEM) to present to etcd, with --etcd-key and --etcd-ca (default: the --tls-* files)')
    .option('--etcd-key <file>', 'the private key of --etcd-cert (PEM)')
    .option('--etcd-ca <file>', 'the CA (PEM) etcd\'s certificate must chain to')
    // Limits against abuse (limits.ts says why these defaults).
    .option('--max-tasks-per-framework <n>', 'live tasks one framework may hold; launches beyond are refused (TASK_ERROR)', wholeNumber('--max-tasks-per-framework', 1), DEFAULT_LIMITS.maxTasksPerFramework)
    .option('--max-frameworks-per-principal <n>', 'frameworks one principal may have registered (all anonymous ones together when authentication is off)', wholeNumber('--max-frameworks-per-principal', 1), DEFAULT_LIMITS.maxFrameworksPerPrincipal)
    .option('--subscribe-rate <n>', 'SUBSCRIBEs per second per principal, on average (0: no limit)', wholeNumber('--subscribe-rate', 0), DEFAULT_LIMITS.subscribeRate)
    .option('--subscribe-burst <n>', 'SUBSCRIBEs per principal at once after a quiet spell', wholeNumber('--subscribe-burst', 1), DEFAULT_LIMITS.subscribeBurst)
    .showHelpAfterError();
}

/** A parser of a whole-number flag of at least `min`. */
function wholeNumber(flag: string, min: number): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!Number.isSafeInteger(n) || n < min) throw new CommanderArgError(`${flag} must be a whole number, at least ${min}`);
    return n;
  };
}
