/**
 * Allocator benchmark, shaped like Mesos' HierarchicalAllocator_BENCHMARK_Test:
 * agents of cpus:24 mem:4096 disk:4096 ports:[31000-32000], each running 16
 * tasks (1 cpu each, mem 2014 and disk 1024 in all, 16 ports) of one
 * framework. Tasks are spread unevenly (agent x ∈ [0,1) runs framework
 * ⌊F·x²⌋'s tasks), so frameworks start with different shares.
 *
 * Figures:
 * - ms per allocation round: median of several rounds (each with its own
 *   seed), after warm-up rounds; the snapshot is built outside the timing.
 * - declining rounds: after every round each framework declines every
 *   proposal with a long filter; filters pile up and lapse when they expire.
 *   The filters are the master's own `DeclineFilters`, upkept as the master
 *   does: `expire(now)` before each round, `add` for each decline. The figure
 *   is median(last 10 rounds) / median(first 10 rounds) of allocate() alone,
 *   those rounds timed again alternately on the filters each saw (the
 *   consecutive run's own ratio is in the note: load drifts between its
 *   first and last rounds); the upkeep (expire + declines) is its own row.
 * - the same with filters that never lapse (Mesos' DeclineOffers), for scale.
 * - offer constraints in play, agents on racks `rack:r0`…`rack:r9`: (1) every
 *   framework constrained to `rack exists`, which every agent passes: the cost
 *   of the check itself; (2) every other framework takes only its own rack
 *   (`rack = r{i mod 10}`): each agent's walk then skips the constrained
 *   frameworks ahead of it in DRF order that want another rack, as it skips
 *   those that filtered it — O(skipped · log frameworks) per agent, like the
 *   permanent-filters row, and shown for scale.
 *
 *   node --import tsx bench/allocator.ts [--quick]
 */
import { performance } from 'node:perf_hooks';
import * as res from '../lib/resources';
import type { Resources } from '../lib/resources';
import { allocate, DeclineFilters, OfferConstraint, seededRng } from '../master/allocator';
import type { AllocatorAgent, AllocatorFramework, AllocatorSnapshot } from '../master/allocator';
import type { BenchRow } from './report';
import { formatTable } from './report';

export type { BenchRow } from './report';

const AGENT_TOTAL: Resources = res.make({ cpus: 24, mem: 4096, disk: 4096, ports: [{ begin: 31000, end: 32000 }] });

/** 16 tasks' worth: 1 cpu each, Mesos' mem:2014 and disk:1024 in all, one port each spread over the range. */
const TASKS_USED: Resources = res.make({
  cpus: 16,
  mem: 2014,
  disk: 1024,
  ports: Array.from({ length: 16 }, (_, i) => ({ begin: 31000 + i * 62, end: 31000 + i * 62 })),
});

const NOW = 1_700_000_000;

interface Fixture {
  snapshot: AllocatorSnapshot;
  /** The filters inside `snapshot`, for the declining rounds to add to. */
  filters: DeclineFilters;
}

const RACKS = 10;

/**
 * Offer constraints in a fixture: none; every framework wants agents with a
 * rack (all pass); or even-numbered frameworks want only their own rack.
 */
type Constrained = 'none' | 'all pass' | 'own rack';

