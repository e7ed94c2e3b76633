import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Offer, Resource } from '../../lib/proto';
import { offerResources, pack, taskInfo, type TaskShape } from '../../frameworks/sdk/match';

/** Fixture: an offer of unreserved resources (ports as [begin, end] pairs). */
function offer(id: string, r: { cpus?: number; mem?: number; disk?: number; gpus?: number; ports?: [number, number][] }, role = '*'): Offer {
  const resources: Resource[] = [];
  for (const k of ['cpus', 'mem', 'disk', 'gpus'] as const) if (r[k]) resources.push({ name: k, scalar: r[k], role });
  if (r.ports) resources.push({ name: 'ports', ranges: r.ports.map(([begin, end]) => ({ begin, end })), role });
  return { id, agentId: `agent-${id}`, hostname: `host-${id}`, resources };
}

const makeTask = (i: number) => ({ taskId: `t${i}`, command: { value: 'true', shell: true } });

describe('pack', () => {
  const cases: { name: string; offers: Offer[]; count: number; shape: TaskShape; want: { perOffer: Record<string, number>; remaining: number; unused: string[] } }[] = [
    {
      name: 'cpu bound',
      // cpus 1 / 0.25 = 4; mem 1024 / 128 = 8 → 4 fit, 10 - 4 = 6 remain
      offers: [offer('a', { cpus: 1, mem: 1024 })], count: 10, shape: { cpus: 0.25, mem: 128 },
      want: { perOffer: { a: 4 }, remaining: 6, unused: [] },
    },
    {
      name: 'mem bound',
      // cpus 4 / 0.1 = 40; mem 100 / 32 = 3.125 → 3
      offers: [offer('a', { cpus: 4, mem: 100 })], count: 10, shape: { cpus: 0.1, mem: 32 },
      want: { perOffer: { a: 3 }, remaining: 7, unused: [] },
    },
    {
      name: 'ten 0.1-cpu tasks fill exactly one cpu despite floating point',
      // 1 / 0.1 = 10 (repeated subtraction leaves ~1e-16, within epsilon); 20 - 10 = 10 remain
      offers: [offer('a', { cpus: 1, mem: 1000 })], count: 20, shape: { cpus: 0.1, mem: 10 },
      want: { perOffer: { a: 10 }, remaining: 10, unused: [] },
    },
    {
      name: 'fills offers in order and stops at count',
      // a: 2 / 1 = 2 → placed 2; b: 1 more reaches count 3; c untouched
      offers: [offer('a', { cpus: 2 }), offer('b', { cpus: 2 }), offer('c', { cpus: 2 })], count: 3, shape: { cpus: 1 },
      want: { perOffer: { a: 2, b: 1 }, remaining: 0, unused: ['c'] },
    },
    {
      name: 'offer too small for even one task is unused',
      // 0.05 < 0.1 → 0 fit; b: 0.3 / 0.1 = 3 → 3 of 5, 2 remain
      offers: [offer('a', { cpus: 0.05, mem: 512 }), offer('b', { cpus: 0.3, mem: 512 })], count: 5, shape: { cpus: 0.1, mem: 32 },
      want: { perOffer: { b: 3 }, remaining: 2, unused: ['a'] },
    },
    {
      name: 'ports bound',
      // 5 ports / 2 per task = 2 (cpus 10 / 1 = 10)
      offers: [offer('a', { cpus: 10, ports: [[31000, 31004]] })], count: 4, shape: { cpus: 1, ports: 2 },
      want: { perOffer: { a: 2 }, remaining: 2, unused: [] },
    },
    {
      name: 'gpus bound',
      // gpus 2 / 1 = 2; cpus 8 / 1 = 8 → 2
      offers: [offer('a', { cpus: 8, mem: 4096, gpus: 2 })], count: 3, shape: { cpus: 1, gpus: 1 },
      want: { perOffer: { a: 2 }, remaining: 1, unused: [] },
    },
    {
      name: 'disk bound',
      // disk 1000 / 300 = 3.33 → 3
      offers: [offer('a', { cpus: 8, disk: 1000 })], count: 5, shape: { cpus: 0.5, disk: 300 },
      want: { perOffer: { a: 3 }, remaining: 2, unused: [] },
    },
    {
      name: 'count 0 places nothing',
      offers: [offer('a', { cpus: 8 })], count: 0, shape: { cpus: 1 },
      want: { perOffer: {}, remaining: 0, unused: ['a'] },
    },
    {
      name: 'no offers',
      offers: [], count: 2, shape: { cpus: 1 },
      want: { perOffer: {}, remaining: 2, unused: [] },
    },
  ];

  for (const c of cases) {
    it(c.name, () => {
      const got = pack(c.offers, c.count, c.shape, makeTask);
      const perOffer = Object.fromEntries(got.launches.map((l) => [l.offer.id, l.tasks.length]));
      assert.deepEqual(perOffer, c.want.perOffer);
      assert.equal(got.remaining, c.want.remaining);
      assert.deepEqual(got.unused.map((o) => o.id), c.want.unused);
    });
  }

  it('numbers tasks across offers and fills in agent, name and resources', () => {
    const got = pack([offer('a', { cpus: 1, mem: 64 }), offer('b', { cpus: 1, mem: 64 })], 2, { cpus: 1, mem: 64 }, makeTask);
    const tasks = got.launches.flatMap((l) => l.tasks);
    assert.deepEqual(tasks.map((t) => [t.taskId, t.name, t.agentId]), [['t0', 't0', 'agent-a'], ['t1', 't1', 'agent-b']]);
    assert.deepEqual(tasks[0]!.resources, [{ name: 'cpus', scalar: 1, role: '*' }, { name: 'mem', scalar: 64, role: '*' }]);
  });

  it('assigns distinct concrete ports, lowest first, across ranges', () => {
    const seen: number[][] = [];
    // ranges hold 2 + 3 = 5 ports; 2 per task → 2 tasks: [100,101] then [200,201]
    const got = pack([offer('a', { cpus: 4, ports: [[100, 101], [200, 202]] })], 3, { cpus: 1, ports: 2 }, (i, _o, ports) => {
      seen.push(ports);
      return { taskId: `t${i}`, command: { value: `serve --port ${ports[0]}` } };
    });
    assert.deepEqual(seen, [[100, 101], [200, 201]]);
    assert.equal(got.remaining, 1);
    const portsOf = (i: number) => got.launches[0]!.tasks[i]!.resources!.find((r) => r.name === 'ports')!.ranges;
    assert.deepEqual(portsOf(0), [{ begin: 100, end: 101 }]);
    assert.deepEqual(portsOf(1), [{ begin: 200, end: 201 }]);
  });

  it('takes exactly the ports a shape names, in the order named, across ranges and roles', () => {
    const seen: number[][] = [];
    const o: Offer = {
      id: 'a', agentId: 'agent-a',
      resources: [{ name: 'cpus', scalar: 4, role: '*' }, { name: 'ports', ranges: [{ begin: 100, end: 110 }], role: '*' }, { name: 'ports', ranges: [{ begin: 8080, end: 8080 }], role: 'dev' }],
    };
    const got = pack([o], 2, { cpus: 1, ports: [8080, 105] }, (i, _o, ports) => {
      seen.push(ports);
      return { taskId: `t${i}`, command: { value: 'true' } };
    });
    // One task only: the second would need 8080 and 105 again, which the first holds.
    assert.deepEqual(seen, [[8080, 105]]);
    assert.equal(got.remaining, 1);
    const ports = got.launches[0]!.tasks[0]!.resources!.filter((r) => r.name === 'ports');
    assert.deepEqual(ports, [{ name: 'ports', ranges: [{ begin: 8080, end: 8080 }], role: 'dev' }, { name: 'ports', ranges: [{ begin: 105, end: 105 }], role: '*' }]);
    assert.deepEqual(got.refused.map((r) => r.reason), ['needs ports 8080, 105, not offered']);
  });

  it('refuses an offer without every exact port, naming the missing ones', () => {
    const got = pack([offer('a', { cpus: 4, ports: [[31000, 31999]] })], 1, { cpus: 1, ports: [31500, 80] }, makeTask);
    assert.equal(got.remaining, 1);
    assert.deepEqual(got.refused.map((r) => r.reason), ['needs port 80, not offered']);
  });

  it('refuses a shape naming a port twice or a non-port, before placing anything', () => {
    const offers = [offer('a', { cpus: 4, ports: [[1, 65535]] })];
    assert.throws(() => pack(offers, 1, { cpus: 1, ports: [80, 80] }, makeTask), { name: 'PlacementError', message: 'shape.ports[1]: port 80 is asked for twice' });
    assert.throws(() => pack(offers, 1, { cpus: 1, ports: [70000] }, makeTask), { name: 'PlacementError', message: /shape\.ports\[0\]: 70000 is not a port/ });
  });

  it('draws on reserved resources before unreserved ones, keeping their role', () => {
    const o: Offer = { id: 'a', agentId: 'agent-a', resources: [{ name: 'cpus', scalar: 2, role: '*' }, { name: 'cpus', scalar: 1, role: 'dev' }] };
    // 3 cpus / 1.5 = 2 tasks: first takes dev 1 + * 0.5, second * 1.5
    const got = pack([o], 5, { cpus: 1.5 }, makeTask);
    const [t0, t1] = got.launches[0]!.tasks;
    assert.deepEqual(t0!.resources, [{ name: 'cpus', scalar: 1, role: 'dev' }, { name: 'cpus', scalar: 0.5, role: '*' }]);
    assert.deepEqual(t1!.resources, [{ name: 'cpus', scalar: 1.5, role: '*' }]);
    assert.equal(got.remaining, 3);
  });
});

