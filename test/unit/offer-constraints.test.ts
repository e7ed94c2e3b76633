/**
 * Offer constraints: the allocator's evaluator (a table), the master's
 * validation of FrameworkInfo.offer_constraints, and the allocation round
 * in-process (test/fixtures/master-harness.ts) — a constrained framework is
 * offered only the agents that pass, another framework every agent.
 * Confirmed through real processes in test/integration/offer-constraints.test.ts.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import type { FrameworkInfo__Output, OfferConstraints } from '../../lib/proto';
import { type AgentProfile, type ConstraintTest, OfferConstraint, wholeValueRegex } from '../../master/allocator';
import { frameworkInfoProblems, MAX_OFFER_CONSTRAINT_GROUPS, MAX_OFFER_CONSTRAINT_REGEX } from '../../master/framework-info';
import { MasterHarness, type FrameworkConn } from '../fixtures/master-harness';

const agent = (hostname: string, attributes: Record<string, string>): AgentProfile =>
  ({ hostname, attributes: new Map(Object.entries(attributes)) });
const r1 = agent('node-1.dc', { rack: 'r1', zone: 'a' });
const r2 = agent('build-12', { rack: 'r2' });
const bare = agent('', {});

describe('OfferConstraint.admits', () => {
  const cases: { name: string; groups: ConstraintTest[][]; want: [AgentProfile, boolean][] }[] = [
    { name: 'equals', groups: [[{ attribute: 'rack', equals: 'r1' }]], want: [[r1, true], [r2, false], [bare, false]] },
    // A missing attribute passes the negations, as in Mesos.
    { name: 'not equals', groups: [[{ attribute: 'rack', notEquals: 'r1' }]], want: [[r1, false], [r2, true], [bare, true]] },
    { name: 'exists', groups: [[{ attribute: 'zone', exists: true }]], want: [[r1, true], [r2, false], [bare, false]] },
    { name: 'not exists', groups: [[{ attribute: 'zone', notExists: true }]], want: [[r1, false], [r2, true], [bare, true]] },
    { name: 'matches the whole value', groups: [[{ attribute: 'rack', matches: wholeValueRegex('r[12]') }]], want: [[r1, true], [r2, true], [bare, false]] },
    { name: 'a prefix is not a match', groups: [[{ attribute: 'rack', matches: wholeValueRegex('r') }]], want: [[r1, false], [r2, false]] },
    { name: 'not matches', groups: [[{ attribute: 'rack', notMatches: wholeValueRegex('r1') }]], want: [[r1, false], [r2, true], [bare, true]] },
    { name: 'hostname', groups: [[{ hostname: true, matches: wholeValueRegex('build-[0-9]+') }]], want: [[r1, false], [r2, true], [bare, false]] },
    { name: 'hostname equals', groups: [[{ hostname: true, equals: 'node-1.dc' }]], want: [[r1, true], [r2, false]] },
    // AND inside a group: r1 has a zone, r2 has none.
    {
      name: 'all of a group', groups: [[{ attribute: 'rack', exists: true }, { attribute: 'zone', notExists: true }]],
      want: [[r1, false], [r2, true], [bare, false]],
    },
    // OR across groups: rack r1, or a build host.
    {
      name: 'any group', groups: [[{ attribute: 'rack', equals: 'r1' }], [{ hostname: true, matches: wholeValueRegex('build-.*') }]],
      want: [[r1, true], [r2, true], [bare, false]],
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const constraint = new OfferConstraint(c.groups);
      for (const [a, want] of c.want) assert.equal(constraint.admits(a), want, `${a.hostname || '(bare)'}`);
    });
  }
});

const info = (o: Partial<FrameworkInfo__Output>): FrameworkInfo__Output =>
  ({ id: '', name: 'fw', user: '', roles: [], capabilities: [], hostname: '', labels: {}, ...o }) as FrameworkInfo__Output;
const rackIs = (rack: string): OfferConstraints => ({ groups: [{ constraints: [{ attribute: 'rack', textEquals: rack }] }] });

describe('frameworkInfoProblems: offer constraints', () => {
  const cases: { name: string; constraints: Record<string, OfferConstraints>; roles?: string[]; want: RegExp | undefined }[] = [
    { name: 'valid, default role', constraints: { '*': rackIs('r1') }, want: undefined },
    { name: 'valid, named role', constraints: { dev: rackIs('r1') }, roles: ['dev', 'ops'], want: undefined },
    { name: 'a role the framework does not hold', constraints: { ops: rackIs('r1') }, roles: ['dev'], want: /role "ops", which the framework does not hold \(its roles: dev\)/ },
    { name: 'no groups', constraints: { '*': { groups: [] } }, want: /role "\*" have no groups/ },
    { name: 'an empty group', constraints: { '*': { groups: [{ constraints: [] }] } }, want: /group 1 has no constraints/ },
    {
      name: 'too many groups', constraints: { '*': { groups: Array.from({ length: MAX_OFFER_CONSTRAINT_GROUPS + 1 }, () => rackIs('r1').groups![0]!) } },
      want: new RegExp(`have ${MAX_OFFER_CONSTRAINT_GROUPS + 1} groups; the limit is ${MAX_OFFER_CONSTRAINT_GROUPS}`),
    },
    { name: 'a bad regex', constraints: { '*': { groups: [{ constraints: [{ attribute: 'rack', textMatches: 'r(1' }] }] } }, want: /regex "r\(1" is invalid: Unterminated group/ },
    // Valid once wrapped in (?:…), so it must be compiled alone too.
    { name: 'a regex that only the wrapping would close', constraints: { '*': { groups: [{ constraints: [{ attribute: 'rack', textMatches: 'a)|(b' }] }] } }, want: /regex "a\)\|\(b" is invalid/ },
    {
      name: 'an over-long regex, not echoed', constraints: { '*': { groups: [{ constraints: [{ attribute: 'rack', textMatches: 'x'.repeat(5000) }] }] } },
      want: new RegExp(`regex is 5000 characters long; the limit is ${MAX_OFFER_CONSTRAINT_REGEX}$`),
    },
    { name: 'no selector', constraints: { '*': { groups: [{ constraints: [{ textEquals: 'r1' }] }] } }, want: /constraint 1: select an attribute/ },
    { name: 'no predicate', constraints: { '*': { groups: [{ constraints: [{ attribute: 'rack' }] }] } }, want: /constraint 1: no predicate/ },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const problems = frameworkInfoProblems(info({ roles: c.roles ?? [], offerConstraints: c.constraints as FrameworkInfo__Output['offerConstraints'] }));
      if (c.want === undefined) assert.deepEqual(problems, []);
      else {
        assert.equal(problems.length, 1, problems.join('\n'));
        assert.match(problems[0]!, c.want);
        assert.ok(problems[0]!.length < 400, 'the message stays short');
      }
    });
  }
});

let h: MasterHarness | undefined;
afterEach(() => {
  h?.stop();
  h = undefined;
});

const offeredAgents = (harness: MasterHarness, fw: FrameworkConn): string[] => harness.offersFor(fw).map((o) => o.agentId!).sort();

describe('the allocator offers a constrained framework only the agents that pass', () => {
  test('a framework constrained to rack r1 gets only r1 agents; another framework gets the rest', async () => {
    h = await MasterHarness.start();
    const a1 = await h.agent({ attributes: { rack: 'r1' } });
    const a2 = await h.agent({ attributes: { rack: 'r2' } });
    const a3 = await h.agent({ attributes: { rack: 'r1' } });
    const bare = await h.agent();
    const constrained = await h.framework({ name: 'r1-only', offerConstraints: { '*': rackIs('r1') } as FrameworkInfo__Output['offerConstraints'] });
    assert.deepEqual(offeredAgents(h, constrained), [a1.id, a3.id].sort());
    // The agents it was not offered stay free for a framework without constraints.
    const free = await h.framework({ name: 'any' });
    assert.deepEqual(offeredAgents(h, free), [a2.id, bare.id].sort());
  });

  test('an unconstrained framework alone is offered every agent', async () => {
    h = await MasterHarness.start();
    const agents = [await h.agent({ attributes: { rack: 'r1' } }), await h.agent({ attributes: { rack: 'r2' } }), await h.agent()];
    const fw = await h.framework();
    assert.deepEqual(offeredAgents(h, fw), agents.map((a) => a.id).sort());
  });

  test('constraints hold per role, and read the hostname', async () => {
    h = await MasterHarness.start();
    const build = await h.agent({ hostname: 'build-7' });
    await h.agent({ hostname: 'web-1' });
    const fw = await h.framework({
      roles: ['ci', 'web'],
      capabilities: ['MULTI_ROLE'],
      offerConstraints: {
        ci: { groups: [{ constraints: [{ hostname: true, textMatches: 'build-[0-9]+' }] }] },
        web: { groups: [{ constraints: [{ hostname: true, textEquals: 'nowhere' }] }] },
      } as FrameworkInfo__Output['offerConstraints'],
    });
    const offers = h.offersFor(fw);
    assert.deepEqual(offers.map((o) => [o.agentId, o.allocationRole]), [[build.id, 'ci']]);
  });

  test('UPDATE_FRAMEWORK replaces the constraints', async () => {
    h = await MasterHarness.start();
    await h.agent({ attributes: { rack: 'r1' } });
    const a2 = await h.agent({ attributes: { rack: 'r2' } });
    const fw = await h.framework({ offerConstraints: { '*': rackIs('r1') } as FrameworkInfo__Output['offerConstraints'] });
    assert.equal(offeredAgents(h, fw).length, 1);
    await h.call(fw, {
      call: 'updateFramework',
      updateFramework: { framework: info({ name: 'fw', offerConstraints: { '*': rackIs('r2') } as FrameworkInfo__Output['offerConstraints'] }) },
    } as never);
    // The update rescinded the r1 offer; the next round offers r2 alone.
    assert.deepEqual(offeredAgents(h, fw), [a2.id]);
  });
});

describe('SUBSCRIBE with bad offer constraints is refused as INVALID', () => {
  for (const [name, constraints, want] of [
    ['a bad regex', { '*': { groups: [{ constraints: [{ attribute: 'rack', textMatches: '[' }] }] } }, /regex "\[" is invalid/],
    ['an unknown role', { ops: rackIs('r1') }, /role "ops", which the framework does not hold/],
  ] as const) {
    test(name, async () => {
      h = await MasterHarness.start();
      await assert.rejects(h.framework({ offerConstraints: constraints as FrameworkInfo__Output['offerConstraints'] }), want);
      const sent = (h.master as unknown as { frameworks: Map<string, unknown> }).frameworks;
      assert.equal(sent.size, 0);
    });
  }
});