/** `roles(i)` gives framework i's roles; default all in '*', as in Mesos' benchmark. */
function buildFixture(
  agentCount: number, frameworkCount: number, roles: (i: number) => string[] = () => ['*'], constrained: Constrained = 'none',
): Fixture {
  const free = res.subtract(AGENT_TOTAL, TASKS_USED);
  const agents: AllocatorAgent[] = [];
  const held = Array.from({ length: frameworkCount }, () => 0);
  for (let j = 0; j < agentCount; j++) {
    const agent: AllocatorAgent = { id: `agent-${j}`, free: res.clone(free), total: AGENT_TOTAL };
    if (constrained !== 'none') agent.profile = { hostname: `host-${j}`, attributes: new Map([['rack', `r${j % RACKS}`]]) };
    agents.push(agent);
    held[Math.floor(frameworkCount * (j / agentCount) ** 2)]!++;
  }
  const filters = new DeclineFilters();
  const frameworks: AllocatorFramework[] = held.map((agentsHeld, i) => {
    const fwRoles = roles(i);
    const mine: Resources = {
      cpus: TASKS_USED.cpus * agentsHeld,
      mem: TASKS_USED.mem * agentsHeld,
      disk: TASKS_USED.disk * agentsHeld,
      gpus: 0,
      ports: [],
    };
    const id = `framework-${String(i).padStart(5, '0')}`;
    const fw: AllocatorFramework = { id, roles: fwRoles, gpuCapable: false, suppressedRoles: new Set(), allocated: new Map([[fwRoles[0]!, mine]]) };
    const constraint = constrained === 'all pass' ? new OfferConstraint([[{ attribute: 'rack', exists: true }]])
      : constrained === 'own rack' && i % 2 === 0 ? new OfferConstraint([[{ attribute: 'rack', equals: `r${i % RACKS}` }]])
        : undefined;
    if (constraint) fw.offerConstraints = new Map(fwRoles.map((r) => [r, constraint]));
    return fw;
  });
  const total: Resources = {
    cpus: AGENT_TOTAL.cpus * agentCount,
    mem: AGENT_TOTAL.mem * agentCount,
    disk: AGENT_TOTAL.disk * agentCount,
    gpus: 0,
    ports: [],
  };
  return { snapshot: { agents, frameworks, weights: new Map(), filters, total }, filters };
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function timeRounds(snapshot: AllocatorSnapshot, rounds: number, warmup: number): { ms: number; proposals: number } {
  let proposals = 0;
  for (let i = 0; i < warmup; i++) allocate(snapshot, { now: NOW, rng: seededRng(1000 + i) });
  const times: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const rng = seededRng(i + 1);
    const t0 = performance.now();
    proposals = allocate(snapshot, { now: NOW, rng }).length;
    times.push(performance.now() - t0);
  }
  return { ms: median(times), proposals };
}

const fmtCount = (n: number): string => n.toLocaleString('en-US');

function roundRow(
  agents: number, frameworks: number, rounds: number, goal?: string, roles?: (i: number) => string[], label = '', constrained: Constrained = 'none',
): BenchRow {
  const { snapshot } = buildFixture(agents, frameworks, roles, constrained);
  // Warm up over at least 50,000 agent visits, so small rounds are not timed on cold code.
  const { ms, proposals } = timeRounds(snapshot, rounds, Math.max(2, Math.ceil(50_000 / agents)));
  return {
    name: `allocate ${fmtCount(agents)} agents × ${fmtCount(frameworks)} frameworks${label}`,
    value: ms,
    unit: 'ms/round',
    ...(goal ? { goal } : {}),
    note: `median of ${rounds}; ${fmtCount(proposals)} proposals`,
  };
}

/**
 * One declining run, as the master runs rounds: the clock advances 1 s per
 * round (the allocation interval); lapsed filters are expired, the round is
 * allocated, and every proposal is declined with a `refuseSeconds` filter.
 * `times` is allocate() alone; `upkeep` is the master's filter work around
 * it (expire, then the declines).
 */
/** The filters a round saw, to replay that round later. */
interface RoundState {
  round: number;
  filters: [string, string, number][];
}

/** Fractional, as the master's clock is (Date.now() / 1000): whole seconds run as small
 * integers, which the master never sees, and code warmed on those deoptimizes on others. */
const roundNow = (r: number): number => NOW + 0.25 + r;

