/**
 * Where a framework's state and election live, chosen by its flags: the
 * embedded store under `--data-dir` (one instance, which leads at once), or
 * etcd with `--etcd` (several instances, one leading), reached over TLS with
 * `--etcd-cert/-key/-ca`, else the `--tls-*` files (as the master does).
 */
import path from 'node:path';
import { loadTls, type TlsMaterial } from '../../lib/auth';
import type { Election } from '../../lib/election';
import { EmbeddedElection } from '../../lib/election-embedded';
import { EtcdElection } from '../../lib/election-etcd';
import type { Logger } from '../../lib/log';
import type { Store } from '../../lib/store';
import { EmbeddedStore } from '../../lib/store-embedded';
import { EtcdStore, etcdEndpoint } from '../../lib/store-etcd';
import type { FrameworkFlags } from './flags';
import { frameworkPrefix } from './state';

/** An open store and election. `close()` closes both; idempotent. */
export interface FrameworkBackend {
  readonly store: Store;
  readonly election: Election;
  /** Where the state lives, for the startup log line. */
  readonly where: string;
  close(): Promise<void>;
}

type BackendFlags = Pick<FrameworkFlags, 'name' | 'cluster' | 'dataDir' | 'etcd' | 'leaseTtl' | 'etcdCert' | 'etcdKey' | 'etcdCa' | 'tlsCert' | 'tlsKey' | 'tlsCa'>;

/**
 * Opens the backend the flags name. With `--etcd` it checks that etcd
 * answers, so a wrong endpoint stops the binary at once. Throws StoreError
 * (etcd unreachable, data directory unusable) or InvalidArgumentError (bad
 * name, half the TLS files).
 */
export async function openBackend(flags: BackendFlags, logger?: Pick<Logger, 'warn' | 'debug'>): Promise<FrameworkBackend> {
  const prefix = frameworkPrefix(flags.cluster, flags.name);
  if (!flags.etcd) {
    const dir = path.resolve(flags.dataDir);
    const store = new EmbeddedStore(dir);
    const election = new EmbeddedElection();
    return { store, election, where: `state in ${dir}`, close: async () => void (await election.close(), await store.close()) };
  }
  const tls = etcdTls(flags);
  const endpoints = flags.etcd.split(',').map((e) => e.trim()).filter(Boolean).map((e) => etcdEndpoint(e, tls));
  const store = await EtcdStore.open({ endpoints, ...(tls ? { tls } : {}) });
  // Election keys under <prefix>leader/: EtcdElection puts them under /mezzanine/<cluster>/leader/.
  const election = new EtcdElection({ connection: store.connection, cluster: prefix.slice('/mezzanine/'.length, -1), ttlSeconds: flags.leaseTtl, ...(logger ? { logger } : {}) });
  return {
    store, election,
    where: `state in etcd ${endpoints.join(',')} under ${prefix} (lease ${flags.leaseTtl}s)`,
    close: async () => void (await election.close(), await store.close()),
  };
}

/** The certificate etcd is reached with: `--etcd-*`, else `--tls-*`, else none. */
function etcdTls(flags: BackendFlags): TlsMaterial | undefined {
  return loadTls({ tlsCert: flags.etcdCert, tlsKey: flags.etcdKey, tlsCa: flags.etcdCa }, { cert: '--etcd-cert', key: '--etcd-key', ca: '--etcd-ca' })
    ?? loadTls(flags);
}
