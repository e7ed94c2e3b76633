/**
 * Fairness and filters through the real master: weighted roles converge
 * to their weights' ratio of dominant shares; declined resources are kept
 * from the decliner for refuse_seconds but offered to others meanwhile.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { Cluster, op, ROOT, task, waitFor, type TestScheduler } from '../harness';

describe('weighted roles', () => {
  const c = new Cluster();
  after(() => c.teardown());

  test('two frameworks in roles of weight 1 and 3 converge to 1:3 dominant shares', async () => {
    const master = await c.startMaster();
    // Weights are set through the CLI, as an operator would.
    for (const [role, w] of [['light', '1'], ['heavy', '3']] as const) {
      const r = spawnSync(process.execPath, [path.join(ROOT, 'bin/mezz.mjs'), 'weights', 'set', role, w, '--master', master.address], { encoding: 'utf8', timeout: 30_000 });
      assert.equal(r.status, 0, r.stderr);
    }
    // 2 agents × 16 cpus = 32 cpus; tasks take 1 cpu (and little memory), so cpu is every share's dominant resource.
    await c.startAgent(master.address, { resources: 'cpus:16;mem:65536;disk:1000' });
    await c.startAgent(master.address, { resources: 'cpus:16;mem:65536;disk:1000' });
    const fws: Record<string, TestScheduler> = {};
    const launched: Record<string, number> = { light: 0, heavy: 0 };
    for (const role of ['light', 'heavy']) {
      const fw = (fws[role] = c.scheduler(master.address));
      await fw.subscribe({ name: role, roles: [role] });
    }
    // Each framework takes one task's worth of every offer and returns the rest at once,
    // so the allocator decides, offer by offer, who is furthest below its fair share.
    await waitFor('the cluster to fill up', () => {
      for (const role of ['light', 'heavy']) {
        const fw = fws[role]!;
        for (const o of fw.outstanding()) {
          const cpus = o.resources.find((r) => r.name === 'cpus')?.scalar ?? 0;
          if (cpus >= 1) {
            const id = `${role}-${launched[role]!++}`;
            fw.send({ accept: { offerIds: [o.id], operations: [{ launch: { taskInfos: [task(id, 'exec sleep 600', { cpus: 1, mem: 16 })] } }], filters: { refuseSeconds: 0 } } });
          } else fw.send({ decline: { offerIds: [o.id], filters: { refuseSeconds: 0 } } });
        }
      }
      return launched.light! + launched.heavy! >= 32;
    }, 60_000);
    // Expected: light/1 = heavy/3 with light + heavy = 32 → light 8, heavy 24 (shares 0.25 and 0.75).
    assert.ok(launched.light! >= 7 && launched.light! <= 9, `light got ${launched.light}, heavy ${launched.heavy}; want about 8:24`);
    const roles = await op<object, { roles: { name: string; weight: number; share: number }[] }>(c.operator(master.address), 'listRoles', {});
    const share = Object.fromEntries(roles.roles.map((r) => [r.name, r.share]));
    assert.equal(roles.roles.find((r) => r.name === 'heavy')?.weight, 3);
    const ratio = share.heavy! / share.light!;
    assert.ok(ratio > 2.4 && ratio < 3.8, `dominant shares ${JSON.stringify(share)}: ratio ${ratio.toFixed(2)}, want about 3`);
  });
});

describe('decline filters', () => {
  const c = new Cluster();
  after(() => c.teardown());

  test('declined resources are not re-offered to the decliner within refuse_seconds, but are offered to others', async () => {
    const master = await c.startMaster();
    await c.startAgent(master.address);
    const first = c.scheduler(master.address);
    await first.subscribe({ name: 'first' });
    const offer = (await first.waitEvent('an offer', (e) => !!e.offers?.offers.length)).offers!.offers[0]!;
    const second = c.scheduler(master.address);
    await second.subscribe({ name: 'second' });
    const declinedAt = Date.now();
    first.send({ decline: { offerIds: [offer.id], filters: { refuseSeconds: 4 } } });
    // The other framework gets the agent at once, and keeps getting it after short filters of its own.
    let seen = 0;
    await waitFor('second to be offered the agent three times', () => {
      const fresh = second.offers().slice(seen);
      seen += fresh.length;
      for (const o of fresh) second.send({ decline: { offerIds: [o.id], filters: { refuseSeconds: 0.2 } } });
      return seen >= 3;
    });
    const during = first.offers().filter((o) => o.id !== offer.id);
    assert.equal(during.length, 0, `first was re-offered within its filter: ${JSON.stringify(during)}`);
    assert.ok(Date.now() - declinedAt < 4000, 'the check ran inside the filter window');
    // Once second stops taking the agent (a long filter), first gets it back after its filter lapses.
    await waitFor('second to hold an offer', () => second.outstanding().length > 0);
    second.send({ decline: { offerIds: second.outstanding().map((o) => o.id), filters: { refuseSeconds: 60 } } });
    await first.waitEvent('first re-offered after refuse_seconds', (e) => !!e.offers?.offers.length, first.events.indexOf(first.events.find((e) => e.offers)!) + 1, 15_000);
    assert.ok(Date.now() - declinedAt >= 4000 - 50, 'first was re-offered only after 4 s');
  });
});

describe('offer timeout', () => {
  const c = new Cluster();
  after(() => c.teardown());

  test('an offer held longer than --offer-timeout is rescinded and offered again', async () => {
    const master = await c.startMaster({ args: ['--offer-timeout', '1'] });
    await c.startAgent(master.address);
    const hoarder = c.scheduler(master.address);
    await hoarder.subscribe({ name: 'hoarder' });
    const first = (await hoarder.waitEvent('an offer', (e) => !!e.offers?.offers.length)).offers!.offers[0]!;
    const heldFrom = Date.now();
    await hoarder.waitEvent(`RESCIND of ${first.id}`, (e) => e.rescind?.offerId === first.id, 0, 10_000);
    assert.ok(Date.now() - heldFrom >= 900, 'not before the timeout');
    // The resources come back in a new offer.
    await hoarder.waitEvent('a new offer', (e) => !!e.offers?.offers.some((o) => o.id !== first.id && o.agentId === first.agentId));
  });
});
