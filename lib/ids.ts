/** Identifier generation. Ids are opaque strings with a kind prefix. */
import { randomBytes, randomUUID } from 'node:crypto';

/** e.g. newId('agent') → `agent-3f9c2a1b7d4e`. */
export function newId(kind: string): string {
  return `${kind}-${randomBytes(6).toString('hex')}`;
}

export function newUuid(): string {
  return randomUUID();
}
