/**
 * Where the masters are. Every client (agent, SDK, CLI) takes `--master`
 * as either a list of addresses (`a:5050,b:5050`) or an etcd endpoint that
 * the masters campaign on (`etcd://127.0.0.1:2379[,host:2379][/cluster]`),
 * from which the group is read: every candidate, the leader first. Clients
 * then follow "the leader is HOST:PORT" answers from standbys by themselves.
 * A client with TLS material reads etcd over https with its certificate
 * (an etcd that requires client certificates, as `mezz up --ha` starts).
 */
import { parseMasterList } from './address';
import type { TlsMaterial } from './auth/transport';
import { StoreError } from './errors';

const ETCD = /^etcd:\/\//i;

/** Parses a --master value; an etcd spec stays one element for `resolveMasters`. Throws on a malformed list. */
export function parseMasterSpec(text: string): string[] {
  const t = text.trim();
  if (ETCD.test(t)) {
    etcdSpec(t); // validate now, so a typo fails at the command line
    return [t];
  }
  return parseMasterList(t);
}

/** `etcd://h1:2379,h2:2379/prod` → endpoints (https when `secure`) and cluster name (default `mezzanine`). */
export function etcdSpec(spec: string, secure = false): { endpoints: string[]; cluster: string } {
  const rest = spec.trim().replace(ETCD, '');
  const slash = rest.indexOf('/');
  const hosts = slash < 0 ? rest : rest.slice(0, slash);
  const cluster = slash < 0 ? 'mezzanine' : rest.slice(slash + 1) || 'mezzanine';
  const endpoints = hosts.split(',').map((h) => h.trim()).filter(Boolean).map((h) => `${secure ? 'https' : 'http'}://${h}`);
  if (!endpoints.length || !/^[A-Za-z0-9_.-]+$/.test(cluster)) {
    throw new Error(`bad etcd master spec "${spec}": write etcd://HOST:PORT[,HOST:PORT][/CLUSTER]`);
  }
  return { endpoints, cluster };
}

/**
 * Expands etcd specs in `masters` into the masters campaigning there,
 * leader first; addresses pass through. With `tls`, etcd is read over https
 * with that certificate. Throws StoreError when etcd cannot be read or no
 * master campaigns there.
 */
export async function resolveMasters(masters: readonly string[], tls?: TlsMaterial): Promise<string[]> {
  const out: string[] = [];
  for (const m of masters) {
    if (!ETCD.test(m)) {
      out.push(m);
      continue;
    }
    const { endpoints, cluster } = etcdSpec(m, Boolean(tls));
    // Loaded on demand: clients given plain addresses never load the etcd client.
    const { EtcdElection } = await import('./election-etcd');
    const election = new EtcdElection({ endpoints, cluster, tls });
    try {
      const candidates = (await election.candidates?.()) ?? [];
      if (!candidates.length) throw new StoreError(`no master of cluster ${cluster} campaigns on etcd ${endpoints.join(',')}; start one with 'mezz-master --etcd ${endpoints.join(',')}'`);
      out.push(...candidates);
    } finally {
      await election.close();
    }
  }
  return [...new Set(out)];
}
