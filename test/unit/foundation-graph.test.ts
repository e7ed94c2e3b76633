import assert from 'node:assert/strict';
import { test } from 'node:test';
import { findCycle } from '../../frameworks/foundation';

const graph = (edges: Record<string, string[]>) => (id: string) => edges[id];

test('findCycle names the path that closes a cycle, from the first id (sorted) that reaches one', () => {
  assert.deepEqual(findCycle(graph({ a: ['b'], b: ['c'], c: ['a'] }), ['b', 'a']), ['a', 'b', 'c', 'a']);
  assert.deepEqual(findCycle(graph({ a: ['a'] }), ['a']), ['a', 'a'], 'a self-dependency');
  assert.deepEqual(findCycle(graph({ a: ['b'], b: ['c'], c: ['b'] }), ['a']), ['b', 'c', 'b'], 'a cycle further down');
});

test('findCycle: none in a DAG (diamonds included), and ids outside the graph end a path', () => {
  assert.equal(findCycle(graph({ a: ['b', 'c'], b: ['d'], c: ['d'], d: [] }), ['a']), undefined);
  assert.equal(findCycle(graph({ a: ['elsewhere'] }), ['a']), undefined);
  assert.equal(findCycle(graph({}), []), undefined);
});
