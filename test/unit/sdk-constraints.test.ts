import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Offer } from '../../lib/proto';
import {
  ConstraintError,
  attributeEquals,
  attributeExists,
  attributeMatches,
  constraints,
  parseConstraint,
  type Placed,
  type Verdict,
} from '../../frameworks/sdk';

/** Fixture: an agent (offer or placed task) on `host` with text attributes. */
function agent(host: string, attrs: Record<string, string> = {}): Offer {
  return { id: `o-${host}`, agentId: `a-${host}`, hostname: host, attributes: Object.entries(attrs).map(([name, text]) => ({ name, text })), resources: [] };
}

/** `n` tasks placed on `host` with `attrs`. */
function on(n: number, host: string, attrs: Record<string, string> = {}): Placed[] {
  return Array.from({ length: n }, () => agent(host, attrs));
}

const OK: Verdict = { ok: true };
const no = (reason: string): Verdict => ({ ok: false, reason });

describe('constraints: each operator', () => {
  const cases: { name: string; spec: unknown; offer: Offer; placed?: Placed[]; want: Verdict }[] = [
    // UNIQUE
    { name: 'UNIQUE hostname, nothing placed', spec: ['hostname', 'UNIQUE'], offer: agent('h1'), want: OK },
    { name: 'UNIQUE hostname, other host placed', spec: ['hostname', 'UNIQUE'], offer: agent('h1'), placed: on(1, 'h2'), want: OK },
    { name: 'UNIQUE hostname, same host placed', spec: ['hostname', 'UNIQUE'], offer: agent('h1'), placed: on(1, 'h1'), want: no('hostname:UNIQUE: hostname=h1 already has 1 task') },
    { name: 'UNIQUE @hostname is hostname', spec: ['@hostname', 'UNIQUE'], offer: agent('h1'), placed: on(2, 'h1'), want: no('@hostname:UNIQUE: @hostname=h1 already has 2 tasks') },
    { name: 'UNIQUE attribute', spec: ['rack', 'UNIQUE'], offer: agent('h1', { rack: 'r1' }), placed: on(1, 'h2', { rack: 'r1' }), want: no('rack:UNIQUE: rack=r1 already has 1 task') },
    { name: 'UNIQUE: no such attribute refuses', spec: ['rack', 'UNIQUE'], offer: agent('h1'), want: no('rack:UNIQUE: agent has no attribute rack') },
    { name: 'UNIQUE: empty value is no value', spec: ['hostname', 'UNIQUE', ''], offer: agent('h1'), want: OK },
    // CLUSTER
    { name: 'CLUSTER value matches', spec: ['rack', 'CLUSTER', 'r1'], offer: agent('h1', { rack: 'r1' }), want: OK },
    { name: 'CLUSTER value differs', spec: ['rack', 'CLUSTER', 'r1'], offer: agent('h1', { rack: 'r2' }), want: no('rack:CLUSTER:r1: rack=r2, tasks run on rack=r1') },
    { name: 'CLUSTER hostname pins to a node', spec: ['hostname', 'CLUSTER', 'h2'], offer: agent('h1'), want: no('hostname:CLUSTER:h2: hostname=h1, tasks run on hostname=h2') },
    { name: 'CLUSTER without value, nothing placed: any', spec: ['rack', 'CLUSTER'], offer: agent('h1', { rack: 'r9' }), want: OK },
    { name: 'CLUSTER without value follows the placed', spec: ['rack', 'CLUSTER'], offer: agent('h1', { rack: 'r2' }), placed: on(1, 'h0', { rack: 'r1' }), want: no('rack:CLUSTER: rack=r2, tasks run on rack=r1') },
    { name: 'CLUSTER: no such attribute', spec: ['rack', 'CLUSTER', 'r1'], offer: agent('h1'), want: no('rack:CLUSTER:r1: agent has no attribute rack') },
    // IS (and Metronome's EQ)
    { name: 'IS equal', spec: ['rack', 'IS', 'r1'], offer: agent('h1', { rack: 'r1' }), want: OK },
    { name: 'IS is exact, not a prefix', spec: ['rack', 'IS', 'r1'], offer: agent('h1', { rack: 'r10' }), want: no('rack:IS:r1: rack=r10') },
    { name: 'EQ reads as IS', spec: ['rack', 'EQ', 'r1'], offer: agent('h1', { rack: 'r2' }), want: no('rack:IS:r1: rack=r2') },
    { name: 'Metronome object form', spec: { attribute: 'rack', operator: 'IS', value: 'r1' }, offer: agent('h1', { rack: 'r1' }), want: OK },
    { name: 'IS: no such attribute', spec: ['rack', 'IS', 'r1'], offer: agent('h1'), want: no('rack:IS:r1: agent has no attribute rack') },
    // LIKE / UNLIKE: anchored at both ends
    { name: 'LIKE matches the whole value', spec: ['rack', 'LIKE', 'r[12]'], offer: agent('h1', { rack: 'r2' }), want: OK },
    { name: 'LIKE is anchored at the end', spec: ['rack', 'LIKE', 'r1'], offer: agent('h1', { rack: 'r10' }), want: no('rack:LIKE:r1: rack=r10 does not match') },
    { name: 'LIKE is anchored at the start', spec: ['rack', 'LIKE', '1'], offer: agent('h1', { rack: 'r1' }), want: no('rack:LIKE:1: rack=r1 does not match') },
    { name: 'LIKE alternation stays anchored', spec: ['rack', 'LIKE', 'a|b'], offer: agent('h1', { rack: 'ab' }), want: no('rack:LIKE:a|b: rack=ab does not match') },
    { name: 'LIKE on hostname', spec: ['hostname', 'LIKE', 'gpu-.*'], offer: agent('gpu-3'), want: OK },
    { name: 'LIKE: no such attribute refuses', spec: ['rack', 'LIKE', '.*'], offer: agent('h1'), want: no('rack:LIKE:.*: agent has no attribute rack') },
    { name: 'UNLIKE refuses a match', spec: ['rack', 'UNLIKE', 'r[12]'], offer: agent('h1', { rack: 'r1' }), want: no('rack:UNLIKE:r[12]: rack=r1 matches') },
    { name: 'UNLIKE is anchored', spec: ['rack', 'UNLIKE', 'r1'], offer: agent('h1', { rack: 'r10' }), want: OK },
    { name: 'UNLIKE: no such attribute accepts', spec: ['rack', 'UNLIKE', 'r1'], offer: agent('h1'), want: OK },
    // MAX_PER
    { name: 'MAX_PER below the limit', spec: ['rack', 'MAX_PER', '2'], offer: agent('h1', { rack: 'r1' }), placed: on(1, 'h0', { rack: 'r1' }), want: OK },
    { name: 'MAX_PER at the limit', spec: ['rack', 'MAX_PER', '2'], offer: agent('h1', { rack: 'r1' }), placed: [...on(2, 'h0', { rack: 'r1' }), ...on(5, 'h9', { rack: 'r2' })], want: no('rack:MAX_PER:2: rack=r1 already has 2 tasks') },
    { name: 'MAX_PER ignores placed tasks without the field', spec: ['rack', 'MAX_PER', '1'], offer: agent('h1', { rack: 'r1' }), placed: on(3, 'h0'), want: OK },
    { name: 'MAX_PER hostname', spec: ['hostname', 'MAX_PER', '1'], offer: agent('h1'), placed: on(1, 'h1'), want: no('hostname:MAX_PER:1: hostname=h1 already has 1 task') },
    // GROUP_BY with a value: unseen values count as empty
    // r1 has 2, r2 1, 3 racks expected → 1 rack has none: only a new rack may take a task
    { name: 'GROUP_BY 3: a new value is accepted', spec: ['rack', 'GROUP_BY', '3'], offer: agent('h3', { rack: 'r3' }), placed: [...on(2, 'h1', { rack: 'r1' }), ...on(1, 'h2', { rack: 'r2' })], want: OK },
    { name: 'GROUP_BY 3: a seen value waits for the unseen', spec: ['rack', 'GROUP_BY', '3'], offer: agent('h2', { rack: 'r2' }), placed: [...on(2, 'h1', { rack: 'r1' }), ...on(1, 'h2', { rack: 'r2' })], want: no('rack:GROUP_BY:3: rack=r2 already has 1 task, 1 of 3 rack values have none yet') },
    { name: 'GROUP_BY 2: the emptiest value is accepted', spec: ['rack', 'GROUP_BY', '2'], offer: agent('h2', { rack: 'r2' }), placed: [...on(2, 'h1', { rack: 'r1' }), ...on(1, 'h2', { rack: 'r2' })], want: OK },
    { name: 'GROUP_BY 2: a fuller value is refused', spec: ['rack', 'GROUP_BY', '2'], offer: agent('h1', { rack: 'r1' }), placed: [...on(2, 'h1', { rack: 'r1' }), ...on(1, 'h2', { rack: 'r2' })], want: no('rack:GROUP_BY:2: rack=r1 already has 2 tasks, rack=r2 has 1') },
    { name: 'GROUP_BY 2: equal counts accept either', spec: ['rack', 'GROUP_BY', '2'], offer: agent('h1', { rack: 'r1' }), placed: [...on(1, 'h1', { rack: 'r1' }), ...on(1, 'h2', { rack: 'r2' })], want: OK },
    // GROUP_BY without a value knows only the values seen (Marathon's behaviour)
    { name: 'GROUP_BY: nothing placed', spec: ['rack', 'GROUP_BY'], offer: agent('h1', { rack: 'r1' }), want: OK },
    { name: 'GROUP_BY: the only value seen may take more', spec: ['rack', 'GROUP_BY'], offer: agent('h1', { rack: 'r1' }), placed: on(1, 'h1', { rack: 'r1' }), want: OK },
    { name: 'GROUP_BY: a fuller seen value is refused', spec: ['rack', 'GROUP_BY'], offer: agent('h1', { rack: 'r1' }), placed: [...on(2, 'h1', { rack: 'r1' }), ...on(1, 'h2', { rack: 'r2' })], want: no('rack:GROUP_BY: rack=r1 already has 2 tasks, rack=r2 has 1') },
    { name: 'GROUP_BY: no such attribute', spec: ['rack', 'GROUP_BY', '2'], offer: agent('h1'), want: no('rack:GROUP_BY:2: agent has no attribute rack') },
  ];
  for (const c of cases) {
    it(c.name, () => assert.deepEqual(parseConstraint(c.spec).check(c.offer, c.placed ?? []), c.want));
  }
});

