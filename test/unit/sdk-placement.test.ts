import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Offer, Resource, TaskInfo } from '../../lib/proto';
import {
  PlacementError,
  constraints,
  fitCount,
  gang,
  launchOperations,
  pack,
  spread,
  type PackResult,
  type TaskShape,
} from '../../frameworks/sdk';

interface Spec {
  cpus?: number;
  mem?: number;
  disk?: number;
  gpus?: number;
  ports?: [number, number][];
  agent?: string;
  attrs?: Record<string, string>;
  role?: string;
}

/** Fixture: an offer; its agent is `agent-<id>` on host `host-<id>` unless `agent` names another. */
function offer(id: string, r: Spec): Offer {
  const role = r.role ?? '*';
  const resources: Resource[] = [];
  for (const k of ['cpus', 'mem', 'disk', 'gpus'] as const) if (r[k]) resources.push({ name: k, scalar: r[k], role });
  if (r.ports) resources.push({ name: 'ports', ranges: r.ports.map(([begin, end]) => ({ begin, end })), role });
  const agent = r.agent ?? id;
  return {
    id, agentId: `agent-${agent}`, hostname: `host-${agent}`, resources,
    attributes: Object.entries(r.attrs ?? {}).map(([name, text]) => ({ name, text })),
  };
}

const makeTask = (i: number) => ({ taskId: `t${i}`, command: { value: 'true', shell: true } });

/** Tasks per offer id, for comparing with a hand-written expectation. */
function perOffer(plan: PackResult): Record<string, number> {
  return Object.fromEntries(plan.launches.map((l) => [l.offer.id, l.tasks.length]));
}

/** Reasons per offer id. */
function reasons(plan: PackResult): Record<string, string> {
  return Object.fromEntries(plan.refused.map((r) => [r.offer.id, r.reason]));
}

describe('fitCount', () => {
  const cases: { name: string; offer: Offer; shape: TaskShape; limit?: number; want: number }[] = [
    // cpus 4 / 1 = 4; mem 4096 / 512 = 8 → 4
    { name: 'cpu bound', offer: offer('a', { cpus: 4, mem: 4096 }), shape: { cpus: 1, mem: 512 }, want: 4 },
    // mem 1000 / 300 = 3.33 → 3
    { name: 'mem bound', offer: offer('a', { cpus: 8, mem: 1000 }), shape: { cpus: 0.5, mem: 300 }, want: 3 },
    // 0.3 / 0.1 is 2.9999999999999996 in floating point; pack's epsilon fits 3
    { name: 'floating point as pack counts it', offer: offer('a', { cpus: 0.3, mem: 100 }), shape: { cpus: 0.1 }, want: 3 },
    // disk 100 / 40 = 2.5 → 2
    { name: 'disk bound', offer: offer('a', { cpus: 8, mem: 8000, disk: 100 }), shape: { cpus: 1, disk: 40 }, want: 2 },
    // gpus 2 / 1 = 2
    { name: 'gpu bound', offer: offer('a', { cpus: 8, mem: 8000, gpus: 2 }), shape: { cpus: 1, gpus: 1 }, want: 2 },
    // ports 31000-31004 = 5 / 2 = 2.5 → 2
    { name: 'port bound', offer: offer('a', { cpus: 8, ports: [[31000, 31004]] }), shape: { cpus: 1, ports: 2 }, want: 2 },
    { name: 'gpus asked, none offered', offer: offer('a', { cpus: 8 }), shape: { cpus: 1, gpus: 1 }, want: 0 },
    { name: 'limit caps the count', offer: offer('a', { cpus: 100 }), shape: { cpus: 0.01 }, limit: 7, want: 7 },
    { name: 'a shape asking nothing fits limit times', offer: offer('a', { cpus: 1 }), shape: {}, limit: 5, want: 5 },
  ];
  for (const c of cases) it(c.name, () => assert.equal(fitCount(c.offer, c.shape, c.limit), c.want));

  it('counts roles together, as pack does', () => {
    const o: Offer = { ...offer('a', { cpus: 1, mem: 256, role: 'dev' }), resources: [...offer('a', { cpus: 1, mem: 256, role: 'dev' }).resources!, ...offer('a', { cpus: 1, mem: 256 }).resources!] };
    // dev 1 cpu + * 1 cpu = 2 / 0.5 = 4
    assert.equal(fitCount(o, { cpus: 0.5, mem: 64 }), 4);
    assert.equal(pack([o], 100, { cpus: 0.5, mem: 64 }, makeTask).launches[0]!.tasks.length, 4);
  });

  it('agrees with pack over a grid of shapes', () => {
    const o = offer('a', { cpus: 1.7, mem: 1000, disk: 333, ports: [[31000, 31010]] });
    for (const cpus of [0.1, 0.2, 0.3, 0.33, 0.5, 1]) {
      for (const mem of [0, 10, 99, 250]) {
        for (const ports of [0, 1, 3]) {
          const shape = { cpus, mem, ports };
          const packed = pack([o], 1000, shape, makeTask).launches[0]?.tasks.length ?? 0;
          assert.equal(fitCount(o, shape), packed, JSON.stringify(shape));
        }
      }
    }
  });
});

