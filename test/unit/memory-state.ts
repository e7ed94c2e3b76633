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
      for (const o of ops) if (o.op === 'put') kv.set(o.key, structuredClone(o.value)); else kv.delete(o.key);
    },
  } as unknown as FrameworkState;
}
