/**
 * Offer constraints through real processes: a master, two agents started
 * with `--attributes rack:r1` and `rack:r2`, and SDK frameworks. The
 * in-process cases (roles, hostname, UPDATE_FRAMEWORK) are in
 * test/unit/offer-constraints.test.ts.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { connectFramework, SubscribeError, type Framework, type FrameworkOptions, type Offer__Output } from '../../frameworks/sdk';
import { Cluster, waitFor, quiet } from '../harness';

let c: Cluster;
const frameworks: Framework[] = [];
afterEach(async () => {
  for (const fw of frameworks.splice(0)) fw.close();
  await c.teardown();
});

async function connect(master: string, o: Omit<FrameworkOptions, 'master'>): Promise<Framework> {
  const fw = await connectFramework({ master, logger: quiet, failoverTimeout: '10m', connectTimeout: '20s', ...o });
  frameworks.push(fw);
  return fw;
}

const rackOf = (o: Offer__Output): string => o.attributes.find((a) => a.name === 'rack')?.text ?? '(none)';

/** Records the rack of every offer, and declines each for `refuseSeconds`, so the agents circulate. */
function declineAll(fw: Framework, refuseSeconds: number): string[] {
  const racks: string[] = [];
  fw.on('offers', (offers) => {
    racks.push(...offers.map(rackOf));
    fw.decline(offers, { refuseSeconds });
  });
  return racks;
}

describe('offer constraints through real processes', () => {
  test('a framework constrained to rack r1 is never offered the r2 agent, while another framework is offered both', async () => {
    c = new Cluster();
    const master = await c.startMaster();
    await c.startAgent(master.address, { args: ['--attributes', 'rack:r1'] });
    await c.startAgent(master.address, { args: ['--attributes', 'rack:r2'] });
    const any = declineAll(await connect(master.address, { name: 'any' }), 1);
    await waitFor('the unconstrained framework offered both racks', () => any.includes('r1') && any.includes('r2'));

    const r1Only = declineAll(await connect(master.address, { name: 'r1-only', offerConstraints: { '*': [[{ attribute: 'rack', equals: 'r1' }]] } }), 1);
    // Each time `any` declines the r2 agent (1 s filter), the agent is free for `r1-only` to take,
    // had the allocator not kept it out: three such windows pass before the verdict.
    const before = any.filter((r) => r === 'r2').length;
    await waitFor('r1-only offered r1, and r2 declined by the other three more times', () =>
      r1Only.includes('r1') && any.filter((r) => r === 'r2').length >= before + 3, 30_000);
    assert.deepEqual([...new Set(r1Only)], ['r1']);
  });

  test('SUBSCRIBE with a bad regex or a role the framework does not hold is refused as INVALID', async () => {
    c = new Cluster();
    const master = await c.startMaster();
    await assert.rejects(connect(master.address, { name: 'bad-regex', offerConstraints: { '*': [[{ attribute: 'rack', matches: 'r(' }]] } }),
      (e: unknown) => e instanceof SubscribeError && e.kind === 'INVALID' && /regex "r\(" is invalid/.test(e.message));
    await assert.rejects(connect(master.address, { name: 'bad-role', roles: ['dev'], offerConstraints: { ops: [[{ attribute: 'rack', exists: true }]] } }),
      (e: unknown) => e instanceof SubscribeError && e.kind === 'INVALID' && /role "ops", which the framework does not hold/.test(e.message));
  });
});