describe('pack with a where predicate', () => {
  const hosts = [offer('a', { cpus: 4 }), offer('b', { cpus: 4 }), offer('c', { cpus: 4 })];

  it('keeps its old signature and result', () => {
    const plan = pack(hosts, 5, { cpus: 2 }, makeTask);
    // a: 4 / 2 = 2, b: 2, c: 1 → 5
    assert.deepEqual(perOffer(plan), { a: 2, b: 2, c: 1 });
    assert.equal(plan.remaining, 0);
  });

  it('UNIQUE hostname: one task per host, and why the rest wait', () => {
    const plan = pack(hosts, 5, { cpus: 1 }, makeTask, { where: constraints([['hostname', 'UNIQUE']]) });
    assert.deepEqual(perOffer(plan), { a: 1, b: 1, c: 1 });
    assert.equal(plan.remaining, 2);
    assert.deepEqual(reasons(plan), {
      a: 'hostname:UNIQUE: hostname=host-a already has 1 task',
      b: 'hostname:UNIQUE: hostname=host-b already has 1 task',
      c: 'hostname:UNIQUE: hostname=host-c already has 1 task',
    });
  });

  it('counts the tasks already running', () => {
    const plan = pack(hosts, 3, { cpus: 1 }, makeTask, { where: constraints([['hostname', 'UNIQUE']]), placed: [hosts[1]!] });
    assert.deepEqual(perOffer(plan), { a: 1, c: 1 });
    assert.deepEqual(reasons(plan).b, 'hostname:UNIQUE: hostname=host-b already has 1 task');
  });

  it('GROUP_BY: offers refused in one pass are tried again', () => {
    const racks = [offer('a', { cpus: 8, attrs: { rack: 'r1' } }), offer('b', { cpus: 8, attrs: { rack: 'r2' } }), offer('c', { cpus: 8, attrs: { rack: 'r3' } })];
    const plan = pack(racks, 6, { cpus: 1 }, makeTask, { where: constraints([['rack', 'GROUP_BY', '3']]) });
    // pass 1: a 1, b 1, c 2 (all seen at 1 each lets c take a second); pass 2: a 1, b 1 → 2 + 2 + 2 = 6
    assert.deepEqual(perOffer(plan), { a: 2, b: 2, c: 2 });
    assert.equal(plan.remaining, 0);
    assert.deepEqual(plan.refused, []);
  });

  it('resources are the reason when the offer is too small, even if the constraint would refuse too', () => {
    const plan = pack([offer('a', { cpus: 0.5, attrs: { rack: 'r2' } })], 1, { cpus: 1 }, makeTask, { where: constraints([['rack', 'IS', 'r1']]) });
    assert.deepEqual(reasons(plan), { a: 'needs 1 cpus, 0.5 available' });
  });

  it('an offer that was not needed says so', () => {
    const plan = pack(hosts, 1, { cpus: 1 }, makeTask);
    assert.deepEqual(reasons(plan), { b: 'not needed: all 1 tasks were placed', c: 'not needed: all 1 tasks were placed' });
  });

  it('names every lacking resource, ports by count', () => {
    const plan = pack([offer('a', { cpus: 1, mem: 100, ports: [[31000, 31000]] })], 1, { cpus: 2, mem: 200, ports: 2 }, makeTask);
    assert.deepEqual(reasons(plan), { a: 'needs 2 cpus, 1 available; needs 200 mem, 100 available; needs 2 ports, 1 available' });
  });
});