function runDeclining(
  fixture: Fixture, rounds: number, refuseSeconds: number, keep: (r: number) => boolean = () => false,
): { times: number[]; upkeep: number[]; counts: number[]; kept: RoundState[] } {
  const { snapshot, filters } = fixture;
  const times: number[] = [];
  const upkeep: number[] = [];
  const counts: number[] = [];
  const kept: RoundState[] = [];
  for (let r = 0; r < rounds; r++) {
    const now = roundNow(r);
    const rng = seededRng(r + 1);
    const u0 = performance.now();
    filters.expire(now);
    const u1 = performance.now();
    if (keep(r)) kept.push({ round: r, filters: [...filters.entries()] });
    const t0 = performance.now();
    const proposals = allocate(snapshot, { now, rng });
    const t1 = performance.now();
    for (const p of proposals) filters.add(p.frameworkId, p.agentId, now + refuseSeconds);
    upkeep.push(u1 - u0 + (performance.now() - t1));
    times.push(t1 - t0);
    counts.push(proposals.length);
  }
  return { times, upkeep, counts, kept };
}

/**
 * Times the kept rounds again, first and last alternately, each on the
 * filters it saw (restored into the same DeclineFilters, outside the
 * timing): both sides then run under the same load, where the consecutive
 * run compares rounds seconds apart on a machine whose load drifts.
 * Returns the medians of the early and of the late rounds.
 */
function replay(fixture: Fixture, early: RoundState[], late: RoundState[], passes: number): { first: number; last: number } {
  const { snapshot, filters } = fixture;
  const times = { early: [] as number[], late: [] as number[] };
  const timeRound = (s: RoundState): number => {
    filters.expire(Infinity);
    for (const [f, a, until] of s.filters) filters.add(f, a, until);
    const t0 = performance.now();
    allocate(snapshot, { now: roundNow(s.round), rng: seededRng(s.round + 1) });
    return performance.now() - t0;
  };
  for (let p = 0; p < passes; p++) {
    for (let i = 0; i < Math.min(early.length, late.length); i++) {
      times.early.push(timeRound(early[i]!));
      times.late.push(timeRound(late[i]!));
    }
  }
  return { first: median(times.early), last: median(times.late) };
}

interface Declining {
  first: number;
  last: number;
  /** The first and last 10 rounds timed again, alternately (see `replay`). */
  replayed: { first: number; last: number };
  /** Median upkeep (expire + declines) over the last 10 rounds. */
  upkeep: number;
  counts: number[];
  live: number;
}

function declining(agents: number, frameworks: number, rounds: number, refuseSeconds: number): Declining {
  // Warm the JIT on the snapshot that is measured (filtered walks included), then expire
  // every filter to start again from none: slow first rounds would flatter the ratio. Cold
  // code is one cause; new objects after the warm-up are another (a second fixture, or a new
  // filters object in the snapshot, deoptimized the warmed allocate(): --trace-deopt says
  // "code dependencies"), and the first rounds then ran unoptimized.
  const fixture = buildFixture(agents, frameworks);
  runDeclining(fixture, Math.min(rounds, 100), refuseSeconds);
  fixture.filters.expire(Infinity);
  const { times, upkeep, counts, kept } = runDeclining(fixture, rounds, refuseSeconds, (r) => r < 10 || r >= rounds - 10);
  const live = fixture.filters.size;
  const replayed = replay(fixture, kept.slice(0, 10), kept.slice(-10), 5);
  return { first: median(times.slice(0, 10)), last: median(times.slice(-10)), replayed, upkeep: median(upkeep.slice(-10)), counts, live };
}

/**
 * Filters that lapse: with a filter of a quarter as many seconds as there are
 * frameworks, each agent is filtered by about a quarter of the frameworks at
 * steady state, so it always has someone left to go to. The ratio shows
 * whether rounds slow down as filters pile up.
 */
