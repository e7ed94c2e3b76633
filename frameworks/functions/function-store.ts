/**
 * What mezz-functions keeps in its store (the foundation's FrameworkState,
 * under `<prefix>state/`), and how it reads it back when it leads:
 *
 *   fn/<ns>/<name>/<version>   StoredVersion   every version of every function
 *   pending/<activationId>     PendingCall     an accepted async invocation, until its activation is stored
 *   act/<activationId>         Activation      finished activations (the newest `activationsKept`)
 *
 * A pending call and its activation are written in one transaction, so an
 * accepted call is always either pending (and runs again under the next
 * leader, with the same activation id) or finished, never lost.
 */
import { type FrameworkState, type StateOp } from '../foundation/index';
import type { Activation } from './activation';
import type { StoredVersion } from './versions';

/** An async invocation accepted (202) and not yet finished: enough to run it again after a failover. */
export interface PendingCall {
  activationId: string;
  namespace: string;
  name: string;
  version: number;
  /** The parameters as invoked, the function's defaults merged under them. */
  params: Record<string, unknown>;
  subject: string;
  acceptedAt: number;
}

const seg = (s: string) => encodeURIComponent(s);
const fnPrefix = (ns: string, name: string) => `fn/${seg(ns)}/${seg(name)}/`;

export const putVersionOp = (v: StoredVersion): StateOp => ({ op: 'put', key: `${fnPrefix(v.spec.namespace, v.spec.name)}${v.version}`, value: v });
export const deleteVersionOp = (ns: string, name: string, version: number): StateOp => ({ op: 'delete', key: `${fnPrefix(ns, name)}${version}` });
export const putPendingOp = (p: PendingCall): StateOp => ({ op: 'put', key: `pending/${p.activationId}`, value: p });
export const deletePendingOp = (activationId: string): StateOp => ({ op: 'delete', key: `pending/${activationId}` });
export const putActivationOp = (a: Activation): StateOp => ({ op: 'put', key: `act/${a.activationId}`, value: a });
export const deleteActivationOp = (activationId: string): StateOp => ({ op: 'delete', key: `act/${activationId}` });

/** Every stored version, oldest first per function. */
export async function loadVersions(state: FrameworkState): Promise<StoredVersion[]> {
  return (await state.list<StoredVersion>('fn/')).map((kv) => kv.value).sort((a, b) => a.version - b.version);
}

export async function loadPending(state: FrameworkState): Promise<PendingCall[]> {
  return (await state.list<PendingCall>('pending/')).map((kv) => kv.value).sort((a, b) => a.acceptedAt - b.acceptedAt);
}

/** Stored activations, oldest first. */
export async function loadActivations(state: FrameworkState): Promise<Activation[]> {
  return (await state.list<Activation>('act/')).map((kv) => kv.value).sort((a, b) => a.end - b.end);
}
