/**
 * A FrameworkState in memory for unit tests that lead a scheduler without a
 * store: list, get and txn over a Map (values cloned as a store would).
 */
import type { FrameworkState } from '../../frameworks/foundation';

export function memoryState(kv = new Map<string, unknown>()): FrameworkState {
  return {
    list: async (prefix: string) => [...kv].filter(([k]) => k.startsWith(prefix)).map(([key, value]) => ({ key, value })),
    get: async (key: string) => kv.get(key),
    txn: async (ops: { op: string; key: string; value?: unknown }[]) => {
      // As the real stores: a transaction writes each key once.
      const keys = ops.map((o) => o.key);
      if (new Set(keys).size !== keys.length) throw new Error(`a transaction may write each key once: ${keys.filter((k, i) => keys.indexOf(k) !== i).join(', ')}`);
      for (const o of ops) if (o.op === 'put') kv.set(o.key, structuredClone(o.value)); else kv.delete(o.key);
    },
  } as unknown as FrameworkState;
}