describe('offerResources', () => {
  it('sums every role into one bag', () => {
    const o: Offer = { id: 'a', resources: [{ name: 'cpus', scalar: 2, role: '*' }, { name: 'cpus', scalar: 1, role: 'dev' }, { name: 'ports', ranges: [{ begin: 5, end: 6 }] }] };
    assert.deepEqual(offerResources(o), { cpus: 3, mem: 0, disk: 0, gpus: 0, ports: [{ begin: 5, end: 6 }] });
  });
});

describe('taskInfo', () => {
  it('builds a shell command task with environment and wire resources', () => {
    const t = taskInfo({ taskId: 't1', agentId: 'a1', resources: { cpus: 0.5, mem: 32 }, command: 'echo $GREETING', env: { GREETING: 'hi' } });
    assert.deepEqual(t, {
      taskId: 't1', name: 't1', agentId: 'a1',
      resources: [{ name: 'cpus', scalar: 0.5, role: '*' }, { name: 'mem', scalar: 32, role: '*' }],
      command: { value: 'echo $GREETING', shell: true, environment: { GREETING: 'hi' } },
      labels: {}, killGraceSeconds: 0,
    });
  });
});

describe('pack arithmetic', () => {
  it('asks for exactly the shape, even for the last task of a floating-point fill', () => {
    const got = pack([offer('a', { cpus: 1 })], 10, { cpus: 0.1 }, makeTask);
    const cpus = got.launches[0]!.tasks.map((t) => t.resources![0]!.scalar);
    assert.deepEqual(cpus, Array(10).fill(0.1));
  });
});