describe('constraints: validation names the constraint and the problem', () => {
  const cases: { name: string; spec: unknown; want: RegExp }[] = [
    { name: 'unknown operator', spec: ['rack', 'NEAR', 'r1'], want: /^constraint rack:NEAR:r1: unknown operator "NEAR"; use one of UNIQUE, CLUSTER, GROUP_BY, LIKE, UNLIKE, MAX_PER, IS$/ },
    { name: 'lower-case operator', spec: ['rack', 'unique'], want: /unknown operator "unique"/ },
    { name: 'IS without value', spec: ['rack', 'IS'], want: /^constraint rack:IS: IS needs a value$/ },
    { name: 'LIKE without value', spec: ['rack', 'LIKE'], want: /LIKE needs a value/ },
    { name: 'UNIQUE with a value', spec: ['hostname', 'UNIQUE', 'x'], want: /^constraint hostname:UNIQUE:x: UNIQUE takes no value$/ },
    { name: 'bad regex', spec: ['rack', 'LIKE', 'r[1'], want: /^constraint rack:LIKE:r\[1: "r\[1" is not a valid regular expression/ },
    { name: 'MAX_PER not a number', spec: ['rack', 'MAX_PER', 'two'], want: /^constraint rack:MAX_PER:two: MAX_PER takes a whole number ≥ 1; got "two"$/ },
    { name: 'MAX_PER fraction', spec: ['rack', 'MAX_PER', '1.5'], want: /MAX_PER takes a whole number ≥ 1; got "1.5"/ },
    { name: 'MAX_PER without value', spec: ['rack', 'MAX_PER'], want: /MAX_PER takes a whole number ≥ 1; got no value/ },
    { name: 'GROUP_BY zero', spec: ['rack', 'GROUP_BY', '0'], want: /GROUP_BY takes a whole number ≥ 1; got "0"/ },
    { name: 'GROUP_BY negative', spec: ['rack', 'GROUP_BY', '-2'], want: /GROUP_BY takes a whole number ≥ 1; got "-2"/ },
    { name: 'empty field', spec: ['', 'UNIQUE'], want: /the field is empty/ },
    { name: 'unknown @ field', spec: ['@zone', 'GROUP_BY'], want: /unknown field "@zone"; of the @ fields only @hostname exists/ },
    { name: 'one element', spec: ['rack'], want: /must be \[field, operator\] or \[field, operator, value\], all strings/ },
    { name: 'a number value', spec: ['rack', 'MAX_PER', 2], want: /all strings/ },
    { name: 'not an array', spec: 'rack:UNIQUE', want: /must be \[field, operator, value\?\] or \{attribute, operator, value\?\}/ },
    { name: 'an oversized value is not echoed', spec: ['rack', 'LIKE', 'x'.repeat(5000)], want: /the value is 5000 characters; the limit is 1024$/ },
  ];
  for (const c of cases) {
    it(c.name, () => assert.throws(() => parseConstraint(c.spec), (err: Error) => err instanceof ConstraintError && c.want.test(err.message)));
  }

  it('constraints() validates them all up front', () => {
    assert.throws(() => constraints([['hostname', 'UNIQUE'], ['rack', 'BOGUS']]), ConstraintError);
  });
});

describe('constraints: combined', () => {
  it('every refusal is reported, joined', () => {
    const where = constraints([['hostname', 'UNIQUE'], ['rack', 'IS', 'r1']]);
    assert.deepEqual(where(agent('h1', { rack: 'r2' }), on(1, 'h1')), no('hostname:UNIQUE: hostname=h1 already has 1 task; rack:IS:r1: rack=r2'));
    assert.deepEqual(where(agent('h2', { rack: 'r1' }), on(1, 'h1')), OK);
  });
});

describe('attribute predicates', () => {
  const cases: { name: string; check: ReturnType<typeof attributeExists>; offer: Offer; want: Verdict }[] = [
    { name: 'equals: same', check: attributeEquals('zone', 'a'), offer: agent('h', { zone: 'a' }), want: OK },
    { name: 'equals: other', check: attributeEquals('zone', 'a'), offer: agent('h', { zone: 'b' }), want: no('attribute zone=a: zone=b') },
    { name: 'equals: missing', check: attributeEquals('zone', 'a'), offer: agent('h'), want: no('attribute zone=a: agent has no attribute zone') },
    { name: 'exists: yes, even empty text', check: attributeExists('ssd'), offer: agent('h', { ssd: '' }), want: OK },
    { name: 'exists: no', check: attributeExists('ssd'), offer: agent('h', { zone: 'a' }), want: no('attribute ssd: agent has no attribute ssd') },
    { name: 'matches: whole value', check: attributeMatches('gpu', 'a100|h100'), offer: agent('h', { gpu: 'h100' }), want: OK },
    { name: 'matches: anchored', check: attributeMatches('gpu', 'h100'), offer: agent('h', { gpu: 'h100-sxm' }), want: no('attribute gpu~h100: gpu=h100-sxm does not match') },
    { name: 'matches: missing', check: attributeMatches('gpu', '.*'), offer: agent('h'), want: no('attribute gpu~.*: agent has no attribute gpu') },
  ];
  for (const c of cases) it(c.name, () => assert.deepEqual(c.check(c.offer, []), c.want));

  it('matches: a bad pattern throws ConstraintError', () => {
    assert.throws(() => attributeMatches('gpu', '('), ConstraintError);
  });
});
