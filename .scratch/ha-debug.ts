import { startEtcd } from '../lib/etcd-process';
import { connectFramework } from '../frameworks/sdk';
import { Cluster, waitFor, op } from '../test/harness';
const c = new Cluster();
const etcd = await startEtcd({ dataDir: `${c.dir}/etcd` });
try {
  const ms = [];
  for (const n of ['m0', 'm1', 'm2']) ms.push(await c.startMaster({ name: n, args: ['--etcd', etcd.endpoint, '--lease-ttl', '2'] }));
  const list = ms.map((m) => m.address).join(',');
  const t0 = Date.now();
  const log = (l: string) => (...a: unknown[]) => console.log(((Date.now() - t0) / 1000).toFixed(2), l, ...a);
  const fw = await connectFramework({ master: list, name: 'dbg', logger: { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') } });
  fw.on('subscribed', (s) => console.log('subscribed', s.master, s.resubscribed));
  const li = await op<object, { leader: string }>(c.operator(ms[0]!.address), 'getLeader', {});
  console.log('leader', li.leader);
  const leader = ms.find((m) => m.address === li.leader)!;
  await leader.kill9();
  console.log(((Date.now() - t0) / 1000).toFixed(2), 'killed');
  await waitFor('resub', () => false, 15000).catch(() => undefined);
  for (const m of ms) if (m !== leader) console.log(m.name, m.output().split('\n').filter((l) => /leader|elected|framework/.test(l)).join('\n'));
  await fw.close();
} finally {
  await c.teardown();
  await etcd.stop();
}