describe('spread', () => {
  const racks = [
    offer('a1', { cpus: 8, attrs: { rack: 'r1' } }),
    offer('a2', { cpus: 8, attrs: { rack: 'r1' } }),
    offer('b1', { cpus: 8, attrs: { rack: 'r2' } }),
    offer('c1', { cpus: 1, attrs: { rack: 'r3' } }),
    offer('x', { cpus: 8 }),
  ];

  it('evens tasks over the values of the attribute', () => {
    const plan = spread(racks, 7, { cpus: 1 }, makeTask, { by: 'rack' });
    // round 1: r1 (a1), r2 (b1), r3 (c1, now full); then r1 and r2 alternate: r1 3, r2 3, r3 1 = 7
    assert.deepEqual(perOffer(plan), { a1: 3, b1: 3, c1: 1 });
    assert.equal(plan.remaining, 0);
    assert.deepEqual(reasons(plan), { a2: 'not needed: all 7 tasks were placed', x: 'spread by rack: agent has no attribute rack' });
  });

  it('starts from the tasks already running', () => {
    // r1 already has 2: r2 and r3 go first; r3 has room for 1 → r2 gets the second task
    const plan = spread(racks, 2, { cpus: 1 }, makeTask, { by: 'rack', placed: [racks[0]!, racks[1]!] });
    assert.deepEqual(perOffer(plan), { b1: 1, c1: 1 });
  });

  it('by hostname, with a constraint', () => {
    const plan = spread(racks, 10, { cpus: 1 }, makeTask, { by: 'hostname', where: constraints([['hostname', 'MAX_PER', '2']]) });
    // five hosts, at most 2 each; c1 has 1 cpu → 2 + 2 + 2 + 1 + 2 = 9, 1 remains
    assert.deepEqual(perOffer(plan), { a1: 2, a2: 2, b1: 2, c1: 1, x: 2 });
    assert.equal(plan.remaining, 1);
    assert.equal(reasons(plan).c1, 'needs 1 cpus, 0 available');
    assert.equal(reasons(plan).a1, 'hostname:MAX_PER:2: hostname=host-a1 already has 2 tasks');
  });

  it('numbers tasks in the order placed', () => {
    const plan = spread(racks, 3, { cpus: 1 }, makeTask, { by: 'rack' });
    assert.deepEqual(plan.launches.map((l) => [l.offer.id, l.tasks.map((t) => t.taskId)]), [['a1', ['t0']], ['b1', ['t1']], ['c1', ['t2']]]);
  });
});