function decliningRows(agents: number, frameworks: number, rounds: number): BenchRow[] {
  const refuse = frameworks / 4;
  const { first, last, replayed, upkeep, counts, live } = declining(agents, frameworks, rounds, refuse);
  const name = `declining rounds, ${fmtCount(agents)} agents × ${fmtCount(frameworks)} frameworks, ${fmtCount(rounds)} rounds, ${refuse} s filters`;
  const perRound = counts[counts.length - 1]!;
  return [
    {
      name: `${name}: last/first`,
      value: replayed.last / replayed.first,
      unit: 'ratio',
      goal: '≤ 1.2',
      note: `first and last 10 rounds timed again alternately (5 passes): medians ${replayed.first.toFixed(2)} and ${replayed.last.toFixed(2)} ms; `
        + `in the consecutive run ${first.toFixed(2)} and ${last.toFixed(2)} ms (${(last / first).toFixed(2)}); ${fmtCount(live)} live filters at the end; ${counts[0]} then ${perRound} proposals per round`,
    },
    {
      name: `${name}: filter upkeep, last 10 rounds`,
      value: upkeep,
      unit: 'ms/round',
      note: `the master's expire(now) + recording the declines: ${fmtCount(perRound)} filters lapse and ${fmtCount(perRound)} are added per round, ${fmtCount(live)} in force`,
    },
  ];
}

/**
 * Mesos' DeclineOffers exactly: filters that never lapse. Once every framework
 * has declined every agent, nothing can be proposed and every agent's walk
 * visits every framework: the O(agents × frameworks) worst case, shown for
 * scale rather than held to a goal.
 */
function permanentRow(agents: number, frameworks: number): BenchRow {
  const rounds = frameworks + 20;
  const { first, last, counts } = declining(agents, frameworks, rounds, 1e9);
  return {
    name: `declining rounds, ${fmtCount(agents)} agents × ${fmtCount(frameworks)} frameworks, permanent filters: last 10 rounds`,
    value: last,
    unit: 'ms/round',
    note: `worst case, every agent filtered by every framework (${fmtCount(agents * frameworks)} checks/round); first 10 rounds ${first.toFixed(2)} ms; ${counts[0]} then ${counts[counts.length - 1]} proposals per round`,
  };
}

export async function benchAllocator(opts: { quick?: boolean } = {}): Promise<BenchRow[]> {
  const quick = opts.quick ?? false;
  const rounds = quick ? 5 : 11;
  const rows: BenchRow[] = [];
  const step = (label: string, make: () => BenchRow | BenchRow[]): void => {
    process.stderr.write(`allocator: ${label} ... `);
    const t0 = performance.now();
    const out = make();
    rows.push(...(Array.isArray(out) ? out : [out]));
    process.stderr.write(`${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
  };
  for (const agents of [1000, 10000]) {
    for (const frameworks of [100, 1000]) {
      const goal = agents === 10000 && frameworks === 1000 ? '≤ 50 ms' : undefined;
      step(`${agents} × ${frameworks}`, () => roundRow(agents, frameworks, rounds, goal));
    }
  }
  // The same size, frameworks spread over 4 × 5 roles two levels deep (team-t/svc-s).
  step('10000 × 1000, 20 roles', () =>
    roundRow(10000, 1000, rounds, undefined, (i) => [`team-${i % 4}/svc-${(i >> 2) % 5}`], ', 20 roles in 2 levels'),
  );
  step('50000 × 200', () => roundRow(50000, 200, quick ? 3 : 7, '≤ 200 ms'));
  if (quick) step('declining rounds 1000 × 100 × 200', () => decliningRows(1000, 100, 200));
  else step('declining rounds 2000 × 200 × 1000', () => decliningRows(2000, 200, 1000));
  step('declining rounds, permanent filters', () => permanentRow(1000, 100));
  // 10,000 × 1,000 again with offer constraints: the check's own cost, then frameworks that skip most agents.
  // Last, so the rows above run in the same order and heap state as before constraints existed.
  step('10000 × 1000, offer constraints all pass', () =>
    roundRow(10000, 1000, rounds, '≤ 50 ms', undefined, ', every framework constrained (rack exists; all pass)', 'all pass'),
  );
  step('10000 × 1000, half constrained to own rack', () =>
    roundRow(10000, 1000, rounds, undefined, undefined, ', half constrained to their own rack of 10', 'own rack'),
  );
  return rows;
}

const isMain = import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('bench/allocator.ts');
if (isMain) {
  benchAllocator({ quick: process.argv.includes('--quick') }).then((rows) => console.log(formatTable(rows)));
}
