/**
 * Job DAGs: refusals named, "a child runs when every parent has succeeded
 * since the child's last run" (A → {B, C} → D: D waits for both, and does
 * not run when C fails), and the graph as DOT and as a tree.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { childrenOf, dependencyErrors, dueAfterSuccess, graphDot, graphTree, isDue, type DagHistory, type DagJob } from '../../frameworks/batch/dag';

const job = (id: string, ...dependencies: string[]): DagJob => ({ id, dependencies });
const diamond = [job('a'), job('b', 'a'), job('c', 'a'), job('d', 'b', 'c')];

describe('dependencyErrors', () => {
  test('an unknown parent and a dependency on itself are named by path', () => {
    assert.deepEqual(dependencyErrors(job('x', 'nope', 'x'), diamond), [
      { path: '/dependencies/0/id', errors: ['no job nope: create it first, or remove the dependency'] },
      { path: '/dependencies/1/id', errors: ['job x cannot depend on itself'] },
    ]);
  });
  test('a change that closes a cycle is refused naming it; a DAG is fine', () => {
    assert.deepEqual(dependencyErrors(job('a', 'd'), diamond), [{ path: '/dependencies', errors: ['dependency cycle: a → d → b → a'] }]);
    assert.deepEqual(dependencyErrors(job('e', 'd', 'a'), diamond), []);
  });
});

describe('which children are due', () => {
  /** A history table: job → its runs' times. */
  const runs = (h: Record<string, DagHistory>) => (id: string) => h[id] ?? {};

  test('D of A → {B, C} → D waits for both B and C, then runs once', () => {
    const h: Record<string, DagHistory> = { a: { lastStartAt: 0, lastSuccessAt: 10 } };
    assert.deepEqual(dueAfterSuccess('a', diamond, runs(h)), ['b', 'c']);
    h.b = { lastStartAt: 11, lastSuccessAt: 20 };
    assert.deepEqual(dueAfterSuccess('b', diamond, runs(h)), [], 'C has not succeeded yet');
    assert.deepEqual(isDue(diamond[3]!, runs(h)), { due: false, why: 'waiting for c to succeed yet' });
    h.c = { lastStartAt: 11, lastSuccessAt: 25 };
    assert.deepEqual(dueAfterSuccess('c', diamond, runs(h)), ['d']);
    h.d = { lastStartAt: 26, active: true };
    assert.deepEqual(isDue(diamond[3]!, runs(h)), { due: false, why: 'a run of it is active' });
  });

  test('when C fails, D does not run; on the next round D needs both parents again, since its last run', () => {
    const h: Record<string, DagHistory> = {
      a: { lastStartAt: 0, lastSuccessAt: 10 },
      b: { lastStartAt: 11, lastSuccessAt: 20 },
      c: { lastStartAt: 11 }, // failed: started, never succeeded
    };
    assert.equal(isDue(diamond[3]!, runs(h)).due, false);
    h.c = { lastStartAt: 30, lastSuccessAt: 40 };
    h.d = { lastStartAt: 41, lastSuccessAt: 50 };
    h.b = { lastStartAt: 60, lastSuccessAt: 70 };
    assert.deepEqual(isDue(diamond[3]!, runs(h)), { due: false, why: 'waiting for c to succeed since its last run' }, 'C\'s success before D\'s last run does not count again');
  });

  test('a job without parents is never due this way; childrenOf lists the children', () => {
    assert.equal(isDue(diamond[0]!, () => ({})).due, false);
    assert.deepEqual(childrenOf('a', diamond), ['b', 'c']);
  });
});

describe('the graph as text', () => {
  test('DOT: an edge per dependency, a lone job as a node', () => {
    assert.equal(graphDot([...diamond, job('solo')]), 'digraph jobs {\n  "a";\n  "a" -> "b";\n  "a" -> "c";\n  "b" -> "d";\n  "c" -> "d";\n  "solo";\n}\n');
  });
  test('a tree from the roots; a child of several parents is shown under each, expanded once', () => {
    assert.equal(graphTree(diamond), ['a', '├── b', '│   └── d (after b, c)', '└── c', '    └── d (after b, c) …', ''].join('\n'));
  });
});