describe('gang', () => {
  const four = Array.from({ length: 4 }, () => ({ cpus: 1, mem: 128 }));

  it('fits on the first agent with room for all', () => {
    const offers = [offer('a', { cpus: 2, mem: 1024 }), offer('b', { cpus: 4, mem: 1024 })];
    const g = gang(offers, four, makeTask);
    assert.ok(g.ok);
    assert.equal(g.agentId, 'agent-b');
    assert.deepEqual(g.tasks.map((t) => [t.taskId, t.agentId]), [['t0', 'agent-b'], ['t1', 'agent-b'], ['t2', 'agent-b'], ['t3', 'agent-b']]);
    assert.deepEqual(g.unused.map((o) => o.id), ['a']);
  });

  it('combines the offers of one agent', () => {
    // agent a: 2 + 2 = 4 cpus in two offers, one ACCEPT may use both
    const offers = [offer('a1', { cpus: 2, mem: 512, agent: 'a' }), offer('b', { cpus: 3, mem: 1024 }), offer('a2', { cpus: 2, mem: 512, agent: 'a' })];
    const g = gang(offers, four, makeTask);
    assert.ok(g.ok);
    assert.deepEqual(g.offers.map((o) => o.id), ['a1', 'a2']);
    assert.deepEqual(g.unused.map((o) => o.id), ['b']);
    const cpus = g.tasks.flatMap((t) => t.resources ?? []).filter((r) => r.name === 'cpus').reduce((n, r) => n + Number(r.scalar), 0);
    assert.equal(cpus, 4);
  });

  it('mixed shapes: a coordinator and workers', () => {
    const g = gang([offer('a', { cpus: 3, mem: 2048, ports: [[31000, 31001]] })], [{ cpus: 1, mem: 1024, ports: 1 }, { cpus: 1, mem: 512 }, { cpus: 1, mem: 512 }], makeTask);
    assert.ok(g.ok);
    assert.equal(g.tasks.length, 3);
  });

  it('nothing fits: nothing placed, and why, per agent', () => {
    const offers = [offer('a', { cpus: 2, mem: 1024 }), offer('b', { cpus: 3, mem: 256 })];
    const g = gang(offers, four, makeTask);
    assert.ok(!g.ok);
    // a: 2 cpus hold tasks 1 and 2; b: 256 mem hold tasks 1 and 2 (2 × 128)
    assert.equal(g.reason, 'no agent has room for all 4 tasks of the gang: ' +
      'agent agent-a (host-a): task 3 of 4: needs 1 cpus, 0 available; ' +
      'agent agent-b (host-b): task 3 of 4: needs 128 mem, 0 available');
    assert.deepEqual(g.unused.map((o) => o.id), ['a', 'b']);
  });

  it('no offers at all', () => {
    const g = gang([], four, makeTask);
    assert.ok(!g.ok);
    assert.equal(g.reason, 'no agent has room for all 4 tasks of the gang: no offers');
  });

  it('respects where, e.g. a rack', () => {
    const offers = [offer('a', { cpus: 8, mem: 8192, attrs: { rack: 'r1' } }), offer('b', { cpus: 8, mem: 8192, attrs: { rack: 'r2' } })];
    const g = gang(offers, four, makeTask, { where: constraints([['rack', 'IS', 'r2']]) });
    assert.ok(g.ok);
    assert.equal(g.agentId, 'agent-b');
  });

  it('an empty gang is a bug', () => {
    assert.throws(() => gang([offer('a', { cpus: 1 })], [], makeTask), PlacementError);
  });
});

describe('launchOperations', () => {
  const t = (id: string, agentId = 'agent-a'): TaskInfo => ({ taskId: id, agentId, command: { value: 'true' } });

  it('one LAUNCH, then one LAUNCH_GROUP per group', () => {
    assert.deepEqual(launchOperations({ tasks: [t('s1'), t('s2')], groups: [[t('g1'), t('g2')], [t('h1')]] }), [
      { launch: { taskInfos: [t('s1'), t('s2')] } },
      { launchGroup: { taskInfos: [t('g1'), t('g2')] } },
      { launchGroup: { taskInfos: [t('h1')] } },
    ]);
  });

  it('groups alone, or tasks alone', () => {
    assert.deepEqual(launchOperations({ groups: [[t('g1')]] }), [{ launchGroup: { taskInfos: [t('g1')] } }]);
    assert.deepEqual(launchOperations({ tasks: [t('s1')] }), [{ launch: { taskInfos: [t('s1')] } }]);
  });

  const bad: { name: string; plan: Parameters<typeof launchOperations>[0]; want: RegExp }[] = [
    { name: 'nothing', plan: {}, want: /nothing to launch/ },
    { name: 'an empty group', plan: { tasks: [t('s1')], groups: [[]] }, want: /group 0 has no tasks/ },
    { name: 'two agents', plan: { tasks: [t('s1')], groups: [[t('g1', 'agent-b')]] }, want: /tasks name 2 agents \(agent-a, agent-b\); one ACCEPT launches on one agent/ },
  ];
  for (const c of bad) it(`refuses ${c.name}`, () => assert.throws(() => launchOperations(c.plan), (e: Error) => e instanceof PlacementError && c.want.test(e.message)));
});
