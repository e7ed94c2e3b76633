/**
 * The flags every shipped framework's binary shares: where the master is,
 * where its state lives (embedded, or etcd for several instances), how it
 * is secured, and where its HTTP API listens. A binary adds its own flags
 * to the same Command:
 *
 *   const program = addFrameworkFlags(new Command('mezz-services'), { name: 'services', port: 8080 });
 *   program.option('--max-apps <n>', …).parse();
 *   const flags = program.opts<FrameworkFlags & { maxApps: number }>();
 */
import os from 'node:os';
import path from 'node:path';
import { InvalidArgumentError as CommanderArgError, type Command } from 'commander';

/** What `addFrameworkFlags` parses, as `program.opts()` returns it. */
export interface FrameworkFlags {
  /** The masters (`host:port[,…]` or `etcd://…`); undefined: the SDK's default ($MEZZ_MASTER, else 127.0.0.1:5050). */
  master?: string;
  /** The framework's name: FrameworkInfo.name, and its key prefix in the store. */
  name: string;
  role: string;
  dataDir: string;
  etcd?: string;
  cluster: string;
  leaseTtl: number;
  etcdCert?: string;
  etcdKey?: string;
  etcdCa?: string;
  tlsCert?: string;
  tlsKey?: string;
  tlsCa?: string;
  credentials?: string;
  acls?: string;
  host: string;
  port: number;
  advertise?: string;
  /** The token presented to the master; undefined: the SDK's default ($MEZZ_TOKEN, …). */
  token?: string;
}

/** Per binary: its default framework name and HTTP port (Marathon's is 8080). */
export interface FrameworkFlagDefaults {
  name: string;
  port: number;
}

/** Adds the shared flags to `program` and returns it, for the binary to add its own. */
export function addFrameworkFlags(program: Command, defaults: FrameworkFlagDefaults): Command {
  return program
    .option('--master <masters>', 'the masters: host:port[,host:port…] or etcd://host:port[,…]/cluster (default: $MEZZ_MASTER, else 127.0.0.1:5050)')
    .option('--name <name>', 'the framework\'s name, as the master lists it; also names its state in the store', segment('--name'), defaults.name)
    .option('--role <role>', 'the role whose offers this framework receives', '*')
    .option('--data-dir <dir>', 'where the embedded state lives (without --etcd; one instance only)', path.join('.mezz', defaults.name))
    .option('--etcd <urls>', 'etcd endpoints, e.g. http://127.0.0.1:2379[,…]: keep state there and run as one of several instances, one leading; https:// endpoints are reached with --etcd-cert/--etcd-key/--etcd-ca, else the --tls-* files')
    .option('--cluster <name>', 'the cluster name in etcd (as the masters\' --cluster)', segment('--cluster'), 'mezzanine')
    .option('--lease-ttl <seconds>', 'with --etcd: the leadership lease; a dead leader is replaced about this long after it stopped', wholeSeconds, 2)
    .option('--etcd-cert <file>', 'with --etcd: the certificate (PEM) to present to etcd, with --etcd-key and --etcd-ca (default: the --tls-* files)')
    .option('--etcd-key <file>', 'the private key of --etcd-cert (PEM)')
    .option('--etcd-ca <file>', 'the CA (PEM) etcd\'s certificate must chain to')
    .option('--tls-cert <file>', 'this framework\'s certificate (PEM): its HTTP API serves https, and it presents it to the master and to the leader it proxies to')
    .option('--tls-key <file>', 'the private key of --tls-cert (PEM)')
    .option('--tls-ca <file>', 'the CA (PEM) the master\'s and HTTP clients\' certificates must chain to')
    .option('--credentials <file>', 'principals and secrets of the HTTP API (JSON {"credentials":[{"principal","secret"}]}): every request must then carry Authorization: Bearer <secret>')
    .option('--acls <file>', 'access control rules of the HTTP API (JSON; needs --credentials)')
    .option('--host <host>', 'address the HTTP API listens on', '0.0.0.0')
    .option('--port <port>', 'HTTP API port (0: any free port)', port, defaults.port)
    .option('--advertise <host:port>', 'the address other instances and clients reach this HTTP API at (default: --host, or this machine\'s hostname for 0.0.0.0, and the bound port)')
    .option('--token <token>', 'the token presented to the master (default: $MEZZ_TOKEN, the file $MEZZ_TOKEN_FILE, else ./.mezz/token)');
}

/** The HTTP address this instance advertises: `--advertise`, else the listening host (the hostname for a wildcard) and the port actually bound. */
export function advertisedAddress(flags: Pick<FrameworkFlags, 'advertise' | 'host'>, boundPort: number): string {
  if (flags.advertise) return flags.advertise;
  const host = flags.host === '0.0.0.0' || flags.host === '::' || flags.host === '' ? os.hostname() : flags.host;
  return host.includes(':') ? `[${host}]:${boundPort}` : `${host}:${boundPort}`;
}

function port(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new CommanderArgError('--port must be 0-65535');
  return n;
}

function wholeSeconds(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new CommanderArgError('--lease-ttl must be a whole number of seconds, at least 1');
  return n;
}

/** A parser for a flag that becomes one segment of a store key. */
function segment(flag: string): (v: string) => string {
  return (v) => {
    if (!/^[A-Za-z0-9_.-]{1,64}$/.test(v)) throw new CommanderArgError(`${flag} must be 1-64 letters, digits, '_', '.' or '-'`);
    return v;
  };
}
