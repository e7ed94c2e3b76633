/**
 * The master's security from its flags: who its callers are (`--credentials`),
 * what they may do (`--acls`), and mutual TLS (`--tls-cert`, `--tls-key`,
 * `--tls-ca`). Each is off unless given; the one refused combination is ACLs
 * without credentials (every caller would be anonymous, matched by no rule).
 */
import { Authenticator, Authorizer, CallerAuth, loadAccessPolicy, loadTls, type TlsFiles, type TlsMaterial } from '../lib/auth';
import type { Logger } from '../lib/log';
import { Access } from './access';

export interface MasterSecurityFlags extends TlsFiles {
  credentials?: string;
  acls?: string;
  etcdCert?: string;
  etcdKey?: string;
  etcdCa?: string;
}

export interface MasterSecurity {
  auth: CallerAuth;
  access: Access;
  tls?: TlsMaterial;
  /** How the master reaches an https etcd: `--etcd-cert/-key/-ca`, else its `--tls-*` (as kube-apiserver's --etcd-certfile). */
  etcdTls?: TlsMaterial;
}

export function masterSecurity(flags: MasterSecurityFlags, log: Logger): MasterSecurity {
  const { credentials, acls } = loadAccessPolicy(flags);
  const tls = loadTls(flags);
  const etcdTls = loadTls({ tlsCert: flags.etcdCert, tlsKey: flags.etcdKey, tlsCa: flags.etcdCa }, { cert: '--etcd-cert', key: '--etcd-key', ca: '--etcd-ca' }) ?? tls;
  if (credentials) {
    log.info(`authentication on: ${credentials.length} principals from ${flags.credentials}; `
      + (acls ? `ACLs from ${flags.acls} (default ${acls.defaultAllow ? 'allow' : 'deny'})` : 'no ACLs: every authenticated principal may do everything'));
  } else {
    log.warn('authentication is OFF (no --credentials): anyone who reaches this master can run commands on every agent');
  }
  if (tls) log.info(`mutual TLS on: certificate ${tls.files.tlsCert}, peers checked against ${tls.files.tlsCa}`);
  return {
    auth: new CallerAuth(credentials ? new Authenticator(credentials) : undefined, 'this master'),
    access: new Access(new Authorizer(acls, log)),
    ...(tls ? { tls } : {}),
    ...(etcdTls ? { etcdTls } : {}),
  };
}
